"""Chargers as sensors: chargers that report the Frequency and Voltage measurands give a live reading per
site, the live signal where the country publishes no real-time feed (Sri Lanka).

Where the organization allows it (policy `chargers_as_sensors`), each connected charger is asked once per
boot, with ChangeConfiguration of MeterValuesSampledData, to add Frequency and Voltage to what it samples.
The chargers' samples (stored like every meter value) become one `chargers` reading per region: the median
frequency of the last minute, so one faulty charger does not move the region.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from statistics import median

from sqlalchemy import select, text
from sqlmodel import Session

from core.clock import utcnow
from core.errors import NotFound, ValidationError
from models import Charger
from models.grid import DrPolicy, GridSource
from services.access.permissions import Cap
from services.access.scope import Scope, system_scope
from services.grid import readings
from services.grid.sources import Reading
from services.ocpp.commands import create_command

KEY = "MeterValuesSampledData"
SAMPLED = "Energy.Active.Import.Register,Power.Active.Import,Frequency,Voltage"
WINDOW = timedelta(seconds=60)


def ask_chargers(*, session: Session) -> int:
    """Queue the ChangeConfiguration for connected chargers not yet asked since they booted."""
    rows = session.execute(text(
        "SELECT c.id, c.organization_id FROM charger c JOIN dr_policy p ON p.organization_id = c.organization_id"
        " WHERE p.chargers_as_sensors AND c.connected AND c.lifecycle_status = 'Active' AND NOT EXISTS ("
        "  SELECT 1 FROM charger_command k WHERE k.charger_id = c.id AND k.action = 'ChangeConfiguration'"
        "  AND k.payload->>'key' = :key AND k.status IN ('pending', 'sent', 'done')"
        "  AND k.created_at >= coalesce(c.last_boot_at, '-infinity'))"), {"key": KEY}).all()
    asked = 0
    for charger_id, org_id in rows:
        try:
            create_command(session=session, scope=system_scope(org_id), charger_id=charger_id,
                           action="ChangeConfiguration", payload={"key": KEY, "value": SAMPLED})
            asked += 1
        except (NotFound, ValidationError):
            continue  # moved to another organization meanwhile
    return asked


_LATEST = text(
    "SELECT DISTINCT ON (m.charger_id, m.measurand) m.charger_id, m.measurand, m.value, m.timestamp, m.flags"
    " FROM meter_value m WHERE m.charger_id = ANY(:ids) AND m.measurand IN ('Frequency', 'Voltage')"
    " AND m.timestamp >= :since AND m.timestamp <= :until"
    " ORDER BY m.charger_id, m.measurand, m.timestamp DESC")


def _latest(session: Session, ids: list[int], now: datetime) -> dict[int, dict[str, tuple[Decimal, datetime]]]:
    out: dict[int, dict[str, tuple[Decimal, datetime]]] = {}
    if not ids:
        return out
    for cid, measurand, value, ts, flags in session.execute(_LATEST, {"ids": ids, "since": now - WINDOW,
                                                                      "until": now + readings.FUTURE_TOLERANCE}):
        if not flags:
            out.setdefault(cid, {})[measurand] = (value, ts)
    return out


def store_charger_readings(*, session: Session) -> int:
    """One `chargers` reading per region from its chargers' last minute of Frequency samples."""
    now = utcnow()
    stored = 0
    by_region: dict[str, list[int]] = {}
    for region, cid in session.execute(text(
            "SELECT p.region, c.id FROM dr_policy p JOIN charger c ON c.organization_id = p.organization_id"
            " WHERE p.chargers_as_sensors")):
        by_region.setdefault(region, []).append(cid)
    for region, ids in by_region.items():
        found = [m["Frequency"][0] for m in _latest(session, ids, now).values() if "Frequency" in m]
        if found:
            stored += readings.store(session=session, region=region, source=GridSource.CHARGERS, readings=[
                Reading(ts=now.replace(microsecond=0), frequency_hz=Decimal(median(found)).quantize(Decimal("0.001")))])
    return stored


@dataclass(frozen=True)
class SiteReading:
    charger_id: int
    ocpp_id: str
    name: str
    latitude: Decimal | None
    longitude: Decimal | None
    frequency_hz: Decimal | None
    voltage_v: Decimal | None
    at: datetime | None


def site_readings(*, session: Session, scope: Scope) -> list[SiteReading]:
    """The chargers in scope with their own latest frequency and voltage (the map overlay)."""
    scope.require(Cap.VIEW_GRID)
    chargers = session.execute(select(Charger).where(scope.charger_filter()).order_by(Charger.ocpp_id)
                               .limit(2000)).scalars().all()
    latest = _latest(session, [c.id for c in chargers], utcnow())
    out = []
    for c in chargers:
        m = latest.get(c.id)
        if not m:
            continue
        f, v = m.get("Frequency"), m.get("Voltage")
        at = max(x[1] for x in m.values())
        out.append(SiteReading(c.id, c.ocpp_id, c.name, c.latitude, c.longitude, f[0] if f else None,
                               v[0] if v else None, at))
    return out


def enabled_regions(*, session: Session) -> list[str]:
    return list(session.execute(select(DrPolicy.region).where(DrPolicy.chargers_as_sensors).distinct()).scalars())
