"""Which gateway takes a payment: the organization's enabled gateways whose method, BIN range, currency and
amount match, in priority order, skipping any whose circuit is open (the next one is the fallback).

The circuit breaker reads `gateway_call` rows, so every process sees the same state: a gateway whose last
PAYMENTS_CIRCUIT_FAILURES calls all failed (unreachable or timed out) is open for PAYMENTS_CIRCUIT_OPEN_SECONDS
after the last failure, then half-open (one trial call decides).
"""
from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from sqlalchemy import select
from sqlmodel import Session

from core.clock import utcnow
from core.config import get_settings
from models import GatewayCall, PaymentGateway

FAILURES = ("unavailable", "timeout")
# Dialog fuel cards go only to the Dialog gateway, and only they do.
FUEL_CARD = "fuel_card"
DIALOG = "dialog"


class Circuit(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


def circuit(session: Session, gateway_id: int) -> Circuit:
    settings = get_settings()
    last = session.execute(select(GatewayCall.outcome, GatewayCall.at).where(GatewayCall.gateway_id == gateway_id)
                           .order_by(GatewayCall.id.desc()).limit(settings.payments_circuit_failures)).all()
    if len(last) < settings.payments_circuit_failures or any(o not in FAILURES for o, _ in last):
        return Circuit.CLOSED
    age = (utcnow() - last[0][1]).total_seconds()
    return Circuit.OPEN if age < settings.payments_circuit_open_seconds else Circuit.HALF_OPEN


def matches(g: PaymentGateway, *, method: str, bin: str | None, currency: str, amount: Decimal) -> bool:
    if g.methods and method not in g.methods:
        return False
    if g.bin_prefixes and not (bin and any(bin.startswith(p) for p in g.bin_prefixes)):
        return False
    if g.currencies and currency not in g.currencies:
        return False
    if g.min_amount is not None and amount < g.min_amount:
        return False
    return g.max_amount is None or amount <= g.max_amount


def routes(session: Session, *, organization_id: int, method: str, bin: str | None, currency: str,
           amount: Decimal) -> list[PaymentGateway]:
    """The gateways to try, in order; open circuits left out."""
    fuel = method == FUEL_CARD
    candidates = session.execute(select(PaymentGateway).where(
        PaymentGateway.organization_id == organization_id, PaymentGateway.enabled.is_(True),
        (PaymentGateway.gateway == DIALOG) if fuel else (PaymentGateway.gateway != DIALOG))
        .order_by(PaymentGateway.priority, PaymentGateway.id)).scalars().all()
    return [g for g in candidates if matches(g, method=method, bin=bin, currency=currency, amount=amount)
            and circuit(session, g.id) != Circuit.OPEN]
