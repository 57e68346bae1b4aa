"""GB, Elexon BMRS (Insights API, keyless).

- `GET /bmrs/api/v1/system/frequency?from=&to=&format=json`: {"data": [{"dataset": "FREQ",
  "measurementTime": "...Z", "frequency": 49.98}, ...]}, one reading every 15 s.
- `GET /bmrs/api/v1/datasets/FUELINST?publishDateTimeFrom=&publishDateTimeTo=&format=json`: generation by
  fuel type every 5 minutes, {"data": [{"startTime", "fuelType", "generation"}, ...]}.
- `GET /bmrs/api/v1/demand/outturn?settlementDateFrom=&settlementDateTo=&format=json`: initial national
  demand outturn per settlement period, {"data": [{"startTime", "initialDemandOutturn"}, ...]}.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from services.grid.sources import Reading, SourceError, number, total
from services.grid.sources.http import get_json

FREQUENCY = "/bmrs/api/v1/system/frequency"
FUELINST = "/bmrs/api/v1/datasets/FUELINST"
DEMAND = "/bmrs/api/v1/demand/outturn"


def _rows(answer: Any, what: str) -> list[dict]:
    rows = answer.get("data") if isinstance(answer, dict) else answer
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise SourceError(f"BMRS {what}: the answer has no list of rows")
    return rows


def _ts(value: object, what: str) -> datetime:
    if not isinstance(value, str):
        raise SourceError(f"BMRS {what}: missing time")
    try:
        ts = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise SourceError(f"BMRS {what}: {value!r} is not a time") from exc
    if ts.tzinfo is None:
        raise SourceError(f"BMRS {what}: {value!r} has no time zone")
    return ts


def parse_frequency(answer: Any) -> list[Reading]:
    return [Reading(ts=_ts(r.get("measurementTime"), "frequency"), frequency_hz=number(r.get("frequency"), "frequency"))
            for r in _rows(answer, "frequency")]


def parse_fuelinst(answer: Any) -> list[Reading]:
    mixes: dict[datetime, dict[str, Decimal]] = defaultdict(dict)
    for r in _rows(answer, "FUELINST"):
        fuel = r.get("fuelType")
        if not isinstance(fuel, str) or not fuel:
            raise SourceError("BMRS FUELINST: a row has no fuel type")
        value = number(r.get("generation"), "FUELINST generation")
        if value is not None:
            mixes[_ts(r.get("startTime"), "FUELINST")][fuel.lower()[:24]] = value
    return [Reading(ts=ts, generation_mw=total(mix), mix=mix) for ts, mix in sorted(mixes.items())]


def parse_demand(answer: Any) -> list[Reading]:
    return [Reading(ts=_ts(r.get("startTime"), "demand"), demand_mw=number(r.get("initialDemandOutturn"), "demand"))
            for r in _rows(answer, "demand")]


def _iso(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


class BmrsSource:
    name = "bmrs"

    def __init__(self, base_url: str) -> None:
        self.base = base_url.rstrip("/")

    def fetch(self, *, since: datetime, until: datetime) -> list[Reading]:
        window = {"from": _iso(since), "to": _iso(until), "format": "json"}
        readings = parse_frequency(get_json(self.base + FREQUENCY, window))
        readings += parse_fuelinst(get_json(self.base + FUELINST, {
            "publishDateTimeFrom": _iso(since), "publishDateTimeTo": _iso(until), "format": "json"}))
        readings += parse_demand(get_json(self.base + DEMAND, {
            "settlementDateFrom": since.date().isoformat(), "settlementDateTo": until.date().isoformat(),
            "format": "json"}))
        return merge(readings)


def merge(readings: list[Reading]) -> list[Reading]:
    """Readings of the same instant from several answers become one row."""
    by_ts: dict[datetime, Reading] = {}
    for r in readings:
        have = by_ts.setdefault(r.ts, Reading(ts=r.ts))
        for name in ("frequency_hz", "demand_mw", "generation_mw", "mix"):
            if getattr(r, name) is not None:
                setattr(have, name, getattr(r, name))
    return [by_ts[ts] for ts in sorted(by_ts)]
