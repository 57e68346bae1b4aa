"""Curtailment: the kW an event took off the grid, estimated from the chargers' meter values.

For each targeted charger, the average power drawn before the event (a window as long as the event, at
most 30 minutes) is compared with the average during it. Power comes from `Power.Active.Import` samples
where the charger sends them, otherwise from the energy register's rise over the window. Chargers that drew
more during the event than before count zero, not negative: the report is what the event curtailed.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select, text
from sqlmodel import Session

from core.clock import utcnow
from core.errors import NotFound
from models.grid import DrAction, DrEvent
from services.access.permissions import Cap
from services.access.scope import Scope

BEFORE_MAX = timedelta(minutes=30)
ENERGY, POWER = "Energy.Active.Import.Register", "Power.Active.Import"

_KW = text(
    "SELECT charger_id,"
    " avg(CASE WHEN unit = 'kW' THEN value ELSE value / 1000 END) FILTER (WHERE measurand = :power),"
    " max(CASE WHEN unit = 'kWh' THEN value ELSE value / 1000 END) FILTER (WHERE measurand = :energy)"
    " - min(CASE WHEN unit = 'kWh' THEN value ELSE value / 1000 END) FILTER (WHERE measurand = :energy)"
    " FROM meter_value WHERE charger_id = ANY(:ids) AND timestamp >= :since AND timestamp < :until"
    " AND (phase IS NULL OR phase = '') GROUP BY charger_id")


def _average_kw(session: Session, ids: list[int], since: datetime, until: datetime) -> dict[int, Decimal]:
    hours = Decimal((until - since).total_seconds()) / 3600
    out = {}
    for cid, power, energy in session.execute(_KW, {"ids": ids, "since": since, "until": until,
                                                    "power": POWER, "energy": ENERGY}):
        if power is not None:
            out[cid] = Decimal(power)
        elif energy is not None and hours > 0:
            out[cid] = Decimal(energy) / hours
    return out


@dataclass(frozen=True)
class ChargerLine:
    charger_id: int
    before_kw: Decimal
    during_kw: Decimal
    curtailed_kw: Decimal
    limited: bool       # its SetChargingProfile was accepted
    problem: str | None  # rejected, offline, no answer


@dataclass(frozen=True)
class EventReport:
    event_id: int
    organization_id: int
    started_at: datetime
    ended_at: datetime | None
    status: str
    curtailed_kw: Decimal
    chargers: list[ChargerLine]


def event_report(*, session: Session, scope: Scope, event_id: int) -> EventReport:
    scope.require(Cap.VIEW_GRID)
    event = session.get(DrEvent, event_id) if isinstance(event_id, int) and 0 < event_id < 2**31 else None
    if event is None or not session.execute(select(DrEvent.id).where(
            DrEvent.id == event.id, scope.org_filter(DrEvent.organization_id))).first():
        raise NotFound("Demand-response event not found.")
    return _report(session, event)


def _report(session: Session, event: DrEvent) -> EventReport:
    actions = list(session.execute(select(DrAction).where(DrAction.event_id == event.id)
                                   .order_by(DrAction.id)).scalars())
    last_set: dict[int, DrAction] = {}
    for a in actions:
        if a.action == "SetChargingProfile":
            last_set[a.charger_id] = a
    ids = sorted(last_set)
    end = event.ended_at or utcnow()
    span = min(max(end - event.started_at, timedelta(minutes=1)), BEFORE_MAX)
    before = _average_kw(session, ids, event.started_at - span, event.started_at) if ids else {}
    during = _average_kw(session, ids, event.started_at, end) if ids else {}
    lines = []
    for cid in ids:
        b, d = before.get(cid, Decimal(0)), during.get(cid, Decimal(0))
        a = last_set[cid]
        lines.append(ChargerLine(cid, b.quantize(Decimal("0.01")), d.quantize(Decimal("0.01")),
                                 max(b - d, Decimal(0)).quantize(Decimal("0.01")), a.ok, None if a.ok else a.error))
    return EventReport(event.id, event.organization_id, event.started_at, event.ended_at, event.status,
                       sum((line.curtailed_kw for line in lines), Decimal("0.00")), lines)


@dataclass(frozen=True)
class OrgTotal:
    organization_id: int
    events: int
    curtailed_kw: Decimal


def organization_totals(*, session: Session, scope: Scope) -> list[OrgTotal]:
    """kW curtailed per organization: the sum of its events' reports."""
    scope.require(Cap.VIEW_GRID)
    events = session.execute(select(DrEvent).where(scope.org_filter(DrEvent.organization_id))
                             .order_by(DrEvent.organization_id, DrEvent.id)).scalars().all()
    totals: dict[int, list] = {}
    for e in events:
        t = totals.setdefault(e.organization_id, [0, Decimal("0.00")])
        t[0] += 1
        t[1] += _report(session, e).curtailed_kw
    return [OrgTotal(org, n, kw) for org, (n, kw) in totals.items()]
