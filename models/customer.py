"""Customers: the people and companies who charge, in accounts under one organization (tenant platform).

The shared base for the customers, payments and notifications work: an account (with sub-accounts under it),
the users who log in to it, and the link from a charging session to the account that pays for it.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, Index, Integer, String, text
from sqlmodel import Field, SQLModel

from models.base import created_at_field, fk_field, money_field, one_of, ts_field


class AccountKind(StrEnum):
    BUSINESS = "business"
    CONSUMER = "consumer"


class SubAccountUse(StrEnum):
    """Who uses a sub-account (the documents' wording); empty on a top-level account."""
    EMPLOYEE = "employee"
    SUBSIDIARY = "subsidiary"


class AccountStatus(StrEnum):
    INVITED = "invited"
    ACTIVE = "active"
    DISABLED = "disabled"


class CustomerAccount(SQLModel, table=True):
    __tablename__ = "customer_account"
    __table_args__ = (
        one_of("kind", AccountKind, name="ck_customer_account_kind"),
        one_of("status", AccountStatus, name="ck_customer_account_status"),
        CheckConstraint("use IS NULL OR use IN ('employee', 'subsidiary')", name="ck_customer_account_use"),
        CheckConstraint("(parent_id IS NULL) = (use IS NULL)", name="ck_customer_account_sub"),
        CheckConstraint("kind <> 'business' OR (legal_name IS NOT NULL AND legal_name <> '')",
                        name="ck_customer_account_business"),
        CheckConstraint("reimbursement_rate IS NULL OR reimbursement_rate >= 0",
                        name="ck_customer_account_rate"),
        Index("ix_customer_account_org_name", "organization_id", "name"),
    )

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = fk_field("organization.id", ondelete="RESTRICT")
    parent_id: int | None = fk_field("customer_account.id", nullable=True, ondelete="RESTRICT")
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    use: str | None = Field(default=None, sa_column=Column(String(16), nullable=True))
    status: str = Field(default=AccountStatus.INVITED, sa_column=Column(String(16), nullable=False))
    name: str = Field(sa_column=Column(String(200), nullable=False))
    legal_name: str | None = Field(default=None, max_length=200)
    registration_number: str | None = Field(default=None, max_length=64)
    vat_number: str | None = Field(default=None, max_length=64)
    billing_address: str | None = Field(default=None, max_length=500)
    # Per kWh, in the organization's currency, for the sub-account's private (home charger) sessions.
    reimbursement_rate: Decimal | None = money_field(None, nullable=True)
    created_at: datetime = created_at_field()


class CustomerUserStatus(StrEnum):
    INVITED = "invited"        # an invitation link is out; no password yet
    UNVERIFIED = "unverified"  # signed up; the email is not verified, so the account cannot charge
    ACTIVE = "active"
    DISABLED = "disabled"


class CustomerUser(SQLModel, table=True):
    """A person who logs in to a customer account. Emails are unique per organization, case-insensitively."""

    __tablename__ = "customer_user"
    __table_args__ = (
        one_of("status", CustomerUserStatus, name="ck_customer_user_status"),
        CheckConstraint("role IN ('owner', 'member')", name="ck_customer_user_role"),
        CheckConstraint("email = lower(email) AND position('@' in email) > 1", name="ck_customer_user_email"),
        Index("uq_customer_user_org_email", "organization_id", "email", unique=True),
        Index("ix_customer_user_account", "account_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = fk_field("organization.id", ondelete="RESTRICT", index=False)
    account_id: int = fk_field("customer_account.id", ondelete="CASCADE", index=False)
    email: str = Field(sa_column=Column(String(254), nullable=False))
    full_name: str = Field(default="", max_length=200)
    password_hash: str | None = Field(default=None, sa_column=Column(String(100), nullable=True))
    role: str = Field(default="owner", sa_column=Column(String(16), nullable=False))
    status: str = Field(default=CustomerUserStatus.INVITED, sa_column=Column(String(16), nullable=False))
    token_version: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default=text("0")))
    email_verified_at: datetime | None = ts_field()
    created_at: datetime = created_at_field()
    last_login_at: datetime | None = ts_field()
