"""Polling: read each region in use from its source, store the readings, classify, and tell the pages."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import text
from sqlmodel import Session

from core.clock import utcnow
from core.events import EventType, notify
from models.grid import GridRegion
from services.grid import classify, readings
from services.grid.regions import source_for
from services.grid.sources import Source, SourceError

log = logging.getLogger(__name__)
FIRST_WINDOW = timedelta(minutes=10)
# Readings carried in one live event (the gauge needs the newest; the trace a few more).
LIVE_POINTS = 20


@dataclass(frozen=True)
class PollResult:
    region: str
    stored: int
    state: str
    error: str | None


def regions_in_use(*, session: Session) -> list[str]:
    """Regions an organization has picked (no one pays for polling a region nobody watches)."""
    return list(session.execute(text("SELECT DISTINCT region FROM dr_policy ORDER BY 1")).scalars())


def poll(*, session: Session, region: GridRegion, source: Source | None = None) -> PollResult:
    """Fetch since the last stored reading, store, classify. A failing source is recorded and leaves the
    state to the classifier (unknown once the last reading is stale). `source`: the region's own unless
    given (a replay timed by a test or a demo)."""
    now = utcnow()
    error, stored, fresh = None, 0, []
    try:
        source = source or source_for(region)
        if source is not None:
            last = session.execute(text("SELECT max(ts) FROM grid_reading WHERE region = :r AND source = :s"),
                                   {"r": region.code, "s": source.name}).scalar()
            since = max(last, now - FIRST_WINDOW) if last else now - FIRST_WINDOW
            fresh = source.fetch(since=since, until=now)
            stored = readings.store(session=session, region=region.code, source=source.name, readings=fresh)
    except SourceError as exc:
        error = str(exc)[:500]
        log.warning("grid %s: %s", region.code, error)
    region.last_polled_at, region.last_error = now, error
    session.add(region)
    session.flush()
    if stored:
        points = [{"ts": r.ts.isoformat(), "hz": float(r.frequency_hz)} for r in fresh[-LIVE_POINTS:]
                  if r.frequency_hz is not None and not r.flags]
        notify(session, {"type": EventType.GRID_READING, "region": region.code, "points": points})
    health = classify.update_state(session=session, region=region)
    return PollResult(region.code, stored, health.state, error)
