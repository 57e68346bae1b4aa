"""Grid readings at scale: 30 days of 1-second readings for 10 regions (25.9 M rows), then the monitor's
queries for the last hour and the last day, timed.

    DATABASE_URL=postgresql://postgres@127.0.0.1/<scratch db with migrations> python -m bench.grid_readings [DAYS]

Rows are generated inside PostgreSQL (one INSERT … SELECT per region and day), once, then the per-minute
roll-up in one pass; a second run only measures. Prints the table and index sizes and the median and p95 of
each query over 20 runs.
"""
from __future__ import annotations

import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta

os.environ.setdefault("DEMO_MODE", "1")

from sqlalchemy import text  # noqa: E402
from sqlmodel import Session  # noqa: E402

from core.clock import clock  # noqa: E402
from core.db import get_engine  # noqa: E402
from models.grid import GridRegion  # noqa: E402
from services.grid import classify, readings  # noqa: E402

REGIONS = [f"BENCH{i:02d}" for i in range(10)]
END = datetime(2026, 12, 3, tzinfo=UTC)
RUNS = 20


def fill(session: Session, days: int) -> None:
    for code in REGIONS:
        session.execute(text(
            "INSERT INTO grid_region (code, name, source, nominal_hz, alert_below_hz, emergency_below_hz,"
            " alert_above_hz, emergency_above_hz, margin_alert_percent, stale_after_seconds)"
            " VALUES (:c, :c, 'replay', 50, 49.8, 49.5, 50.2, 50.5, 2, 120) ON CONFLICT DO NOTHING"), {"c": code})
    session.commit()
    have = session.execute(text("SELECT count(*) FROM grid_reading")).scalar()
    if have >= days * 86400 * len(REGIONS):
        _index(session, time.perf_counter())
        return
    # Bulk load without the indexes, then build them once (as a restore would): minutes rather than an hour.
    session.execute(text("TRUNCATE grid_reading, grid_reading_minute"))
    session.execute(text("DROP INDEX IF EXISTS uq_grid_reading"))
    session.execute(text("DROP INDEX IF EXISTS ix_grid_reading_ts_brin"))
    session.commit()
    t = time.perf_counter()
    for d in range(days, 0, -1):
        day = END - timedelta(days=d)
        # Regions interleave within each day, as a live feed writes them.
        session.execute(text(
            "INSERT INTO grid_reading (region, ts, source, frequency_hz, demand_mw, generation_mw)"
            " SELECT r, ts, 'replay', round((50 + 0.05 * sin(extract(epoch FROM ts) / 60.0))::numeric, 4),"
            "  CASE WHEN extract(second FROM ts) = 0 THEN 30000 END, CASE WHEN extract(second FROM ts) = 0"
            "  THEN 31000 END FROM generate_series(CAST(:a AS timestamptz), CAST(:b AS timestamptz), '1 second') ts,"
            "  unnest(CAST(:regions AS text[])) r"),
            {"a": day, "b": day + timedelta(seconds=86399), "regions": REGIONS})
        session.commit()
        print(f"  day {days - d + 1}/{days} written ({time.perf_counter() - t:.0f} s)", flush=True)
    _index(session, t)


def _index(session: Session, t: float) -> None:
    """The migration's two indexes (kept when they exist), the per-minute roll-up (what `readings.store`
    writes with each batch; here in one pass, as migration grid16_02 does), then fresh statistics."""
    session.execute(text("CREATE UNIQUE INDEX IF NOT EXISTS uq_grid_reading ON grid_reading (region, ts, source)"))
    session.execute(text("CREATE INDEX IF NOT EXISTS ix_grid_reading_ts_brin ON grid_reading USING brin (ts)"))
    session.commit()
    print(f"  indexes ready ({time.perf_counter() - t:.0f} s)", flush=True)
    if not session.execute(text("SELECT 1 FROM grid_reading_minute LIMIT 1")).first():
        r = time.perf_counter()
        session.execute(text(
            "INSERT INTO grid_reading_minute (region, minute, f_sum, f_n, d_sum, d_n, g_sum, g_n)"
            " SELECT region, date_trunc('minute', ts), coalesce(sum(frequency_hz) FILTER (WHERE flags = '{}'), 0),"
            " count(frequency_hz) FILTER (WHERE flags = '{}'), coalesce(sum(demand_mw), 0), count(demand_mw),"
            " coalesce(sum(generation_mw), 0), count(generation_mw) FROM grid_reading GROUP BY 1, 2"))
        session.commit()
        print(f"  per-minute roll-up written ({time.perf_counter() - r:.0f} s)", flush=True)
    with get_engine().connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.execute(text("VACUUM ANALYZE grid_reading"))
        c.execute(text("VACUUM ANALYZE grid_reading_minute"))


def timed(fn) -> tuple[float, float]:
    times = []
    for _ in range(RUNS):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


def main(days: int) -> None:
    with Session(get_engine()) as s:
        fill(s, days)
        rows = s.execute(text("SELECT count(*) FROM grid_reading")).scalar()
        size = s.execute(text("SELECT pg_size_pretty(pg_table_size('grid_reading')),"
                              " pg_size_pretty(pg_relation_size('uq_grid_reading')),"
                              " pg_size_pretty(pg_relation_size('ix_grid_reading_ts_brin')),"
                              " pg_size_pretty(pg_total_relation_size('grid_reading_minute')),"
                              " (SELECT count(*) FROM grid_reading_minute)")).one()
        print(f"grid_reading: {rows:,} rows; table {size[0]}, unique (region, ts) index {size[1]}, BRIN {size[2]};"
              f" grid_reading_minute: {size[4]:,} rows, {size[3]} with its key")
        region = s.get(GridRegion, REGIONS[3])
        code = region.code
        # The newest reading is "now" (a partial fill ends before END).
        end = s.execute(text("SELECT max(ts) FROM grid_reading WHERE region = :r"), {"r": code}).scalar()
        first = s.execute(text("SELECT min(ts) FROM grid_reading")).scalar()
        print(f"readings from {first:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC ({(end - first).days + 1} days)")
        clock.set(end)
        cases = [
            ("last hour, raw 1 s points (3,600)", lambda: readings.series(
                session=s, region=code, since=end - timedelta(hours=1), until=end, bucket_seconds=1)),
            ("last hour, 10 s buckets", lambda: readings.series(
                session=s, region=code, since=end - timedelta(hours=1), until=end, bucket_seconds=10)),
            ("last day, 44 s buckets (raw readings)", lambda: readings.series(
                session=s, region=code, since=end - timedelta(days=1), until=end, bucket_seconds=44)),
            ("last day, 60 s buckets (API default now; roll-up)", lambda: readings.series(
                session=s, region=code, since=end - timedelta(days=1, seconds=-17), until=end, bucket_seconds=60)),
            ("last day, 5 min buckets (the page's chart; roll-up)", lambda: readings.series(
                session=s, region=code, since=end - timedelta(days=1, seconds=-17), until=end, bucket_seconds=300)),
            ("newest frequency and balance", lambda: readings.latest(session=s, region=code)),
            ("health state (classifier)", lambda: classify.health(session=s, region=region)),
        ]
        print(f"{'query':55} {'median ms':>10} {'p95 ms':>8}")
        for name, fn in cases:
            med, p95 = timed(fn)
            print(f"{name:55} {med:10.1f} {p95:8.1f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
