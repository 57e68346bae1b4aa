"""Partner invoices (settlement statements), their lines, status history, numbering and billing runs."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from models.base import created_at_field, fk_field, money_field, one_of, rate_field, ts_field
from models.transaction import Transaction


class InvoiceKind(StrEnum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"


class InvoiceStatus(StrEnum):
    DRAFT = "draft"
    SENT = "sent"
    PAID = "paid"
    OVERDUE = "overdue"
    VOID = "void"


class RunOutcome(StrEnum):
    MADE = "made"
    SKIPPED = "skipped"
    FAILED = "failed"


class RunTrigger(StrEnum):
    WORKER = "worker"
    BULK = "bulk"
    CLI = "cli"
    API = "api"


# Invoices select sessions by organization and stop time; this index keeps that a range scan.
Index("ix_session_org_stopped", Transaction.__table__.c.organization_id, Transaction.__table__.c.stopped_at)


class InvoiceAmounts(SQLModel):
    """What an invoice and each of its lines sum up: the sessions' count, energy and amount columns (already
    rounded per session; negative on a credit note). Declared once here; each table gets its own columns."""

    session_count: int = 0
    energy_wh: int = Field(default=0, sa_type=BigInteger, nullable=False, sa_column_kwargs={"server_default": "0"})
    amount_energy: Decimal = money_field()
    amount_time: Decimal = money_field()
    amount_session_fee: Decimal = money_field()
    amount_idle: Decimal = money_field()
    amount_subtotal: Decimal = money_field()
    amount_vat: Decimal = money_field()
    amount_ssc: Decimal = money_field()
    amount_gross: Decimal = money_field()
    amount_gateway: Decimal = money_field()
    amount_platform: Decimal = money_field()
    amount_location_owner: Decimal = money_field()
    amount_net_payable: Decimal = money_field()


# The amount columns, in order: what invoicing sums, the API shows and the page and PDF print.
AMOUNT_COLUMNS = tuple(f for f in InvoiceAmounts.model_fields if f.startswith("amount_"))


class Invoice(InvoiceAmounts, table=True):
    """One numbered document. Its content never changes once created; only its status moves.

    A correction is a credit note (kind credit_note, credits_invoice_id → the original, negated amounts)
    plus a new invoice for the same period with the next revision. A refund of an invoiced session is a
    partial credit note (refund_id → the refund; its share of the session's amounts, negated).
    """

    __tablename__ = "invoice"
    __table_args__ = (
        one_of("kind", InvoiceKind, name="ck_invoice_kind"),
        one_of("status", InvoiceStatus, name="ck_invoice_status"),
        CheckConstraint("period_end >= period_start", name="ck_invoice_period"),
        CheckConstraint("(kind = 'credit_note') = (credits_invoice_id IS NOT NULL)", name="ck_invoice_credit"),
        CheckConstraint("(status = 'void') = (void_reason IS NOT NULL)", name="ck_invoice_void_reason"),
        CheckConstraint("refund_id IS NULL OR kind = 'credit_note'", name="ck_invoice_refund"),
        # Exactly once: a period is invoiced once per organization and revision, whoever asks. Credit notes for
        # refunds are many per invoice and are kept once by their refund instead.
        Index("uq_invoice_period", "organization_id", "kind", "period_start", "period_end", "revision", unique=True,
              postgresql_where=text("refund_id IS NULL")),
        # Gap-free numbering: one sequence per organization, each number used once.
        Index("uq_invoice_seq", "organization_id", "seq", unique=True),
        # An invoice is credited in full at most once (a correction); refunds add partial credit notes.
        Index("uq_invoice_credits", "credits_invoice_id", unique=True, postgresql_where=text("refund_id IS NULL")),
        Index("ix_invoice_credits_partial", "credits_invoice_id", postgresql_where=text("refund_id IS NOT NULL")),
        # A refund is credited once, whatever retries or duplicate webhooks confirm it.
        Index("uq_invoice_refund", "refund_id", unique=True, postgresql_where=text("refund_id IS NOT NULL")),
        Index("ix_invoice_status_due", "status", "due_date"),
    )

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = fk_field("organization.id", ondelete="RESTRICT", index=False)
    kind: str = Field(default=InvoiceKind.INVOICE, sa_column=Column(String(16), nullable=False))
    seq: int = Field(sa_column=Column(Integer, nullable=False))
    number: str = Field(sa_column=Column(String(100), nullable=False))
    revision: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    status: str = Field(default=InvoiceStatus.DRAFT, sa_column=Column(String(16), nullable=False))
    void_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    credits_invoice_id: int | None = Field(default=None, sa_column=Column(
        Integer, ForeignKey("invoice.id", ondelete="RESTRICT"), nullable=True))
    correction_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # A partial credit note for one refund of one session of `credits_invoice_id` (ADR 0011).
    refund_id: int | None = fk_field("payment_refund.id", nullable=True, ondelete="RESTRICT", index=False)

    period_start: date = Field(sa_column=Column(Date, nullable=False))
    period_end: date = Field(sa_column=Column(Date, nullable=False))  # inclusive, in the organization's timezone
    issue_date: date = Field(sa_column=Column(Date, nullable=False))
    due_date: date = Field(sa_column=Column(Date, nullable=False))
    payment_terms_days: int = 30
    currency: str = Field(sa_column=Column(String(3), nullable=False))
    timezone: str = Field(sa_column=Column(String(64), nullable=False))

    # Both parties and the rates as they were when the invoice was made: the PDF prints these.
    platform_party: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    customer_party: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    vat_rate: Decimal = rate_field("0")
    ssc_levy_rate: Decimal = rate_field("0")
    platform_commission_rate: Decimal = rate_field("0")
    # Totals (session_count, energy_wh, amount_*): see InvoiceAmounts.

    created_by_id: int | None = fk_field("app_user.id", nullable=True, ondelete="SET NULL", index=False)
    created_at: datetime = created_at_field()
    sent_at: datetime | None = ts_field()
    paid_at: datetime | None = ts_field()


class InvoiceLine(InvoiceAmounts, table=True):
    """One charger's sessions in the period, split by tariff component and by who gets what."""

    __tablename__ = "invoice_line"

    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(), primary_key=True))
    invoice_id: int = fk_field("invoice.id", ondelete="CASCADE")
    position: int = 0
    charger_id: int | None = fk_field("charger.id", nullable=True, ondelete="SET NULL", index=False)
    description: str = Field(sa_column=Column(String(300), nullable=False))
    # Its sums (session_count, energy_wh, amount_*): see InvoiceAmounts.


