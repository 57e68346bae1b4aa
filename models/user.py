"""Users, their bound organizations, location owners and login throttling."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, CheckConstraint, Column, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from models.base import created_at_field, fk_field, one_of, ts_field

ROLES = ("admin", "technical", "accounts", "network_manager", "customer_support", "cpo", "location_owner")


class UserStatus(StrEnum):
    INVITED = "invited"
    ACTIVE = "active"
    DISABLED = "disabled"



class LocationOwner(SQLModel, table=True):
    """A third party hosting chargers at its premises, inside one organization."""

    __tablename__ = "location_owner"
    __table_args__ = (Index("uq_location_owner_name", "organization_id", "name", unique=True),
                      UniqueConstraint("id", "organization_id", name="uq_location_owner_id_org"))

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = fk_field("organization.id", ondelete="CASCADE")
    name: str = Field(sa_column=Column(String(200), nullable=False))
    email: str | None = Field(default=None, max_length=254)
    # Contact details (issue 14): the CPO records who to call at the premises.
    contact_name: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=40)
    address: str | None = Field(default=None, max_length=500)
    created_at: datetime = created_at_field()


class User(SQLModel, table=True):
    __tablename__ = "app_user"
    __table_args__ = (
        CheckConstraint(f"role IN {ROLES}", name="ck_user_role"),
        one_of("status", UserStatus, name="ck_user_status"),
        CheckConstraint("email = lower(email) AND position('@' in email) > 1", name="ck_user_email"),
        CheckConstraint("(role = 'location_owner') = (location_owner_id IS NOT NULL)", name="ck_user_location_owner"),
        CheckConstraint("token_version >= 0", name="ck_user_token_version"),
    )

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(sa_column=Column(String(254), nullable=False, unique=True))
    full_name: str = Field(default="", max_length=200)
    password_hash: str = Field(sa_column=Column(String(100), nullable=False))
    role: str = Field(sa_column=Column(String(32), nullable=False))
    status: str = Field(default=UserStatus.ACTIVE, sa_column=Column(String(16), nullable=False,
                                                                   server_default=UserStatus.ACTIVE.value))
    token_version: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default=text("0")))
    # A temporary password set by an administrator: every page sends the user to change it first (issue 14).
    must_change_password: bool = Field(default=False, sa_column=Column(Boolean, nullable=False,
                                                                       server_default=text("false")))
    # Self-service settings (issue 14): the zone multi-organization lists use, and how dates read.
    timezone: str | None = Field(default=None, max_length=64)
    date_format: str | None = Field(default=None, max_length=16)
    location_owner_id: int | None = fk_field("location_owner.id", nullable=True, ondelete="RESTRICT")
    created_at: datetime = created_at_field()
    # A client's custom role (models/client.py), in place of the base role's row of the permission table.
    custom_role_id: int | None = fk_field("custom_role.id", nullable=True, ondelete="RESTRICT", index=False)
    last_login_at: datetime | None = ts_field()


class UserOrganization(SQLModel, table=True):
    """The organizations a user is bound to (each includes its sub-organizations)."""

    __tablename__ = "user_organization"

    user_id: int = Field(sa_column=Column(ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True))
    organization_id: int = Field(
        sa_column=Column(ForeignKey("organization.id", ondelete="CASCADE"), primary_key=True, index=True)
    )


class LoginThrottle(SQLModel, table=True):
    """Failed logins per (email, ip), shared by every web worker through the database."""

    __tablename__ = "login_throttle"

    key: str = Field(sa_column=Column(String(400), primary_key=True))
    failures: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    window_started_at: datetime = created_at_field()
    locked_until: datetime | None = ts_field()
