"""The OEM tier: per-client API keys (and their use), usage limits and the shared API rate counter."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Column, Date, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from models.base import created_at_field, fk_field, ts_field


class ApiKey(SQLModel, table=True):
    """A client's key for the REST API. Only the SHA-256 of the key is kept; it is shown once."""

    __tablename__ = "api_key"

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = fk_field("organization.id", ondelete="CASCADE")
    name: str = Field(sa_column=Column(String(100), nullable=False))
    prefix: str = Field(sa_column=Column(String(16), nullable=False))
    last_four: str = Field(sa_column=Column(String(4), nullable=False))
    key_hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    # Capability values (services/access/permissions.py Cap) the key may use.
    scopes: list[str] = Field(default_factory=list, sa_column=Column(JSONB, nullable=False))
    # The key acts for the user who made it (the audit names them), never beyond the client's organizations.
    created_by_id: int = fk_field("app_user.id", ondelete="CASCADE", index=False)
    created_at: datetime = created_at_field()
    expires_at: datetime | None = ts_field()
    revoked_at: datetime | None = ts_field()
    # Rotation: the new key's id, and when the old one stops working.
    replaced_by_id: int | None = fk_field("api_key.id", nullable=True, ondelete="SET NULL", index=False)
    grace_until: datetime | None = ts_field()
    last_used_at: datetime | None = ts_field()
    last_used_ip: str | None = Field(default=None, max_length=45)


class ApiKeyUse(SQLModel, table=True):
    """Calls made with a key, per day and client address: the usage audit and the rotation warning."""

    __tablename__ = "api_key_use"

    api_key_id: int = Field(sa_column=Column(ForeignKey("api_key.id", ondelete="CASCADE"), primary_key=True))
    day: date = Field(sa_column=Column(Date, primary_key=True))
    ip: str = Field(sa_column=Column(String(45), primary_key=True))
    user_agent: str = Field(default="", sa_column=Column(String(200), nullable=False))
    calls: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    last_at: datetime = created_at_field()


class ClientLimits(SQLModel, table=True):
    """A client's usage limits; an empty limit is unlimited."""

    __tablename__ = "client_limits"

    organization_id: int = Field(sa_column=Column(ForeignKey("organization.id", ondelete="CASCADE"),
                                                  primary_key=True))
    max_chargers: int | None = None
    max_users: int | None = None
    api_calls_per_minute: int | None = None


class ApiRateWindow(SQLModel, table=True):
    """API calls per client and minute, counted in the database so every web process shares the count."""

    __tablename__ = "api_rate_window"

    organization_id: int = Field(sa_column=Column(ForeignKey("organization.id", ondelete="CASCADE"),
                                                  primary_key=True))
    window_start: datetime = Field(sa_column=Column(DateTime(timezone=True), primary_key=True))
    calls: int = Field(default=0, sa_column=Column(Integer, nullable=False))


class CustomRole(SQLModel, table=True):
    """A client's own role: a row of the permission table held as data (a subset of the client's
    capabilities, never more than its creator's). Its users have the bound base role `cpo`."""

    __tablename__ = "custom_role"
    __table_args__ = (Index("uq_custom_role_name", "organization_id", "name", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = fk_field("organization.id", ondelete="CASCADE", index=False)
    name: str = Field(sa_column=Column(String(100), nullable=False))
    capabilities: list[str] = Field(default_factory=list, sa_column=Column(JSONB, nullable=False))
    created_at: datetime = created_at_field()  # who made it: the audit log


class AppConfig(SQLModel, table=True):
    """A client's branded (white-label) mobile app, built in the App Builder: the app fetches this with its
    API key at start-up (GET /api/v1/app/config). No push credentials here."""

    __tablename__ = "app_config"

    organization_id: int = Field(sa_column=Column(ForeignKey("organization.id", ondelete="CASCADE"),
                                                  primary_key=True))
    app_name: str = Field(sa_column=Column(String(60), nullable=False))
    logo_url: str | None = Field(default=None, max_length=500)
    primary_color: str = Field(default="#0B6E4F", sa_column=Column(String(7), nullable=False))
    accent_color: str = Field(default="#F2A541", sa_column=Column(String(7), nullable=False))
    support_email: str | None = Field(default=None, max_length=254)
    support_phone: str | None = Field(default=None, max_length=40)
    support_url: str | None = Field(default=None, max_length=500)
    terms_url: str | None = Field(default=None, max_length=500)
    privacy_url: str | None = Field(default=None, max_length=500)
    # Feature switch name → on/off (services/clients/app_config.py FEATURES).
    features: dict[str, bool] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    api_key_id: int | None = Field(default=None, sa_column=Column(ForeignKey("api_key.id", ondelete="SET NULL"),
                                                                  nullable=True, unique=True))
    updated_at: datetime = created_at_field()
