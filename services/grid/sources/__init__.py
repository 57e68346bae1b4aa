"""Grid data sources behind one interface: `fetch(since, until)` yields time-stamped readings of a region.

Each adapter speaks its source's documented API (Elexon BMRS, ENTSO-E through `entsoe-py`, CEB's load
curve) or plays a recorded day (replay). A source that cannot be read raises SourceError with a short
reason; an answer that cannot be parsed is a SourceError too, never a half-read batch.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Protocol

RECORDED = Path(__file__).resolve().parent / "recorded"


class SourceError(Exception):
    """The source did not answer, or answered something we cannot read."""


@dataclass
class Reading:
    ts: datetime
    frequency_hz: Decimal | None = None
    demand_mw: Decimal | None = None
    generation_mw: Decimal | None = None
    mix: dict[str, Decimal] | None = None  # MW by fuel
    flags: list[str] = field(default_factory=list)


class Source(Protocol):
    name: str

    def fetch(self, *, since: datetime, until: datetime) -> list[Reading]: ...


def number(value: object, what: str) -> Decimal | None:
    """A finite number from a JSON/XML answer (None stays None); anything else is a SourceError."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise SourceError(f"{what}: {value!r} is not a number")
    try:
        d = Decimal(str(value))
    except ArithmeticError as exc:
        raise SourceError(f"{what}: {value!r} is not a number") from exc
    if not d.is_finite():
        raise SourceError(f"{what}: {value!r} is not a number")
    return d


def total(mix: dict[str, Decimal]) -> Decimal | None:
    return sum(mix.values(), Decimal(0)) if mix else None
