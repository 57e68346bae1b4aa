"""Factories for test data. Each returns committed rows."""
from __future__ import annotations

import itertools

from sqlmodel import Session

from models import Charger, LocationOwner, Organization, User
from services.access import organizations as org_svc
from services.access import users as user_svc
from services.network import chargers as charger_svc

PASSWORD = "correct-horse-battery"
_seq = itertools.count(1)


def make_operator(session: Session) -> Organization:
    existing = org_svc.get_by_slug(session=session, slug="operator")
    if existing:
        return existing
    org = org_svc.create_organization(session=session, name="Operator", slug="operator", currency="USD",
                                      timezone="UTC")
    session.commit()
    return org


def make_org(session: Session, *, slug: str | None = None, currency: str = "EUR", timezone: str = "Europe/Berlin",
             parent: Organization | None = None, **fields) -> Organization:
    parent = parent or make_operator(session)
    slug = slug or f"org-{next(_seq)}"
    org = org_svc.create_organization(session=session, name=slug.replace("-", " ").title(), slug=slug,
                                      currency=currency, timezone=timezone, parent_slug=parent.slug, **fields)
    session.commit()
    return org


def make_user(session: Session, *, role: str, orgs: list[Organization] | None = None, email: str | None = None,
              location_owner: LocationOwner | None = None, password: str = PASSWORD) -> User:
    email = email or f"{role}-{next(_seq)}@example.test"
    user = user_svc.create_user(session=session, email=email, password=password, role=role,
                                org_slugs=[o.slug for o in orgs or []],
                                location_owner_id=location_owner.id if location_owner else None)
    session.commit()
    return user


def make_location_owner(session: Session, org: Organization, name: str | None = None) -> LocationOwner:
    owner = user_svc.create_location_owner(session=session, organization=org, name=name or f"Owner {next(_seq)}")
    session.commit()
    return owner


def make_charger(session: Session, org: Organization, *, ocpp_id: str | None = None,
                 location_owner: LocationOwner | None = None, auth_key: str = "test-auth-key-0123456789",
                 **fields) -> Charger:
    charger, _ = charger_svc.register_charger(
        session=session, ocpp_id=ocpp_id or f"CP-{next(_seq):04d}", organization=org, auth_key=auth_key,
        location_owner_id=location_owner.id if location_owner else None, **fields)
    session.commit()
    return charger


# ---------------------------------------------------------------------------------------------
# Pricing and transactions (issue 4): tariffs, commission contracts, sessions with meter values.
# ---------------------------------------------------------------------------------------------
from datetime import datetime as _datetime  # noqa: E402
from decimal import Decimal as _Decimal  # noqa: E402

from models import ChargerStatusEvent, CommissionContract, MeterValue, Tariff, Transaction  # noqa: E402
from services.charging import pricing as _pricing  # noqa: E402


def make_tariff(session: Session, org: Organization, *, name: str | None = None, is_default: bool = True,
                **prices) -> Tariff:
    """A tariff row as it is (no revision: pricing then uses the row's own prices)."""
    fields = {k: (_Decimal(str(v)) if k in ("price_per_kwh", "price_per_minute", "session_fee",
                                            "idle_fee_per_minute") else v) for k, v in prices.items()}
    tariff = Tariff(organization_id=org.id, name=name or f"Tariff {next(_seq)}", is_default=is_default, **fields)
    session.add(tariff)
    session.commit()
    return tariff


def make_contract(session: Session, org: Organization, *, rate, effective_from: _datetime, kind: str = "platform",
                  location_owner: LocationOwner | None = None, charger: Charger | None = None) -> CommissionContract:
    contract = CommissionContract(organization_id=org.id, kind=kind, rate=_Decimal(str(rate)),
                                  effective_from=effective_from,
                                  location_owner_id=location_owner.id if location_owner else None,
                                  charger_id=charger.id if charger else None)
    session.add(contract)
    session.commit()
    return contract


