"""The grid health state of a region: normal, alert, emergency, or unknown when nothing fresh is known.

Frequency thresholds are the region's (50 Hz nominal, alert below 49.8, emergency below 49.5 and the mirror
above). A generation margin over demand below the region's percentage is an alert. A region whose newest
usable reading is older than its `stale_after_seconds` is unknown: the page never shows a stale "normal".
Each change of state closes the open GridStateEvent and opens the next: the history, with start and end.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlmodel import Session

from core.clock import utcnow
from core.events import EventType, notify
from models.grid import GridRegion, GridState, GridStateEvent
from services.grid.readings import Latest, latest

SEVERITY = {GridState.UNKNOWN: 0, GridState.NORMAL: 0, GridState.ALERT: 1, GridState.EMERGENCY: 2}


@dataclass(frozen=True)
class Health:
    state: str
    reason: str
    since: datetime | None  # when the state began (None: never classified)


def classify(region: GridRegion, now: datetime, last: Latest) -> tuple[str, str]:
    """(state, reason) from the newest readings."""
    stale = timedelta(seconds=region.stale_after_seconds)
    fresh_f = last.frequency_at is not None and now - last.frequency_at <= stale
    fresh_b = last.balance_at is not None and now - last.balance_at <= stale
    state, reason = GridState.UNKNOWN, "no fresh reading"
    if fresh_f:
        f = last.frequency_hz
        if f < region.emergency_below_hz or f > region.emergency_above_hz:
            return GridState.EMERGENCY, f"frequency {f:.3f} Hz"
        if f < region.alert_below_hz or f > region.alert_above_hz:
            state, reason = GridState.ALERT, f"frequency {f:.3f} Hz"
        else:
            state, reason = GridState.NORMAL, f"frequency {f:.3f} Hz"
    if fresh_b and last.demand_mw and last.generation_mw is not None and last.demand_mw > 0:
        margin = (last.generation_mw - last.demand_mw) / last.demand_mw * 100
        if margin < region.margin_alert_percent and state != GridState.ALERT:
            return GridState.ALERT, f"generation margin {margin:.1f} %"
        if state == GridState.UNKNOWN:
            state, reason = GridState.NORMAL, f"generation margin {margin:.1f} %"
    return state, reason


def open_event(session: Session, region: str) -> GridStateEvent | None:
    return session.execute(select(GridStateEvent).where(GridStateEvent.region == region,
                                                        GridStateEvent.ended_at.is_(None))).scalar_one_or_none()


def health(*, session: Session, region: GridRegion) -> Health:
    """The state now, from the readings themselves (a stopped worker shows unknown, not its last word)."""
    state, reason = classify(region, utcnow(), latest(session=session, region=region.code))
    current = open_event(session, region.code)
    since = current.started_at if current is not None and current.state == state else None
    return Health(state, reason, since)


def update_state(*, session: Session, region: GridRegion) -> Health:
    """Classify now and record a change of state (the one place grid-state events are written and sent)."""
    now = utcnow()
    state, reason = classify(region, now, latest(session=session, region=region.code))
    current = open_event(session, region.code)
    if current is not None and current.state == state:
        return Health(state, reason, current.started_at)
    if current is not None:
        current.ended_at = now
        session.add(current)
        session.flush()
    session.add(GridStateEvent(region=region.code, state=state, started_at=now, reason=reason[:200]))
    session.flush()
    notify(session, {"type": EventType.GRID_STATE, "region": region.code, "state": state,
                     "previous": current.state if current else None, "reason": reason})
    return Health(state, reason, now)


def history(*, session: Session, region: str, limit: int = 50) -> list[GridStateEvent]:
    return list(session.execute(select(GridStateEvent).where(GridStateEvent.region == region)
                                .order_by(GridStateEvent.started_at.desc()).limit(limit)).scalars())
