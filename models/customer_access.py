"""How customers reach a tenant platform: its support links, the one-time links mailed to customers, and the
record of what a customer accepted when joining.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Column, DateTime, ForeignKey, Index, Integer, String, text
from sqlmodel import Field, SQLModel

from models.base import created_at_field, fk_field, ts_field

CUSTOMER_TOKEN_PURPOSES = ("invite", "verify")


class SupportLinks(SQLModel, table=True):
    """Settings → Support links of one organization. Sign-up and invitations stay closed until the Terms of Use
    and Privacy policy links are set. Each link's version goes up when its URL changes, so an acceptance
    names the exact text accepted."""

    __tablename__ = "support_links"

    organization_id: int = Field(sa_column=Column(ForeignKey("organization.id", ondelete="CASCADE"),
                                                  primary_key=True))
    terms_url: str = Field(default="", sa_column=Column(String(500), nullable=False, server_default=""))
    terms_version: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default=text("0")))
    privacy_url: str = Field(default="", sa_column=Column(String(500), nullable=False, server_default=""))
    privacy_version: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default=text("0")))
    support_contact: str = Field(default="", sa_column=Column(String(254), nullable=False, server_default=""))
    updated_at: datetime = created_at_field()


class CustomerToken(SQLModel, table=True):
    """A one-time link mailed to a customer user (the pattern of models/invitation.py UserToken): only the
    SHA-256 of the token is stored; used once; revoked when a newer link of the same purpose is sent."""

    __tablename__ = "customer_token"
    __table_args__ = (
        CheckConstraint(f"purpose IN {CUSTOMER_TOKEN_PURPOSES}", name="ck_customer_token_purpose"),
        CheckConstraint("expires_at > created_at", name="ck_customer_token_expiry"),
        Index("ix_customer_token_open", "customer_user_id", "purpose",
              postgresql_where=text("used_at IS NULL AND revoked_at IS NULL")),
    )

    id: int | None = Field(default=None, primary_key=True)
    customer_user_id: int = fk_field("customer_user.id", ondelete="CASCADE", index=False)
    purpose: str = Field(sa_column=Column(String(16), nullable=False))
    token_hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    created_at: datetime = created_at_field()
    expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    used_at: datetime | None = ts_field()
    revoked_at: datetime | None = ts_field()
    # The staff user who sent the invitation (None: the customer signed up itself).
    created_by_id: int | None = fk_field("app_user.id", nullable=True, ondelete="SET NULL", index=False)


class CustomerAcceptance(SQLModel, table=True):
    """A customer user accepted these versions of the Terms of Use and Privacy policy, at this time."""

    __tablename__ = "customer_acceptance"

    id: int | None = Field(default=None, primary_key=True)
    customer_user_id: int = fk_field("customer_user.id", ondelete="CASCADE")
    terms_url: str = Field(sa_column=Column(String(500), nullable=False))
    terms_version: int = Field(sa_column=Column(Integer, nullable=False))
    privacy_url: str = Field(sa_column=Column(String(500), nullable=False))
    privacy_version: int = Field(sa_column=Column(Integer, nullable=False))
    accepted_at: datetime = created_at_field()
