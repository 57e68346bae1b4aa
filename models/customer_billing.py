"""What a customer account holds and pays: charging assets (cards, home chargers) each on a billing plan or
on the account's enterprise plan, subscription invoices, and reimbursement statements of sub-accounts.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Column, Date, ForeignKey, Index, Integer, String, text
from sqlmodel import Field, SQLModel

from models.base import created_at_field, fk_field, money_field, one_of, ts_field


class PlanInterval(StrEnum):
    MONTH = "month"
    YEAR = "year"


class FeeKind(StrEnum):
    FIXED = "fixed"
    PERCENT = "percent"


class BillingPlan(SQLModel, table=True):
    """An organization's plan catalogue entry: a price per interval, an optional fee per session, and which
    assets may take it."""

    __tablename__ = "billing_plan"
    __table_args__ = (
        one_of("interval", PlanInterval, name="ck_billing_plan_interval"),
        CheckConstraint("fee_kind IS NULL OR fee_kind IN ('fixed', 'percent')", name="ck_billing_plan_fee_kind"),
        CheckConstraint("price >= 0 AND (session_fee IS NULL OR session_fee >= 0)", name="ck_billing_plan_prices"),
        CheckConstraint("(fee_kind IS NULL) = (session_fee IS NULL)", name="ck_billing_plan_fee"),
        CheckConstraint("for_card OR for_ac OR for_dc", name="ck_billing_plan_eligible"),
        Index("uq_billing_plan_name", "organization_id", "name", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = fk_field("organization.id", ondelete="CASCADE", index=False)
    name: str = Field(sa_column=Column(String(100), nullable=False))
    price: Decimal = money_field()
    interval: str = Field(default=PlanInterval.MONTH, sa_column=Column(String(8), nullable=False))
    session_fee: Decimal | None = money_field(None, nullable=True)
    fee_kind: str | None = Field(default=None, sa_column=Column(String(8), nullable=True))
    for_card: bool = Field(default=True, sa_column=Column(Boolean, nullable=False))
    for_ac: bool = Field(default=True, sa_column=Column(Boolean, nullable=False))
    for_dc: bool = Field(default=True, sa_column=Column(Boolean, nullable=False))
    # A deactivated plan is no longer offered; the assets already on it keep it (and are billed on it).
    active: bool = Field(default=True, sa_column=Column(Boolean, nullable=False, server_default=text("true")))
    created_at: datetime = created_at_field()


class AssetKind(StrEnum):
    CARD = "card"
    CHARGER = "charger"


class EnterprisePlan(SQLModel, table=True):
    """A custom subscription for a whole account, instead of a plan per asset."""

    __tablename__ = "enterprise_plan"
    __table_args__ = (CheckConstraint("price_per_asset >= 0", name="ck_enterprise_plan_price"),)

    account_id: int = Field(sa_column=Column(ForeignKey("customer_account.id", ondelete="CASCADE"),
                                             primary_key=True))
    organization_id: int = fk_field("organization.id", ondelete="CASCADE")
    price_per_asset: Decimal = money_field()
    public_charging: bool = Field(default=True, sa_column=Column(Boolean, nullable=False))
    started_on: date = Field(sa_column=Column(Date, nullable=False))
    created_at: datetime = created_at_field()


class ChargingAsset(SQLModel, table=True):
    """A card (an idTag) or a charger a customer account activated, on a billing plan (or the account's
    enterprise plan: plan_id NULL). A card or charger is active on one account at a time."""

    __tablename__ = "charging_asset"
    __table_args__ = (
        one_of("kind", AssetKind, name="ck_charging_asset_kind"),
        CheckConstraint("(kind = 'card') = (id_tag_id IS NOT NULL) AND (kind = 'charger') = (charger_id IS NOT NULL)",
                        name="ck_charging_asset_target"),
        Index("uq_charging_asset_card", "id_tag_id", unique=True, postgresql_where=text("deactivated_at IS NULL")),
        Index("uq_charging_asset_charger", "charger_id", unique=True,
              postgresql_where=text("deactivated_at IS NULL")),
        Index("ix_charging_asset_account", "account_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = fk_field("organization.id", ondelete="RESTRICT", index=False)
    account_id: int = fk_field("customer_account.id", ondelete="CASCADE", index=False)
    kind: str = Field(sa_column=Column(String(8), nullable=False))
    id_tag_id: int | None = fk_field("id_tag.id", nullable=True, ondelete="RESTRICT", index=False)
    charger_id: int | None = fk_field("charger.id", nullable=True, ondelete="RESTRICT", index=False)
    plan_id: int | None = fk_field("billing_plan.id", nullable=True, ondelete="RESTRICT", index=False)
    activated_at: datetime = created_at_field()
    deactivated_at: datetime | None = ts_field()


class ChargerClaimCode(SQLModel, table=True):
    """The code that proves a customer holds a charger: shown on the charger's detail page, or set by the
    operator. Not a secret of the platform (it is printed on the charger), so it is stored as it is."""

    __tablename__ = "charger_claim_code"

    charger_id: int = Field(sa_column=Column(ForeignKey("charger.id", ondelete="CASCADE"), primary_key=True))
    code: str = Field(sa_column=Column(String(32), nullable=False))
    set_at: datetime = created_at_field()


class CustomerInvoice(SQLModel, table=True):
    """A customer's subscription invoice for one billing period of its organization; made once (unique)."""

    __tablename__ = "customer_invoice"
    __table_args__ = (
        Index("uq_customer_invoice_period", "account_id", "period_start", "period_end", unique=True),
        Index("uq_customer_invoice_seq", "organization_id", "seq", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = fk_field("organization.id", ondelete="RESTRICT", index=False)
    account_id: int = fk_field("customer_account.id", ondelete="RESTRICT", index=False)
    seq: int = Field(sa_column=Column(Integer, nullable=False))
    number: str = Field(sa_column=Column(String(100), nullable=False))
    period_start: date = Field(sa_column=Column(Date, nullable=False))
    period_end: date = Field(sa_column=Column(Date, nullable=False))
    currency: str = Field(sa_column=Column(String(3), nullable=False))
    total: Decimal = money_field()
    created_at: datetime = created_at_field()


class CustomerInvoiceLine(SQLModel, table=True):
    __tablename__ = "customer_invoice_line"

    id: int | None = Field(default=None, primary_key=True)
    invoice_id: int = fk_field("customer_invoice.id", ondelete="CASCADE")
    position: int = Field(sa_column=Column(Integer, nullable=False))
    description: str = Field(sa_column=Column(String(300), nullable=False))
    quantity: int = Field(sa_column=Column(Integer, nullable=False))
    amount: Decimal = money_field()


class CustomerInvoiceSequence(SQLModel, table=True):
    """Gap-free customer invoice numbers per organization; the row is locked while an invoice is made."""

    __tablename__ = "customer_invoice_sequence"

    organization_id: int = Field(sa_column=Column(ForeignKey("organization.id", ondelete="CASCADE"),
                                                  primary_key=True))
    last_value: int = Field(default=0, sa_column=Column(Integer, nullable=False))


class CustomerRun(SQLModel, table=True):
    """A period the billing worker has done for an organization: subscription invoices or reimbursement
    statements. Inserted first in the run's transaction, so a second worker waits and then skips."""

    __tablename__ = "customer_run"
    __table_args__ = (
        CheckConstraint("kind IN ('subscriptions', 'reimbursements')", name="ck_customer_run_kind"),
        Index("uq_customer_run", "organization_id", "kind", "period_start", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = fk_field("organization.id", ondelete="CASCADE", index=False)
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    period_start: date = Field(sa_column=Column(Date, nullable=False))
    period_end: date = Field(sa_column=Column(Date, nullable=False))
    created_at: datetime = created_at_field()


class StatementStatus(StrEnum):
    PAYABLE = "payable"  # automated (Employee): a payable line, to be paid out
    AWAITING = "awaiting"  # manual (Subsidiary): an Accounts user marks it paid
    PAID = "paid"


class ReimbursementStatement(SQLModel, table=True):
    """A sub-account's private (home charger) charging of one month: kWh × its rate, rounded once."""

    __tablename__ = "reimbursement_statement"
    __table_args__ = (
        one_of("status", StatementStatus, name="ck_reimbursement_status"),
        Index("uq_reimbursement_month", "account_id", "period_start", unique=True),
        Index("ix_reimbursement_org", "organization_id", "period_start"),
    )

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = fk_field("organization.id", ondelete="RESTRICT", index=False)
    account_id: int = fk_field("customer_account.id", ondelete="RESTRICT", index=False)
    period_start: date = Field(sa_column=Column(Date, nullable=False))
    period_end: date = Field(sa_column=Column(Date, nullable=False))
    session_count: int = Field(sa_column=Column(Integer, nullable=False))
    energy_wh: int = Field(sa_column=Column(BigInteger, nullable=False))
    rate: Decimal = money_field()
    amount: Decimal = money_field()
    currency: str = Field(sa_column=Column(String(3), nullable=False))
    status: str = Field(sa_column=Column(String(16), nullable=False))
    paid_at: datetime | None = ts_field()
    paid_by_id: int | None = fk_field("app_user.id", nullable=True, ondelete="SET NULL", index=False)
    created_at: datetime = created_at_field()
