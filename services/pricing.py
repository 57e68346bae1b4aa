"""Pricing a finished session. Placeholder until the tariff engine lands (issue 4):
prices energy only at the charger's (or organization's default) tariff, with no taxes or split.

The contract the OCPP server relies on: `price_session(session=, transaction=)` fills the amount
columns of a completed Transaction exactly once and is a no-op when it is already priced.
"""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlmodel import Session

from models import Charger, Organization, Tariff, Transaction
from services.clock import utcnow
from services.money import round_money


def price_session(*, session: Session, transaction: Transaction) -> None:
    if transaction.priced_at is not None or transaction.status != "completed":
        return
    charger = session.get(Charger, transaction.charger_id)
    org = session.get(Organization, transaction.organization_id)
    tariff = session.get(Tariff, charger.tariff_id) if charger.tariff_id else session.execute(
        select(Tariff).where(Tariff.organization_id == org.id, Tariff.is_default)).scalars().first()
    kwh = Decimal(max(transaction.energy_wh or 0, 0)) / 1000
    energy = round_money(kwh * (tariff.price_per_kwh if tariff else Decimal(0)), org.currency)
    zero = Decimal(0)
    transaction.tariff_id = tariff.id if tariff else None
    transaction.currency = org.currency
    transaction.amount_energy = transaction.amount_subtotal = transaction.amount_gross = energy
    transaction.amount_net_cpo = energy
    transaction.amount_time = transaction.amount_session_fee = transaction.amount_idle = zero
    transaction.amount_vat = transaction.amount_ssc = transaction.amount_gateway = zero
    transaction.amount_platform = transaction.amount_location_owner = zero
    transaction.price_breakdown = {"energy_kwh": str(kwh), "note": "energy only (placeholder pricing)"}
    transaction.priced_at = utcnow()
    session.add(transaction)