class InvoiceStatusChange(SQLModel, table=True):
    """Who moved an invoice to which status, when and why. changed_by_id None means the system (worker)."""

    __tablename__ = "invoice_status_change"

    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(), primary_key=True))
    invoice_id: int = fk_field("invoice.id", ondelete="CASCADE")
    from_status: str | None = Field(default=None, max_length=16)
    to_status: str = Field(max_length=16)
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    changed_by_id: int | None = fk_field("app_user.id", nullable=True, ondelete="SET NULL", index=False)
    changed_at: datetime = created_at_field()


class InvoiceNumberSequence(SQLModel, table=True):
    """The last number used per organization. Locked FOR UPDATE by the transaction that takes the next one,
    so numbers are gap-free (a rolled-back invoice rolls back its number too) and never duplicated."""

    __tablename__ = "invoice_number_sequence"

    organization_id: int = Field(sa_column=Column(Integer, ForeignKey("organization.id", ondelete="CASCADE"),
                                                  primary_key=True))
    last_value: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))


class BillingRun(SQLModel, table=True):
    """One attempt to invoice one organization for one period, and what came of it."""

    __tablename__ = "billing_run"
    __table_args__ = (
        one_of("outcome", RunOutcome, name="ck_billing_run_outcome"),
        one_of("trigger", RunTrigger, name="ck_billing_run_trigger"),
        Index("ix_billing_run_org_period", "organization_id", "period_end"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(), primary_key=True))
    batch: str = Field(sa_column=Column(String(36), nullable=False, index=True))
    organization_id: int = fk_field("organization.id", ondelete="CASCADE", index=False)
    period_start: date = Field(sa_column=Column(Date, nullable=False))
    period_end: date = Field(sa_column=Column(Date, nullable=False))
    trigger: str = Field(sa_column=Column(String(16), nullable=False))
    outcome: str = Field(sa_column=Column(String(16), nullable=False))
    reason: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    invoice_id: int | None = fk_field("invoice.id", nullable=True, ondelete="SET NULL", index=False)
    user_id: int | None = fk_field("app_user.id", nullable=True, ondelete="SET NULL", index=False)
    started_at: datetime = created_at_field()
    finished_at: datetime | None = ts_field()
