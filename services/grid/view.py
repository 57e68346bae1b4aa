"""The grid monitor page in one read: the region, its health and history, the live trace, demand against
generation, the mix, the chargers' own readings, what the chargers in scope draw now, and the running event."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select, text
from sqlmodel import Session

from core.clock import utcnow
from models import Charger
from models.grid import DrEvent, DrPolicy, DrStatus, GridRegion, GridStateEvent
from services.access.permissions import Cap
from services.access.scope import Scope
from services.grid import classify, readings, sensors
from services.grid.manual import EventRow, get_event
from services.grid.regions import RegionRow, list_regions

TRACE = timedelta(minutes=10)
BALANCE = timedelta(hours=24)
DRAW_WINDOW = timedelta(minutes=5)


@dataclass(frozen=True)
class GridView:
    regions: list[RegionRow]
    region: RegionRow
    health: classify.Health
    latest: readings.Latest
    trace: list[readings.Point]
    balance: list[readings.Point]
    history: list[GridStateEvent]
    sites: list[sensors.SiteReading]
    draw_kw: Decimal
    chargers_drawing: int
    event: EventRow | None


def default_region(*, session: Session, scope: Scope) -> str:
    """The region of the first organization in scope that picked one; the demo grid otherwise."""
    code = session.execute(select(DrPolicy.region).where(scope.org_filter(DrPolicy.organization_id))
                           .order_by(DrPolicy.organization_id).limit(1)).scalar()
    return code or "DEMO"


_DRAW = text(
    "SELECT count(*), coalesce(sum(kw), 0) FROM ("
    " SELECT DISTINCT ON (m.charger_id, m.connector_id) m.charger_id,"
    "  CASE WHEN m.unit = 'kW' THEN m.value ELSE m.value / 1000 END AS kw"
    " FROM meter_value m WHERE m.charger_id = ANY(:ids) AND m.measurand = 'Power.Active.Import'"
    " AND (m.phase IS NULL OR m.phase = '') AND m.timestamp >= :since AND m.timestamp <= :until"
    " ORDER BY m.charger_id, m.connector_id, m.timestamp DESC) latest WHERE kw > 0")


def current_draw(*, session: Session, scope: Scope) -> tuple[int, Decimal]:
    """(chargers drawing, kW) from each connector's latest power sample of the last five minutes."""
    ids = list(session.execute(select(Charger.id).where(scope.charger_filter())).scalars())
    if not ids:
        return 0, Decimal(0)
    now = utcnow()
    n, kw = session.execute(_DRAW, {"ids": ids, "since": now - DRAW_WINDOW, "until": now + readings.SKEW}).one()
    return n, Decimal(kw).quantize(Decimal("0.1"))


def running_event(*, session: Session, scope: Scope) -> EventRow | None:
    event_id = session.execute(select(DrEvent.id).where(scope.org_filter(DrEvent.organization_id),
                                                        DrEvent.status != DrStatus.ENDED)
                               .order_by(DrEvent.started_at.desc()).limit(1)).scalar()
    return get_event(session=session, scope=scope, event_id=event_id) if event_id else None


def grid_view(*, session: Session, scope: Scope, region: str | None = None) -> GridView:
    scope.require(Cap.VIEW_GRID)
    all_regions = list_regions(session=session, scope=scope)
    code = region if region in {r.code for r in all_regions} else default_region(session=session, scope=scope)
    row = next(r for r in all_regions if r.code == code)
    model = session.get(GridRegion, code)
    now = utcnow()
    drawing, kw = current_draw(session=session, scope=scope)
    return GridView(
        regions=all_regions, region=row, health=classify.health(session=session, region=model),
        latest=readings.latest(session=session, region=code),
        trace=readings.series(session=session, region=code, since=now - TRACE, until=now + readings.SKEW,
                              bucket_seconds=1),
        balance=readings.series(session=session, region=code, since=now - BALANCE, until=now + readings.SKEW,
                                bucket_seconds=300),
        history=classify.history(session=session, region=code, limit=10),
        sites=sensors.site_readings(session=session, scope=scope), draw_kw=kw, chargers_drawing=drawing,
        event=running_event(session=session, scope=scope))
