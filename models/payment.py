"""Payments: wallets, a double-entry ledger, payments through gateways, their outbox and webhook inbox.

The ledger is append-only (a trigger refuses UPDATE and DELETE on `ledger_entry`): every movement is a journal
of entries in one currency summing to zero. A wallet's `balance` and `held` are caches of the sums of its
`available` and `held` entries; services/payments/ledger.py keeps them and `check_wallets` compares them.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, Column, Date, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlmodel import Field, SQLModel

from models.base import created_at_field, fk_field, money_field, one_of, ts_field


class Bucket(StrEnum):
    """A ledger account: a wallet's spendable and held money, and the money's other side."""
    AVAILABLE = "available"    # a wallet's spendable balance
    HELD = "held"              # a wallet's money held for running sessions
    CLEARING = "clearing"      # money in transit through a gateway or a manual payment
    REVENUE = "revenue"        # charging sold to customers (the organization's)


class Wallet(SQLModel, table=True):
    __tablename__ = "wallet"
    __table_args__ = (
        CheckConstraint("balance >= 0", name="ck_wallet_balance"),
        CheckConstraint("held >= 0", name="ck_wallet_held"),
        CheckConstraint("currency ~ '^[A-Z]{3}$'", name="ck_wallet_currency"),
    )

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = fk_field("organization.id", ondelete="RESTRICT")
    customer_account_id: int = Field(sa_column=Column(
        Integer, ForeignKey("customer_account.id", ondelete="RESTRICT"),
        nullable=False, unique=True))
    currency: str = Field(sa_column=Column(String(3), nullable=False))
    balance: Decimal = money_field("0")
    held: Decimal = money_field("0")
    created_at: datetime = created_at_field()


class LedgerEntry(SQLModel, table=True):
    __tablename__ = "ledger_entry"
    __table_args__ = (
        one_of("bucket", Bucket, name="ck_ledger_bucket"),
        CheckConstraint("amount <> 0", name="ck_ledger_amount"),
        CheckConstraint("(wallet_id IS NOT NULL) = (bucket IN ('available', 'held'))", name="ck_ledger_wallet"),
        Index("ix_ledger_wallet", "wallet_id", "id"),
        Index("ix_ledger_journal", "journal"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # Entries written together share a journal; each journal sums to zero.
    journal: str = Field(sa_column=Column(String(64), nullable=False))
    organization_id: int = fk_field("organization.id", ondelete="RESTRICT", index=False)
    wallet_id: int | None = fk_field("wallet.id", nullable=True, ondelete="RESTRICT", index=False)
    payment_id: int | None = fk_field("payment.id", nullable=True, ondelete="RESTRICT")
    bucket: str = Field(sa_column=Column(String(16), nullable=False))
    currency: str = Field(sa_column=Column(String(3), nullable=False))
    amount: Decimal = money_field("0")
    memo: str = Field(default="", max_length=200)
    created_at: datetime = created_at_field()


class PaymentMethod(StrEnum):
    WALLET = "wallet"
    CARD = "card"
    FUEL_CARD = "fuel_card"
    MANUAL = "manual"


class PaymentPurpose(StrEnum):
    SESSION = "session"
    TOP_UP = "top_up"


class PaymentStatus(StrEnum):
    PENDING = "pending"            # written; the gateway has not answered yet (or timed out: see `query`)
    AWAITING_APPROVAL = "awaiting_approval"  # a manual payment above the threshold, until a second user approves
    AUTHORIZED = "authorized"      # money held (a wallet hold or a card pre-authorization)
    CAPTURED = "captured"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    VOIDED = "voided"
    DECLINED = "declined"
    FAILED = "failed"


class Payment(SQLModel, table=True):
    """One payment: a session's hold and capture, or a wallet top-up. Amounts only grow; the events tell how."""

    __tablename__ = "payment"
    __table_args__ = (
        one_of("method", PaymentMethod, name="ck_payment_method"),
        one_of("purpose", PaymentPurpose, name="ck_payment_purpose"),
        one_of("status", PaymentStatus, name="ck_payment_status"),
        CheckConstraint("amount_authorized >= 0 AND amount_captured >= 0 AND amount_refunded >= 0",
                        name="ck_payment_amounts"),
        CheckConstraint("amount_refunded <= amount_captured", name="ck_payment_refund_le_capture"),
        Index("uq_payment_session", "transaction_id", unique=True,
              postgresql_where=text("purpose = 'session'")),
        Index("ix_payment_org_created", "organization_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = fk_field("organization.id", ondelete="RESTRICT", index=False)
    customer_account_id: int | None = fk_field("customer_account.id", nullable=True, ondelete="RESTRICT",
                                               index=False)
    transaction_id: int | None = fk_field("charging_session.id", nullable=True, ondelete="RESTRICT", index=False)
    wallet_id: int | None = fk_field("wallet.id", nullable=True, ondelete="RESTRICT", index=False)
    purpose: str = Field(sa_column=Column(String(16), nullable=False))
    method: str = Field(sa_column=Column(String(16), nullable=False))
    gateway: str = Field(sa_column=Column(String(16), nullable=False))
    status: str = Field(default=PaymentStatus.PENDING, sa_column=Column(String(24), nullable=False))
    currency: str = Field(sa_column=Column(String(3), nullable=False))
    amount_authorized: Decimal = money_field("0")
    amount_captured: Decimal = money_field("0")
    amount_refunded: Decimal = money_field("0")
    # Ours, derived from our ids; every gateway call for this payment carries it (idempotent retries).
    reference: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    gateway_reference: str | None = Field(default=None, max_length=128)
    card_token: str | None = Field(default=None, max_length=128)
    card_last4: str | None = Field(default=None, max_length=4)
    payment_gateway_id: int | None = fk_field("payment_gateway.id", nullable=True, ondelete="SET NULL",
                                              index=False)
    # A wallet session whose hold ran out: when RemoteStopTransaction was asked for (once).
    stop_requested_at: datetime | None = ts_field()
    note: str | None = Field(default=None, max_length=500)
    # A manual payment: who recorded it (the maker); the approver (checker) is another user.
    recorded_by_id: int | None = fk_field("app_user.id", nullable=True, ondelete="SET NULL", index=False)
    approved_by_id: int | None = fk_field("app_user.id", nullable=True, ondelete="SET NULL", index=False)
    created_at: datetime = created_at_field()
    updated_at: datetime | None = ts_field()


class PaymentEvent(SQLModel, table=True):
    """A payment's timeline: authorized, captured, refunded, voided, declined, a webhook."""

    __tablename__ = "payment_event"
    __table_args__ = (Index("ix_payment_event_payment", "payment_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    payment_id: int = fk_field("payment.id", ondelete="CASCADE", index=False)
    kind: str = Field(sa_column=Column(String(24), nullable=False))
    amount: Decimal | None = money_field(None, nullable=True)
    gateway_reference: str | None = Field(default=None, max_length=128)
    detail: str = Field(default="", max_length=500)
    created_at: datetime = created_at_field()


class IntentStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


class PaymentIntent(SQLModel, table=True):
    """The outbox between a session and its payment: written with the Start/StopTransaction, done by the worker
    (so no gateway call runs on the OCPP event loop)."""

    __tablename__ = "payment_intent"
    __table_args__ = (
        one_of("status", IntentStatus, name="ck_payment_intent_status"),
        CheckConstraint("action IN ('start', 'stop')", name="ck_payment_intent_action"),
        UniqueConstraint("transaction_id", "action", name="uq_payment_intent"),
        Index("ix_payment_intent_pending", "id", postgresql_where=text("status = 'pending'")),
    )

    id: int | None = Field(default=None, primary_key=True)
    transaction_id: int = fk_field("charging_session.id", ondelete="CASCADE", index=False)
    action: str = Field(sa_column=Column(String(8), nullable=False))
    status: str = Field(default=IntentStatus.PENDING, sa_column=Column(String(16), nullable=False))
    attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default=text("0")))
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = created_at_field()
    done_at: datetime | None = ts_field()


class WebhookInbox(SQLModel, table=True):
    """Webhooks as received, once per provider event id, applied in order of the provider's own sequence."""

    __tablename__ = "webhook_inbox"
    __table_args__ = (UniqueConstraint("gateway", "event_id", name="uq_webhook_event"),)

    id: int | None = Field(default=None, primary_key=True)
    gateway: str = Field(sa_column=Column(String(16), nullable=False))
    event_id: str = Field(sa_column=Column(String(128), nullable=False))
    payment_reference: str | None = Field(default=None, max_length=64)
    payload: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    received_at: datetime = created_at_field()
    applied_at: datetime | None = ts_field()
    outcome: str | None = Field(default=None, max_length=200)


class PaymentCard(SQLModel, table=True):
    """A customer account's saved card: the gateway's token only (never the number). Sessions of an account
    with a default card are paid by card; otherwise from its wallet."""

    __tablename__ = "payment_card"
    __table_args__ = (Index("ix_payment_card_account", "customer_account_id"),)

    id: int | None = Field(default=None, primary_key=True)
    customer_account_id: int = fk_field("customer_account.id", ondelete="CASCADE", index=False)
    brand: str = Field(sa_column=Column(String(16), nullable=False))
    bin: str = Field(sa_column=Column(String(8), nullable=False))
    last4: str = Field(sa_column=Column(String(4), nullable=False))
    token: str = Field(sa_column=Column(String(128), nullable=False))
    is_default: bool = True
    created_at: datetime = created_at_field()


class GatewayName(StrEnum):
    CYBERSOURCE = "cybersource"
    AMEX = "amex"
    DIALOG = "dialog"


class PaymentGateway(SQLModel, table=True):
    """One gateway as an organization configured it: where it is, its credentials (encrypted, shown again only
    as their last four characters), its place in the routing order and its rate limit."""

    __tablename__ = "payment_gateway"
    __table_args__ = (
        one_of("gateway", GatewayName, name="ck_payment_gateway_name"),
        UniqueConstraint("organization_id", "gateway", name="uq_payment_gateway_org"),
        CheckConstraint("rate_limit_per_second > 0", name="ck_payment_gateway_rate"),
        CheckConstraint("min_amount IS NULL OR max_amount IS NULL OR min_amount <= max_amount",
                        name="ck_payment_gateway_amounts"),
    )

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = fk_field("organization.id", ondelete="CASCADE", index=False)
    gateway: str = Field(sa_column=Column(String(16), nullable=False))
    enabled: bool = True
    # Routing: lower first; a gateway is tried when the payment's method, currency and amount match.
    priority: int = 100
    base_url: str = Field(sa_column=Column(String(300), nullable=False))
    merchant_id: str = Field(sa_column=Column(String(100), nullable=False))
    key_id: str = Field(default="", sa_column=Column(String(100), nullable=False, server_default=""))
    # Fernet token of {"secret": ..., "webhook_secret": ...} (services/payments/secrets.py).
    credentials: str = Field(sa_column=Column(String(2000), nullable=False))
    credentials_last4: str = Field(default="", sa_column=Column(String(4), nullable=False, server_default=""))
    # Empty lists mean any. Methods: card brands (visa, mastercard, amex) and fuel_card.
    methods: list[str] = Field(default_factory=list, sa_column=Column(ARRAY(String(16)), nullable=False,
                                                                      server_default=text("'{}'")))
    bin_prefixes: list[str] = Field(default_factory=list, sa_column=Column(ARRAY(String(8)), nullable=False,
                                                                           server_default=text("'{}'")))
    currencies: list[str] = Field(default_factory=list, sa_column=Column(ARRAY(String(3)), nullable=False,
                                                                         server_default=text("'{}'")))
    min_amount: Decimal | None = money_field(None, nullable=True)
    max_amount: Decimal | None = money_field(None, nullable=True)
    rate_limit_per_second: int = Field(default=20, sa_column=Column(Integer, nullable=False,
                                                                    server_default=text("20")))
    created_at: datetime = created_at_field()
    updated_at: datetime | None = ts_field()


class GatewayCall(SQLModel, table=True):
    """Every call to a gateway with its outcome and latency: the dashboard's health, and the circuit breaker
    (shared by every process because it reads these rows)."""

    __tablename__ = "gateway_call"
    __table_args__ = (Index("ix_gateway_call_gateway_at", "gateway_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    gateway_id: int = fk_field("payment_gateway.id", ondelete="CASCADE", index=False)
    # No foreign key: the call is recorded in its own transaction, before the payment's may have committed.
    payment_id: int | None = None
    operation: str = Field(sa_column=Column(String(16), nullable=False))
    # approved, declined, pending, error (refused by the gateway), unavailable, timeout
    outcome: str = Field(sa_column=Column(String(16), nullable=False))
    latency_ms: int = 0
    at: datetime = created_at_field()


class RefundStatus(StrEnum):
    AWAITING_APPROVAL = "awaiting_approval"  # above the threshold: a second user approves it
    PENDING = "pending"                      # sent; the gateway confirms by webhook
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REJECTED = "rejected"                    # the approver said no


class Refund(SQLModel, table=True):
    """A full or partial refund of a captured payment, linked to its session. Refunds of one payment never add up
    to more than was captured (checked under the payment's row lock)."""

    __tablename__ = "payment_refund"
    __table_args__ = (
        one_of("status", RefundStatus, name="ck_refund_status"),
        CheckConstraint("amount > 0", name="ck_refund_amount"),
        CheckConstraint("approved_by_id IS NULL OR approved_by_id <> requested_by_id", name="ck_refund_checker"),
        Index("ix_refund_payment", "payment_id"),
        # Invoicing looks for an organization's refunds given back before their session was invoiced.
        Index("ix_refund_org_succeeded", "organization_id", postgresql_where=text("status = 'succeeded'")),
    )

    id: int | None = Field(default=None, primary_key=True)
    payment_id: int = fk_field("payment.id", ondelete="RESTRICT", index=False)
    organization_id: int = fk_field("organization.id", ondelete="RESTRICT", index=False)
    transaction_id: int | None = fk_field("charging_session.id", nullable=True, ondelete="RESTRICT", index=False)
    amount: Decimal = money_field("0")
    currency: str = Field(sa_column=Column(String(3), nullable=False))
    reason: str = Field(sa_column=Column(String(500), nullable=False))
    status: str = Field(sa_column=Column(String(24), nullable=False))
    requested_by_id: int | None = fk_field("app_user.id", nullable=True, ondelete="SET NULL", index=False)
    approved_by_id: int | None = fk_field("app_user.id", nullable=True, ondelete="SET NULL", index=False)
    # `<payment reference>.refund<n>`: the idempotency key of the gateway call.
    reference: str = Field(sa_column=Column(String(80), nullable=False, unique=True))
    gateway_reference: str | None = Field(default=None, max_length=128)
    message: str | None = Field(default=None, max_length=300)
    created_at: datetime = created_at_field()
    updated_at: datetime | None = ts_field()


class ReconciliationStatus(StrEnum):
    MATCHED = "matched"          # the gateway's report and our ledger agree for the day
    MISMATCHED = "mismatched"    # at least one mismatch (listed)
    FAILED = "failed"            # the report could not be read; tried again on the next run


class ReconciliationRun(SQLModel, table=True):
    """One gateway's day compared with our ledger: once per gateway and day (a re-run replaces it)."""

    __tablename__ = "reconciliation_run"
    __table_args__ = (
        one_of("status", ReconciliationStatus, name="ck_reconciliation_run_status"),
        UniqueConstraint("gateway_id", "day", name="uq_reconciliation_run"),
        Index("ix_reconciliation_run_org_day", "organization_id", "day"),
    )

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = fk_field("organization.id", ondelete="CASCADE", index=False)
    gateway_id: int = fk_field("payment_gateway.id", ondelete="CASCADE", index=False)
    gateway: str = Field(sa_column=Column(String(16), nullable=False))
    day: date = Field(sa_column=Column(Date, nullable=False))
    status: str = Field(sa_column=Column(String(16), nullable=False))
    gateway_lines: int = 0
    ledger_payments: int = 0
    mismatches: int = 0
    message: str | None = Field(default=None, max_length=300)
    ran_at: datetime = created_at_field()


class MismatchKind(StrEnum):
    MISSING_IN_LEDGER = "missing_in_ledger"    # the gateway moved money we have no ledger entry for
    MISSING_AT_GATEWAY = "missing_at_gateway"  # our ledger moved money the gateway's report does not show
    AMOUNT_DIFFERS = "amount_differs"          # both know the payment, with different net amounts or currency


class ReconciliationMismatch(SQLModel, table=True):
    """One payment whose day at the gateway differs from its day in our ledger."""

    __tablename__ = "reconciliation_mismatch"
    __table_args__ = (
        one_of("kind", MismatchKind, name="ck_reconciliation_mismatch_kind"),
        Index("ix_reconciliation_mismatch_run", "run_id"),
        Index("ix_reconciliation_mismatch_org_day", "organization_id", "day"),
    )

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = fk_field("reconciliation_run.id", ondelete="CASCADE", index=False)
    organization_id: int = fk_field("organization.id", ondelete="CASCADE", index=False)
    gateway: str = Field(sa_column=Column(String(16), nullable=False))
    day: date = Field(sa_column=Column(Date, nullable=False))
    payment_reference: str = Field(sa_column=Column(String(64), nullable=False))
    payment_id: int | None = fk_field("payment.id", nullable=True, ondelete="SET NULL", index=False)
    kind: str = Field(sa_column=Column(String(24), nullable=False))
    currency: str = Field(sa_column=Column(String(3), nullable=False))
    gateway_amount: Decimal | None = money_field(None, nullable=True)
    ledger_amount: Decimal | None = money_field(None, nullable=True)
    detail: str = Field(default="", max_length=300)