def make_transaction(session: Session, charger: Charger, *, started_at: _datetime, stopped_at: _datetime | None = None,
                     energy_wh: int | None = None, meter_start: int = 0, connector_id: int = 1, id_tag: str = "TAG-1",
                     meter_values: list[tuple[_datetime, int]] = (), power_values: list[tuple[_datetime, int]] = (),
                     statuses: list[tuple[_datetime, str]] = (), flags: list[str] = (), stop_reason: str | None = None,
                     price: bool = True) -> Transaction:
    """A session as the OCPP server leaves it: completed when stopped_at is given, then priced.

    meter_values are (timestamp, register Wh); power_values (timestamp, W); statuses are the
    connector's StatusNotifications. The location owner is snapshotted from the charger."""
    org = session.get(Organization, charger.organization_id)
    completed = stopped_at is not None
    if energy_wh is None and completed:
        energy_wh = (meter_values[-1][1] - meter_start) if meter_values else 0
    tx = Transaction(charger_id=charger.id, organization_id=org.id, connector_id=connector_id, id_tag=id_tag,
                     status="completed" if completed else "active", meter_start=meter_start,
                     meter_stop=meter_start + energy_wh if completed else None,
                     energy_wh=energy_wh if completed else None,
                     started_at=started_at, stopped_at=stopped_at, stop_reason=stop_reason, flags=list(flags),
                     location_owner_id=charger.location_owner_id, currency=org.currency)
    session.add(tx)
    session.flush()
    for ts, wh in meter_values:
        session.add(MeterValue(charger_id=charger.id, connector_id=connector_id, transaction_id=tx.id, timestamp=ts,
                               value=_Decimal(wh), unit="Wh"))
    for ts, w in power_values:
        session.add(MeterValue(charger_id=charger.id, connector_id=connector_id, transaction_id=tx.id, timestamp=ts,
                               measurand="Power.Active.Import", value=_Decimal(w), unit="W"))
    for ts, status in statuses:
        session.add(ChargerStatusEvent(charger_id=charger.id, connector_id=connector_id, status=status,
                                       occurred_at=ts, received_at=ts))
    session.flush()
    if completed and price:
        _pricing.price_transaction(session=session, transaction=tx)
    session.commit()
    return tx


def stop_transaction(session: Session, tx: Transaction, *, stopped_at: _datetime, energy_wh: int) -> Transaction:
    """What the OCPP server does at StopTransaction: complete the session and price it."""
    tx.status, tx.stopped_at, tx.energy_wh = "completed", stopped_at, energy_wh
    tx.meter_stop = tx.meter_start + energy_wh
    session.add(tx)
    session.flush()
    _pricing.price_transaction(session=session, transaction=tx)
    session.commit()
    return tx


def auth_headers(user: User) -> dict[str, str]:
    """A bearer token for the REST API, as POST /api/v1/auth/token would give."""
    from services.access.auth import issue_token

    return {"Authorization": f"Bearer {issue_token(user)}"}
# ---------------------------------------------------------------------------------------------------------------
# Invoicing (issue 5): priced sessions made directly, as services.charging.pricing would leave them at stop.
# ---------------------------------------------------------------------------------------------------------------
from datetime import datetime, timedelta  # noqa: E402
from decimal import Decimal  # noqa: E402

from core.money import round_money  # noqa: E402  (Transaction is imported in the block above)


def make_priced_session(session: Session, charger: Charger, *, stopped_at: datetime, energy_wh: int = 10_000,
                        energy: str = "0", time: str = "0", session_fee: str = "0", idle: str = "0",
                        vat_rate: str | None = None, ssc_rate: str | None = None, gateway_percent: str | None = None,
                        gateway_fixed: str | None = None, commission_rate: str | None = None,
                        location_owner_rate: str = "0", currency: str | None = None, priced: bool = True,
                        commit: bool = True) -> Transaction:
    """A completed session with its amount columns filled. Each amount is rounded once, half-up, to the
    currency's minor unit, and the split adds back to the gross (the invariant in models/transaction.py).
    Rates default to the organization's."""
    org = session.get(Organization, charger.organization_id)
    cur = currency or org.currency

    def rate(value, default):
        return Decimal(value if value is not None else default) / 100

    comps = {k: round_money(Decimal(v), cur) for k, v in
             dict(energy=energy, time=time, session_fee=session_fee, idle=idle).items()}
    subtotal = sum(comps.values(), Decimal(0))
    vat = round_money(subtotal * rate(vat_rate, org.vat_rate), cur)
    ssc = round_money(subtotal * rate(ssc_rate, org.ssc_levy_rate), cur)
    gross = subtotal + vat + ssc
    fixed = Decimal(gateway_fixed if gateway_fixed is not None else org.gateway_fee_fixed)
    gateway = round_money(gross * rate(gateway_percent, org.gateway_fee_percent) + fixed, cur)
    platform = round_money(subtotal * rate(commission_rate, org.platform_commission_rate), cur)
    owner = round_money(subtotal * rate(location_owner_rate, 0), cur)
    n = next(_seq)
    tx = Transaction(
        charger_id=charger.id, organization_id=org.id, connector_id=1, id_tag=f"TAG{n}", status="completed",
        meter_start=0, meter_stop=energy_wh, energy_wh=energy_wh, started_at=stopped_at - timedelta(minutes=30),
        stopped_at=stopped_at, stop_reason="Local", location_owner_id=charger.location_owner_id, currency=cur)
    if priced:
        tx.amount_energy, tx.amount_time = comps["energy"], comps["time"]
        tx.amount_session_fee, tx.amount_idle = comps["session_fee"], comps["idle"]
        tx.amount_subtotal, tx.amount_vat, tx.amount_ssc, tx.amount_gross = subtotal, vat, ssc, gross
        tx.amount_gateway, tx.amount_platform, tx.amount_location_owner = gateway, platform, owner
        tx.amount_net_cpo = gross - vat - ssc - gateway - platform - owner
        tx.priced_at = stopped_at
    session.add(tx)
    if commit:
        session.commit()
    else:
        session.flush()
    return tx
