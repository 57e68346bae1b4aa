"""Grid monitor: regions, readings over a time range, the health state with its history, chargers' readings."""
from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from fastapi import APIRouter, Query
from pydantic import Field

from app.api.deps import Caller, SessionDep, require_cap
from app.api.shapes import InputModel, RowModel, model_of, rows_to
from core.clock import utcnow
from core.errors import ValidationError
from services.access.permissions import Cap
from services.grid import classify, readings, regions, sensors

router = APIRouter(prefix="/grid", tags=["grid"])
ViewGrid = require_cap(Cap.VIEW_GRID)
ManageGrid = require_cap(Cap.MANAGE_DEMAND_RESPONSE)
MAX_RANGE = timedelta(days=31)
MAX_POINTS = 2000

RegionOut = model_of(regions.RegionRow, "GridRegionOut")
PointOut = model_of(readings.Point, "GridReadingOut")
SiteOut = model_of(sensors.SiteReading, "ChargerGridReadingOut")


class RegionIn(InputModel):
    nominal_hz: Decimal | None = None
    alert_below_hz: Decimal | None = None
    emergency_below_hz: Decimal | None = None
    alert_above_hz: Decimal | None = None
    emergency_above_hz: Decimal | None = None
    margin_alert_percent: Decimal | None = None
    stale_after_seconds: int | None = None
    credential: str | None = Field(None, max_length=200,
                                   description="The source's security token (ENTSO-E); never shown again")


class StateEventOut(RowModel):
    state: str
    started_at: datetime
    ended_at: datetime | None
    reason: str


class HealthOut(RowModel):
    region: str
    state: str
    reason: str
    since: datetime | None
    history: list[StateEventOut]


@router.get("/regions", response_model=list[RegionOut])
def list_regions(session: SessionDep, caller: Caller = ViewGrid):
    return rows_to(RegionOut, regions.list_regions(session=session, scope=caller.scope))


@router.patch("/regions/{code}", response_model=RegionOut)
def update_region(code: str, body: RegionIn, session: SessionDep, caller: Caller = ManageGrid):
    fields = body.model_dump(exclude_unset=True)
    thresholds = {k: v for k, v in fields.items() if k in regions.THRESHOLDS}
    row = regions.update_region(session=session, scope=caller.scope, code=code, thresholds=thresholds,
                                margin_alert_percent=fields.get("margin_alert_percent"),
                                stale_after_seconds=fields.get("stale_after_seconds"),
                                credential=fields.get("credential"))
    session.commit()
    return RegionOut.model_validate(row)


@router.get("/regions/{code}/readings", response_model=list[PointOut])
def list_readings(code: str, session: SessionDep, caller: Caller = ViewGrid,
                  since: datetime | None = Query(None, alias="from", description="Default: one hour ago"),
                  until: datetime | None = Query(None, alias="to", description="Default: now"),
                  bucket_seconds: int | None = Query(None, ge=1, le=86400,
                                                     description="Average per bucket; default keeps ≤2000 points")):
    region = regions.get_region(session=session, scope=caller.scope, code=code)
    until = until or utcnow()
    since = since or until - timedelta(hours=1)
    if since.tzinfo is None or until.tzinfo is None:
        raise ValidationError("Give times with a time zone (e.g. 2026-12-03T12:00:00Z).", "from")
    if not since < until or until - since > MAX_RANGE:
        raise ValidationError("The range must run forwards and span at most 31 days.", "from")
    bucket = bucket_seconds or max(1, int((until - since).total_seconds() // MAX_POINTS) + 1)
    if bucket_seconds is None and bucket > 30:  # whole minutes: read from the per-minute roll-up
        bucket = -(-bucket // 60) * 60
    return rows_to(PointOut, readings.series(session=session, region=region.code, since=since, until=until,
                                             bucket_seconds=bucket))


@router.get("/regions/{code}/health", response_model=HealthOut)
def region_health(code: str, session: SessionDep, caller: Caller = ViewGrid,
                  limit: int = Query(50, ge=1, le=500)):
    region = regions.get_region(session=session, scope=caller.scope, code=code)
    h = classify.health(session=session, region=region)
    return HealthOut(region=region.code, state=h.state, reason=h.reason, since=h.since,
                     history=[StateEventOut.model_validate(e) for e in
                              classify.history(session=session, region=region.code, limit=limit)])


@router.get("/sites", response_model=list[SiteOut])
def charger_readings(session: SessionDep, caller: Caller = ViewGrid):
    """The chargers in scope with their own latest Frequency and Voltage measurands (last minute)."""
    return rows_to(SiteOut, sensors.site_readings(session=session, scope=caller.scope))
