"""The one adapter interface every gateway implements, and what its calls answer.

Every call carries a reference derived from our own ids (`Payment.reference` plus the operation and a count),
so a retried call is recognized by the gateway and never charges twice. A call that times out raises
`GatewayTimeout`: the caller then resolves it by `query` (or a void) before anything else.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol


class Outcome(StrEnum):
    APPROVED = "approved"
    DECLINED = "declined"
    PENDING = "pending"     # accepted; the final answer comes by webhook (refunds at CyberSource)


@dataclass(frozen=True)
class Answer:
    outcome: Outcome
    gateway_reference: str | None = None   # the gateway's id of the payment (order) it acted on
    operation_reference: str | None = None  # the gateway's id of this operation, when it has one
    amount: Decimal | None = None
    message: str = ""


@dataclass(frozen=True)
class Status:
    """What the gateway knows of one of our references (a `query`)."""
    found: bool
    gateway_reference: str | None = None
    authorized: Decimal = Decimal(0)
    captured: Decimal = Decimal(0)
    refunded: Decimal = Decimal(0)
    voided: bool = False
    operations: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class WebhookEvent:
    event_id: str
    payment_reference: str | None   # our Payment.reference, when the event names it
    kind: str                        # authorized, captured, refunded, voided, declined
    amount: Decimal | None
    sequence: int | None
    payload: dict[str, Any]


@dataclass(frozen=True)
class SettlementLine:
    """One money movement on a gateway's daily settlement report: a capture (debit) or a refund (credit)."""
    payment_reference: str          # our Payment.reference
    operation_reference: str        # our reference of the operation (or the gateway's, when it keeps none)
    kind: str                       # capture or refund
    amount: Decimal
    currency: str


class GatewayError(Exception):
    """The gateway refused the request (bad amount, nothing to void); its message says why."""


class GatewayUnavailable(Exception):
    """The gateway could not be reached or answered 5xx: nothing happened there; try another or later."""


class GatewayTimeout(Exception):
    """The call went out and no answer came: it may or may not have happened. Resolve by query first."""


class ForgedWebhook(Exception):
    """A webhook whose signature or secret does not verify."""


@dataclass(frozen=True)
class Credentials:
    """Where a gateway is and how to sign for it (from the organization's gateway configuration)."""
    base_url: str
    merchant_id: str
    key_id: str = ""
    secret: str = ""
    webhook_secret: str = ""
    timeout: float = 5.0


class Gateway(Protocol):
    name: str

    def authorize(self, *, reference: str, amount: Decimal, currency: str, token: str) -> Answer: ...

    def capture(self, *, reference: str, op_reference: str, gateway_reference: str, amount: Decimal,
                currency: str) -> Answer: ...

    def void(self, *, reference: str, op_reference: str, gateway_reference: str, amount: Decimal,
             currency: str) -> Answer: ...

    def refund(self, *, reference: str, op_reference: str, gateway_reference: str, amount: Decimal,
               currency: str) -> Answer: ...

    def query(self, *, reference: str, gateway_reference: str | None) -> Status: ...

    def parse_webhook(self, *, headers: dict[str, str], body: bytes) -> WebhookEvent: ...

    def settlement(self, *, day: str) -> list[SettlementLine]:
        """The day's settled captures and refunds (YYYY-MM-DD, UTC), for reconciliation."""
        ...
