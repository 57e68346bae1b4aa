"""Readings are stored once and flagged when not physical; the health state follows thresholds, records
each change with its start and end, and is unknown when the source goes quiet."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, text

from core.clock import clock
from core.errors import ValidationError
from models.grid import GridReading, GridRegion, GridStateEvent
from services.grid import classify, readings, regions
from services.grid.sources import Reading

T0 = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def _f(session, hz: str, at: datetime, region: str = "DEMO") -> None:
    readings.store(session=session, region=region, source="replay", readings=[Reading(ts=at, frequency_hz=Decimal(hz))])
    session.commit()


def test_a_window_fetched_twice_is_stored_once(session, built_in):
    clock.set(T0)
    batch = [Reading(ts=T0 - timedelta(seconds=15 * i), frequency_hz=Decimal("50.01")) for i in range(4)]
    assert readings.store(session=session, region="DEMO", source="replay", readings=batch) == 4
    assert readings.store(session=session, region="DEMO", source="replay", readings=batch) == 0
    session.commit()
    assert len(session.execute(select(GridReading)).all()) == 4


def test_out_of_range_readings_are_kept_but_flagged_and_never_classify(session, built_in):
    clock.set(T0)
    readings.store(session=session, region="DEMO", source="replay", readings=[
        Reading(ts=T0 - timedelta(seconds=30), frequency_hz=Decimal("49.99")),
        Reading(ts=T0 - timedelta(seconds=15), frequency_hz=Decimal("70.2"), demand_mw=Decimal(-5)),
        Reading(ts=T0 + timedelta(hours=2), frequency_hz=Decimal("44")),
    ])
    session.commit()
    rows = {r.ts: r.flags for r in session.execute(select(GridReading)).scalars()}
    assert rows[T0 - timedelta(seconds=15)] == ["frequency_range", "negative_demand"]
    assert rows[T0 + timedelta(hours=2)] == ["frequency_range", "future_timestamp"]
    region = session.get(GridRegion, "DEMO")
    h = classify.update_state(session=session, region=region)
    assert (h.state, h.reason) == ("normal", "frequency 49.990 Hz")


@pytest.mark.parametrize(("hz", "state"), [("50.00", "normal"), ("49.79", "alert"), ("49.7", "alert"),
                                          ("49.49", "emergency"), ("50.25", "alert"), ("50.6", "emergency")])
def test_frequency_thresholds(session, built_in, hz, state):
    clock.set(T0)
    _f(session, hz, T0 - timedelta(seconds=5))
    assert classify.update_state(session=session, region=session.get(GridRegion, "DEMO")).state == state


def test_thin_generation_margin_is_an_alert(session, built_in):
    clock.set(T0)
    readings.store(session=session, region="DEMO", source="replay", readings=[
        Reading(ts=T0, frequency_hz=Decimal("50.0"), demand_mw=Decimal(30000), generation_mw=Decimal(30300))])
    h = classify.update_state(session=session, region=session.get(GridRegion, "DEMO"))
    assert (h.state, h.reason) == ("alert", "generation margin 1.0 %")


def test_each_change_of_state_is_an_event_with_start_and_end(session, built_in):
    region = session.get(GridRegion, "DEMO")
    clock.set(T0)
    _f(session, "50.0", T0)
    classify.update_state(session=session, region=region)
    clock.set(T0 + timedelta(seconds=15))
    _f(session, "49.7", T0 + timedelta(seconds=15))
    classify.update_state(session=session, region=region)
    classify.update_state(session=session, region=region)  # no change: no new event
    session.commit()
    events = session.execute(select(GridStateEvent).order_by(GridStateEvent.id)).scalars().all()
    assert [(e.state, e.started_at, e.ended_at) for e in events] == [
        ("normal", T0, T0 + timedelta(seconds=15)), ("alert", T0 + timedelta(seconds=15), None)]


def test_a_source_that_goes_quiet_is_unknown_never_a_stale_normal(session, built_in):
    region = session.get(GridRegion, "DEMO")
    clock.set(T0)
    _f(session, "50.0", T0)
    assert classify.update_state(session=session, region=region).state == "normal"
    clock.set(T0 + timedelta(seconds=region.stale_after_seconds + 1))
    # Read straight from the readings: even with no worker running the page shows unknown.
    assert classify.health(session=session, region=region).state == "unknown"
    assert classify.update_state(session=session, region=region).state == "unknown"


def test_series_buckets_and_retention(session, built_in):
    clock.set(T0)
    readings.store(session=session, region="DEMO", source="replay", readings=[
        Reading(ts=T0 - timedelta(seconds=s), frequency_hz=Decimal("49.9") + Decimal(s % 2) / 10)
        for s in range(1, 121)])
    readings.store(session=session, region="DEMO", source="replay", readings=[
        Reading(ts=T0 - timedelta(days=31), frequency_hz=Decimal("50"))])
    session.commit()
    points = readings.series(session=session, region="DEMO", since=T0 - timedelta(minutes=2), until=T0,
                             bucket_seconds=60)
    assert len(points) == 2 and all(p.frequency_hz == Decimal("49.9500") for p in points)
    assert readings.delete_older_than(session=session, days=30) == 1


def test_region_thresholds_are_configurable_and_must_rise(session, built_in, operator_scope):
    row = regions.update_region(session=session, scope=operator_scope, code="GB",
                                thresholds={"alert_below_hz": "49.85"}, credential="secret-token")
    assert row.alert_below_hz == Decimal("49.850") and row.has_credential
    assert b"secret-token" not in session.get(GridRegion, "GB").credential
    with pytest.raises(ValidationError, match="must rise"):
        regions.update_region(session=session, scope=operator_scope, code="GB", thresholds={"alert_below_hz": "49.4"})


def _raw_buckets(session, since, until, b):
    """The same averages straight from the readings (what the page showed before the roll-up)."""
    return [tuple(r) for r in session.execute(text(
        "SELECT to_timestamp(floor(extract(epoch FROM ts) / :b) * :b) AS bucket,"
        " round(avg(frequency_hz) FILTER (WHERE flags = '{}'), 4), round(avg(demand_mw), 1),"
        " round(avg(generation_mw), 1) FROM grid_reading WHERE region = 'DEMO' AND ts >= :s AND ts < :u"
        " GROUP BY bucket ORDER BY bucket"), {"s": since, "u": until, "b": b}).all()]


def test_day_charts_read_the_minute_roll_up_and_give_the_same_averages_as_the_readings(session, built_in):
    clock.set(T0)
    start = T0 - timedelta(minutes=30)
    batch = [Reading(ts=start + timedelta(seconds=7 * i), frequency_hz=Decimal("49.9") + Decimal(i % 13) / 100,
                     demand_mw=Decimal(30000 + i) if i % 9 == 0 else None,
                     generation_mw=Decimal(31000 - i) if i % 9 == 0 else None) for i in range(250)]
    batch[40].frequency_hz = Decimal("70")  # flagged: not averaged
    readings.store(session=session, region="DEMO", source="replay", readings=batch)
    readings.store(session=session, region="DEMO", source="replay", readings=batch[:100])  # a re-fetch: no double count
    readings.store(session=session, region="DEMO", source="chargers", readings=[
        Reading(ts=start + timedelta(seconds=61), frequency_hz=Decimal("49.5"))])  # a second source, same minute
    session.commit()
    assert session.execute(text("SELECT sum(f_n) FROM grid_reading_minute")).scalar() == 250
    # A window with part-minutes at both ends, as the page asks for ("the last 24 hours" from now).
    since, until = start + timedelta(seconds=23), start + timedelta(minutes=25, seconds=41)
    for bucket in (60, 300):
        got = [(p.ts, p.frequency_hz, p.demand_mw, p.generation_mw) for p in readings.series(
            session=session, region="DEMO", since=since, until=until, bucket_seconds=bucket)]
        assert got == _raw_buckets(session, since, until, bucket)
        assert len(got) == {60: 26, 300: 6}[bucket]


def test_retention_removes_old_minutes_with_their_readings(session, built_in):
    clock.set(T0)
    old, new = T0 - timedelta(days=31, seconds=30), T0 - timedelta(days=29)
    readings.store(session=session, region="DEMO", source="replay",
                   readings=[Reading(ts=old, frequency_hz=Decimal("50")), Reading(ts=new, frequency_hz=Decimal("50"))])
    assert readings.delete_older_than(session=session, days=30) == 1
    assert session.execute(text("SELECT minute FROM grid_reading_minute")).scalars().all() == [
        new.replace(second=0)]
