"""Replay: a recorded day played back at any speed, so the monitor is alive without network access.

`recorded/replay_day.csv` holds one row per 15 s (offset into the day, frequency) and, every 5 minutes,
demand, generation and the mix by fuel. At 12:00–12:07 (day time) the frequency drops to 49.7 Hz and
recovers: a large generator trips. The day is laid on wall time from `anchor`, `speed` recorded seconds per
wall second, and loops.
"""
from __future__ import annotations

import csv
from bisect import bisect_left, bisect_right
from datetime import datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from services.grid.sources import RECORDED, Reading, SourceError, number

DAY = 86400
DAY_FILE = RECORDED / "replay_day.csv"
# The longest stretch fetched at once: a worker that was down does not replay hours in one go.
MAX_WINDOW = timedelta(minutes=10)


@lru_cache(maxsize=4)
def load_day(path: Path) -> tuple[list[int], list[Reading]]:
    """(offsets, readings with ts unset) from a recorded day."""
    try:
        with path.open(newline="") as fh:
            rows = list(csv.DictReader(fh))
    except OSError as exc:
        raise SourceError(f"replay: cannot read {path.name}") from exc
    offsets, readings = [], []
    fuels = [f for f in (rows[0].keys() if rows else ()) if f not in
             ("offset_s", "frequency_hz", "demand_mw", "generation_mw")]
    for row in rows:
        try:
            offset = int(row["offset_s"])
        except (KeyError, TypeError, ValueError) as exc:
            raise SourceError("replay: a row has no offset") from exc
        mix = {f: v for f in fuels if (v := number(row.get(f), f"replay {f}")) is not None}
        offsets.append(offset)
        readings.append(Reading(ts=datetime.min, frequency_hz=number(row.get("frequency_hz"), "replay frequency"),
                                demand_mw=number(row.get("demand_mw"), "replay demand"),
                                generation_mw=number(row.get("generation_mw"), "replay generation"),
                                mix=mix or None))
    if not offsets or offsets != sorted(offsets) or offsets[-1] >= DAY:
        raise SourceError("replay: the recorded day is empty or out of order")
    return offsets, readings


class ReplaySource:
    name = "replay"

    def __init__(self, *, anchor: datetime, speed: float, path: Path = DAY_FILE) -> None:
        if not 0 < speed <= 10000:
            raise SourceError("replay: the speed must be between 0 and 10000")
        self.anchor, self.speed, self.path = anchor, speed, path

    def position(self, when: datetime) -> float:
        """Seconds into the recorded day (unwrapped) at wall time `when`."""
        return (when - self.anchor).total_seconds() * self.speed

    def fetch(self, *, since: datetime, until: datetime) -> list[Reading]:
        offsets, day = load_day(self.path)
        since = max(since, until - MAX_WINDOW)
        start, end = self.position(since), self.position(until)
        out = []
        loop = int(start // DAY)
        while loop * DAY <= end:
            lo = bisect_right(offsets, start - loop * DAY)  # strictly after `since`: no reading twice
            hi = bisect_left(offsets, end - loop * DAY + 1e-9) if end - loop * DAY < DAY else len(offsets)
            for i in range(lo, hi):
                played = loop * DAY + offsets[i]
                wall = self.anchor + timedelta(seconds=played / self.speed)
                r = day[i]
                out.append(Reading(ts=wall.replace(microsecond=0) if self.speed <= 1 else wall,
                                   frequency_hz=r.frequency_hz, demand_mw=r.demand_mw,
                                   generation_mw=r.generation_mw, mix=dict(r.mix) if r.mix else None))
            loop += 1
        return out


def at(source: ReplaySource, when: datetime) -> Decimal | None:
    """The recorded frequency playing at `when` (for the demo's printout)."""
    offsets, day = load_day(source.path)
    i = bisect_right(offsets, source.position(when) % DAY) - 1
    return day[max(i, 0)].frequency_hz
