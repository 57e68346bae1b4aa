"""Storing and reading a region's readings.

Readings out of physical range are kept but flagged (frequency outside 45–65 Hz, negative demand or
generation, a time in the future); the classifier ignores flagged frequencies. A window fetched twice is
stored once (unique region, time, source). Charts read time buckets, never raw rows by the thousand.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from core.clock import utcnow
from services.grid.sources import Reading

FREQUENCY_RANGE = (Decimal(45), Decimal(65))
FUTURE_TOLERANCE = timedelta(minutes=5)
# A reading this far ahead of our clock still counts as the newest (source clocks drift a little).
SKEW = timedelta(seconds=30)
MAX_MW = Decimal("1e8")


def check(reading: Reading, now: datetime) -> Reading:
    """Flag what cannot be physical; the reading is kept."""
    flags = list(reading.flags)
    f = reading.frequency_hz
    if f is not None and not FREQUENCY_RANGE[0] <= f <= FREQUENCY_RANGE[1]:
        flags.append("frequency_range")
    for name in ("demand_mw", "generation_mw"):
        value = getattr(reading, name)
        if value is not None and value < 0:
            flags.append(f"negative_{name.removesuffix('_mw')}")
        if value is not None and abs(value) >= MAX_MW:
            flags.append(f"{name.removesuffix('_mw')}_range")
            setattr(reading, name, None)  # the column cannot hold it; the flag says it was there
    if reading.ts > now + FUTURE_TOLERANCE:
        flags.append("future_timestamp")
    reading.flags = sorted(set(flags))
    if f is not None and abs(f) >= 10000:
        reading.frequency_hz = None
    return reading


# The new rows (a re-fetched row is skipped) are added to their minutes' sums and counts in the same statement,
# so the per-minute roll-up always matches the readings (concurrent writers add under the row lock).
_INSERT = text(
    "WITH new AS (INSERT INTO grid_reading (region, ts, source, frequency_hz, demand_mw, generation_mw, mix, flags)"
    " SELECT :region, r.ts, :source, r.f, r.d, r.g, r.mix, r.flags FROM jsonb_to_recordset(CAST(:rows AS jsonb))"
    " AS r(ts timestamptz, f numeric, d numeric, g numeric, mix jsonb, flags varchar[])"
    " ON CONFLICT (region, ts, source) DO NOTHING RETURNING ts, frequency_hz, demand_mw, generation_mw, flags),"
    " minutes AS (INSERT INTO grid_reading_minute (region, minute, f_sum, f_n, d_sum, d_n, g_sum, g_n)"
    " SELECT :region, date_trunc('minute', ts), coalesce(sum(frequency_hz) FILTER (WHERE flags = '{}'), 0),"
    " count(frequency_hz) FILTER (WHERE flags = '{}'), coalesce(sum(demand_mw), 0), count(demand_mw),"
    " coalesce(sum(generation_mw), 0), count(generation_mw) FROM new GROUP BY 2"
    " ON CONFLICT (region, minute) DO UPDATE SET f_sum = grid_reading_minute.f_sum + EXCLUDED.f_sum,"
    " f_n = grid_reading_minute.f_n + EXCLUDED.f_n, d_sum = grid_reading_minute.d_sum + EXCLUDED.d_sum,"
    " d_n = grid_reading_minute.d_n + EXCLUDED.d_n, g_sum = grid_reading_minute.g_sum + EXCLUDED.g_sum,"
    " g_n = grid_reading_minute.g_n + EXCLUDED.g_n)"
    " SELECT count(*) FROM new")


def store(*, session: Session, region: str, source: str, readings: list[Reading]) -> int:
    """Insert a batch (one statement); rows already stored are skipped. Returns the number of new rows."""
    if not readings:
        return 0
    now = utcnow()
    rows = []
    for r in readings:
        check(r, now)
        rows.append({"ts": r.ts.isoformat(), "f": str(r.frequency_hz) if r.frequency_hz is not None else None,
                     "d": str(r.demand_mw) if r.demand_mw is not None else None,
                     "g": str(r.generation_mw) if r.generation_mw is not None else None,
                     "mix": {k: float(v) for k, v in r.mix.items()} if r.mix else None, "flags": r.flags})
    return session.execute(_INSERT, {"region": region, "source": source, "rows": json.dumps(rows)}).scalar_one()


@dataclass(frozen=True)
class Point:
    ts: datetime
    frequency_hz: Decimal | None
    demand_mw: Decimal | None
    generation_mw: Decimal | None
    flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Latest:
    frequency_hz: Decimal | None
    frequency_at: datetime | None
    demand_mw: Decimal | None
    generation_mw: Decimal | None
    balance_at: datetime | None
    mix: dict[str, Any]


def latest(*, session: Session, region: str) -> Latest:
    """The newest unflagged frequency, and the newest demand/generation with its mix."""
    f = session.execute(text(
        "SELECT frequency_hz, ts FROM grid_reading WHERE region = :r AND frequency_hz IS NOT NULL"
        " AND flags = '{}' AND ts <= :limit ORDER BY ts DESC LIMIT 1"),
        {"r": region, "limit": utcnow() + SKEW}).first()
    b = session.execute(text(
        "SELECT demand_mw, generation_mw, ts, mix FROM grid_reading WHERE region = :r"
        " AND (demand_mw IS NOT NULL OR generation_mw IS NOT NULL) AND ts <= :limit ORDER BY ts DESC LIMIT 1"),
        {"r": region, "limit": utcnow() + SKEW}).first()
    return Latest(f[0] if f else None, f[1] if f else None, b[0] if b else None, b[1] if b else None,
                  b[2] if b else None, dict(b[3] or {}) if b else {})


def _minute(ts: datetime, *, up: bool) -> datetime:
    floor = ts.replace(second=0, microsecond=0)
    return floor + timedelta(minutes=1) if up and floor != ts else floor


# Whole minutes come from the roll-up; the part-minutes at either end of the window from the readings.
_FROM_MINUTES = text(
    "WITH parts AS ("
    " SELECT minute AS ts, f_sum, f_n, d_sum, d_n, g_sum, g_n FROM grid_reading_minute"
    "  WHERE region = :r AND minute >= :lo AND minute < :hi"
    " UNION ALL"
    " SELECT ts, CASE WHEN flags = '{}' THEN frequency_hz END, (flags = '{}' AND frequency_hz IS NOT NULL)::int,"
    "  demand_mw, (demand_mw IS NOT NULL)::int, generation_mw, (generation_mw IS NOT NULL)::int FROM grid_reading"
    "  WHERE region = :r AND ((ts >= :since AND ts < :lo) OR (ts >= :hi AND ts < :until)))"
    " SELECT to_timestamp(floor(extract(epoch FROM ts) / :b) * :b) AS bucket,"
    " round(sum(f_sum) / nullif(sum(f_n), 0), 4), round(sum(d_sum) / nullif(sum(d_n), 0), 1),"
    " round(sum(g_sum) / nullif(sum(g_n), 0), 1) FROM parts GROUP BY bucket ORDER BY bucket")


def series(*, session: Session, region: str, since: datetime, until: datetime, bucket_seconds: int) -> list[Point]:
    """Averages per time bucket (the raw rows when a bucket is 1 s or less). Buckets of whole minutes read the
    per-minute roll-up (a day is 1,440 rows, not 86,400)."""
    if bucket_seconds <= 1:
        rows = session.execute(text(
            "SELECT ts, frequency_hz, demand_mw, generation_mw, flags FROM grid_reading WHERE region = :r"
            " AND ts >= :since AND ts < :until ORDER BY ts LIMIT 5000"),
            {"r": region, "since": since, "until": until}).all()
        return [Point(r[0], r[1], r[2], r[3], tuple(r[4])) for r in rows]
    lo, hi = _minute(since, up=True), _minute(until, up=False)
    if bucket_seconds % 60 == 0 and lo < hi:
        rows = session.execute(_FROM_MINUTES, {"r": region, "since": since, "until": until, "lo": lo, "hi": hi,
                                               "b": bucket_seconds}).all()
        return [Point(r[0], r[1], r[2], r[3]) for r in rows]
    rows = session.execute(text(
        "SELECT to_timestamp(floor(extract(epoch FROM ts) / :b) * :b) AS bucket,"
        " round(avg(frequency_hz) FILTER (WHERE flags = '{}'), 4), round(avg(demand_mw), 1),"
        " round(avg(generation_mw), 1)"
        " FROM grid_reading WHERE region = :r AND ts >= :since AND ts < :until GROUP BY bucket ORDER BY bucket"),
        {"r": region, "since": since, "until": until, "b": bucket_seconds}).all()
    return [Point(r[0], r[1], r[2], r[3]) for r in rows]


def delete_older_than(*, session: Session, days: int) -> int:
    """Retention: readings older than `days` go (the BRIN index finds their block ranges), and their minutes."""
    cut = _minute(utcnow() - timedelta(days=days), up=False)  # whole minutes, so the roll-up stays exact
    session.execute(text("DELETE FROM grid_reading_minute WHERE minute < :cut"), {"cut": cut})
    return session.execute(text("DELETE FROM grid_reading WHERE ts < :cut"), {"cut": cut}).rowcount or 0
