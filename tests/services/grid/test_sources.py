"""Each source's adapter on its recorded answers, served over real HTTP by the stand-in, including empty,
malformed and failing answers."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from demo.grid_standin import StandIn
from services.grid.sources import RECORDED, SourceError
from services.grid.sources import ceb as ceb_source
from services.grid.sources.bmrs import BmrsSource, parse_frequency
from services.grid.sources.ceb import CebSource
from services.grid.sources.entsoe import EntsoeSource
from services.grid.sources.replay import ReplaySource

SINCE = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
UNTIL = SINCE + timedelta(hours=1)


@pytest.fixture
def standin():
    server = StandIn().start()
    yield server
    server.shutdown()
    server.server_close()


def test_bmrs_reads_frequency_every_15_s_and_the_fuel_mix_and_demand(standin):
    readings = BmrsSource(standin.url).fetch(since=SINCE, until=UNTIL)
    freq = [r for r in readings if r.frequency_hz is not None]
    assert len(freq) == 8 and freq[1].ts - freq[0].ts == timedelta(seconds=15)
    assert freq[0].frequency_hz == Decimal("49.98")
    mixed = next(r for r in readings if r.mix)
    assert mixed.mix["ccgt"] == Decimal(9812) and mixed.generation_mw == sum(mixed.mix.values())
    assert next(r for r in readings if r.demand_mw is not None).demand_mw == Decimal(27450)
    assert any("/bmrs/api/v1/system/frequency?from=2026-11-30T12%3A00%3A00Z" in p for p in standin.requests)


def test_bmrs_empty_answer_is_no_readings(standin):
    standin.mode = "empty"
    assert BmrsSource(standin.url).fetch(since=SINCE, until=UNTIL) == []


def test_bmrs_malformed_answer_is_a_source_error(standin):
    standin.mode = "malformed"
    with pytest.raises(SourceError, match="not JSON"):
        BmrsSource(standin.url).fetch(since=SINCE, until=UNTIL)


def test_bmrs_rows_with_wrong_types_are_a_source_error():
    with pytest.raises(SourceError, match="not a time"):
        parse_frequency({"data": [{"measurementTime": "yesterday", "frequency": 50}]})
    with pytest.raises(SourceError, match="not a number"):
        parse_frequency({"data": [{"measurementTime": "2026-11-30T12:00:00Z", "frequency": "fast"}]})
    with pytest.raises(SourceError, match="no list"):
        parse_frequency({"data": "none"})


def test_a_source_that_does_not_answer_is_a_source_error(standin):
    standin.mode = "fail"
    with pytest.raises(SourceError, match="HTTP 503"):
        BmrsSource(standin.url).fetch(since=SINCE, until=UNTIL)
    with pytest.raises(SourceError, match="no answer"):
        BmrsSource("http://127.0.0.1:9").fetch(since=SINCE, until=UNTIL)


def test_entsoe_reads_load_and_generation_by_type_through_entsoe_py(standin):
    # Real answers (recorded/SOURCES.md): DK1's actual load from 2023-12-28 15:00 UTC and NO5's generation per
    # production type from 2023-05-09 09:00 UTC, hourly.
    readings = EntsoeSource(standin.url + "/api", "token-1", "DE_LU").fetch(
        since=datetime(2026, 12, 2, 11, tzinfo=UTC), until=datetime(2026, 12, 2, 12, tzinfo=UTC))
    by_ts = {r.ts.astimezone(UTC): r for r in readings}
    assert len(readings) == 94 and len({r.ts for r in readings}) == 94
    load = by_ts[datetime(2023, 12, 28, 15, tzinfo=UTC)]
    assert load.demand_mw == Decimal("3031.0") and load.mix is None
    assert by_ts[datetime(2023, 12, 28, 16, tzinfo=UTC)].ts - load.ts == timedelta(hours=1)
    generation = by_ts[datetime(2023, 5, 9, 9, tzinfo=UTC)]
    assert generation.mix["hydro_water_reservoir"] == Decimal("769.0") and generation.mix["waste"] == Decimal("15.0")
    assert generation.generation_mw == Decimal("1141.0") and generation.demand_mw is None
    assert any("securityToken=token-1" in p and "documentType=A65" in p for p in standin.requests)


def test_entsoe_without_a_token_is_refused_before_any_call(standin):
    with pytest.raises(SourceError, match="security token"):
        EntsoeSource(standin.url + "/api", "", "DE_LU")


def test_entsoe_no_matching_data_is_no_readings(standin):
    standin.mode = "empty"
    assert EntsoeSource(standin.url + "/api", "t", "DE_LU").fetch(since=SINCE, until=UNTIL) == []


def test_entsoe_truncated_document_is_a_source_error_or_nothing_half_read(standin):
    standin.mode = "malformed"
    try:
        readings = EntsoeSource(standin.url + "/api", "t", "DE_LU").fetch(since=SINCE, until=UNTIL)
    except SourceError:
        return
    assert all(r.demand_mw is not None for r in readings)


def test_ceb_reads_the_previous_day_by_source_in_colombo_time(standin):
    # A real answer (recorded/SOURCES.md): 2023-08-23, 00:15 to 23:45 Sri Lanka time.
    readings = CebSource(standin.url).fetch(since=SINCE, until=datetime(2026, 12, 3, 6, tzinfo=UTC))
    assert len(readings) == 95
    first = readings[0]
    assert first.ts == datetime(2023, 8, 23, 0, 15, tzinfo=ceb_source.TZ)
    assert first.mix["coal"] == Decimal("535.0471") and first.mix["thermal_oil"] == Decimal("765.3902420000002")
    assert set(first.mix) == {"coal", "hydro", "mini_hydro", "biomass", "solar", "thermal_oil", "wind"}
    assert first.frequency_hz is None and first.demand_mw == first.generation_mw == sum(first.mix.values())
    assert any("date=2026-12-02" in p for p in standin.requests)


def test_ceb_empty_and_malformed_answers(standin):
    standin.mode = "empty"
    assert CebSource(standin.url).fetch(since=SINCE, until=UNTIL) == []
    with pytest.raises(SourceError, match="not JSON"):
        ceb_source.parse("[{broken")
    with pytest.raises(SourceError, match="DateTime"):
        ceb_source.parse(json.dumps([{"Coal": 1}]))
    with pytest.raises(SourceError, match="not a number"):
        ceb_source.parse(json.dumps([{"DateTime": "2026-12-02T00:15:00", "Coal": "lots"}]))


def test_replay_plays_the_recorded_excursion_at_any_speed():
    anchor = datetime(2026, 1, 1, tzinfo=UTC)
    noon = datetime(2026, 12, 3, 12, 2, tzinfo=UTC)
    normal = ReplaySource(anchor=anchor, speed=1).fetch(since=noon - timedelta(minutes=1), until=noon)
    assert len(normal) == 4 and all(r.frequency_hz <= Decimal("49.72") for r in normal)
    # Ten times faster: the same recorded minute passes in six seconds.
    fast = ReplaySource(anchor=anchor, speed=10)
    at = anchor + timedelta(seconds=(noon - anchor).total_seconds() / 10)
    quick = fast.fetch(since=at - timedelta(seconds=6), until=at)
    assert [r.frequency_hz for r in quick] == [r.frequency_hz for r in normal]
    assert quick[1].ts - quick[0].ts == timedelta(seconds=1.5)


def test_replay_fetches_no_reading_twice_across_polls():
    source = ReplaySource(anchor=datetime(2026, 1, 1, tzinfo=UTC), speed=1)
    t = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
    first = source.fetch(since=t, until=t + timedelta(seconds=30))
    second = source.fetch(since=t + timedelta(seconds=30), until=t + timedelta(seconds=60))
    assert not {r.ts for r in first} & {r.ts for r in second}
    assert len(first) + len(second) == 4


def test_recorded_samples_are_in_the_repository():
    assert {p.name for p in RECORDED.iterdir()} >= {
        "bmrs_frequency.json", "bmrs_fuelinst.json", "bmrs_demand.json", "entsoe_load.xml",
        "entsoe_generation.xml", "ceb_load_curve.json", "replay_day.csv"}
