"""Reading the Finances and Transactions roll-ups (models/stats.py, migrations 0013-0015).

A time range becomes, per group of organizations sharing a timezone, the whole local days inside it
(summed from the roll-ups) and the partial days at its edges (summed from the sessions). The roll-ups
hold priced, completed sessions only; the others are few and always read from the sessions. The UTC
bounds are computed here in Python, once per timezone, so the session queries compare a plain column
with constants and use their indexes.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, false, func, or_, select
from sqlmodel import Session

from models import Organization, Transaction
from services.access.scope import Scope

# Sessions the roll-ups leave out; written exactly as the partial index's predicate so it is used.
UNROLLED = or_(Transaction.status != "completed", Transaction.priced_at.is_(None))
ROLLED = and_(Transaction.status == "completed", Transaction.priced_at.is_not(None))


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


@dataclass
class Span:
    """A range for the organizations of one timezone: whole local days `first`..`last` (inclusive; None is
    unbounded) and the UTC ranges [start, end) around them read from the sessions (end None: open)."""
    org_ids: list[int]
    first: date | None
    last: date | None
    lead: tuple[datetime, datetime] | None = None         # before the first whole day
    tail: tuple[datetime, datetime | None] | None = None  # after the last one
    whole: bool = True  # False: no whole day inside, `lead` covers everything

    def day_clause(self, column: Any, org_column: Any) -> Any:
        parts = [org_column.in_(self.org_ids)]
        if self.first is not None:
            parts.append(column >= self.first)
        if self.last is not None:
            parts.append(column <= self.last)
        return and_(*parts)

    def utc_bounds(self, zone: ZoneInfo) -> tuple[datetime | None, datetime | None]:
        """The whole days as a UTC range [start, end)."""
        return (None if self.first is None else local_midnight(self.first, zone),
                None if self.last is None else local_midnight(self.last + timedelta(days=1), zone))


def split(start: datetime | None, end: datetime | None, zone: ZoneInfo, org_ids: list[int]) -> Span:
    """[start, end) in UTC as whole local days in `zone` plus the partial days at either end."""
    first = last = None
    if start is not None:
        day = start.astimezone(zone).date()
        first = day if local_midnight(day, zone) == start else day + timedelta(days=1)
    if end is not None:
        last = end.astimezone(zone).date() - timedelta(days=1)
    if first is not None and last is not None and first > last:
        return Span(org_ids, None, None, lead=(start, end), whole=False)
    span = Span(org_ids, first, last)
    if start is not None and local_midnight(first, zone) > start:
        span.lead = (start, local_midnight(first, zone))
    if end is not None and local_midnight(last + timedelta(days=1), zone) < end:
        span.tail = (local_midnight(last + timedelta(days=1), zone), end)
    return span


def zones(session: Session, scope: Scope) -> list[tuple[ZoneInfo, list[int]]]:
    """The organizations in scope, grouped by timezone."""
    by_zone: dict[str, list[int]] = defaultdict(list)
    for oid, tz in session.execute(select(Organization.id, Organization.timezone)
                                   .where(scope.org_filter(Organization.id)).order_by(Organization.id)):
        by_zone[tz].append(oid)
    return [(ZoneInfo(tz), ids) for tz, ids in sorted(by_zone.items())]


Bounds = Callable[[ZoneInfo], tuple[datetime | None, datetime | None]]


def spans(session: Session, scope: Scope, bounds: Bounds) -> list[tuple[ZoneInfo, Span]]:
    """One Span per timezone among the organizations in scope; `bounds` gives the UTC range for a zone."""
    return [(zone, split(*bounds(zone), zone, ids)) for zone, ids in zones(session, scope)]


def local_day_bounds(session: Session, scope: Scope, first: date | None, last: date | None,
                     column: Any) -> Any:
    """Local dates first..last (inclusive), each organization in its own timezone, as UTC bounds on a
    timestamp column: one clause per timezone instead of converting every row."""
    clauses, starts, ends = [], [], []
    for zone, ids in zones(session, scope):
        parts = [Transaction.organization_id.in_(ids)]
        if first is not None:
            starts.append(local_midnight(first, zone))
            parts.append(column >= starts[-1])
        if last is not None:
            ends.append(local_midnight(last + timedelta(days=1), zone))
            parts.append(column < ends[-1])
        clauses.append(and_(*parts))
    if not clauses:
        return false()
    # Outer bounds across the timezones, so an index on the column reads one range.
    return and_(*([column >= min(starts)] if starts else []), *([column < max(ends)] if ends else []),
                or_(*clauses))


def _sides(parts: list[tuple[ZoneInfo, Span]]) -> list[list[tuple[list[int], datetime, datetime | None]]]:
    """The edges by side (lead, tail), each as (organizations, start, end) per timezone."""
    sides: dict[str, list[tuple[list[int], datetime, datetime | None]]] = defaultdict(list)
    for _, span in parts:
        for side, edge in (("lead", span.lead), ("tail", span.tail)):
            if edge is not None:
                sides[side].append((span.org_ids, *edge))
    return list(sides.values())


def edge_ranges(parts: list[tuple[ZoneInfo, Span]]) -> list[tuple[datetime, datetime | None]]:
    """Per side, the UTC range that holds every timezone's edge (one index range to read)."""
    out = []
    for ranges in _sides(parts):
        ends = [b for _, _, b in ranges]
        out.append((min(a for _, a, _ in ranges), None if None in ends else max(ends)))
    return out


def edge_clauses(parts: list[tuple[ZoneInfo, Span]], column: Any,
                 org_column: Any = Transaction.organization_id) -> list[Any]:
    """The edges as clauses on a session timestamp, one per side, each within its outer range."""
    out = []
    for (low, high), ranges in zip(edge_ranges(parts), _sides(parts), strict=True):
        exact = or_(*[and_(org_column.in_(ids), column >= a, *([column < b] if b else []))
                      for ids, a, b in ranges])
        out.append(and_(column >= low, *([column < high] if high else []), exact))
    return out


def whole_clause(parts: list[tuple[ZoneInfo, Span]], column: Any) -> Any:
    """The whole days of every span as UTC bounds on a session timestamp (for the sessions the roll-ups
    leave out)."""
    clauses = []
    for zone, span in parts:
        if not span.whole:
            continue
        a, b = span.utc_bounds(zone)
        clauses.append(and_(Transaction.organization_id.in_(span.org_ids),
                            *([column >= a] if a else []), *([column < b] if b else [])))
    return or_(*clauses) if clauses else false()


def rollup_clause(parts: list[tuple[ZoneInfo, Span]], day_column: Any, org_column: Any) -> Any:
    clauses = [span.day_clause(day_column, org_column) for _, span in parts if span.whole]
    firsts = [s.first for _, s in parts if s.whole]
    lasts = [s.last for _, s in parts if s.whole]
    if not clauses:
        return false()
    outer = []
    if None not in firsts:
        outer.append(day_column >= min(firsts))
    if None not in lasts:
        outer.append(day_column <= max(lasts))
    return and_(*outer, or_(*clauses))


Range = tuple[datetime, datetime]


def hour_split(start: datetime, end: datetime) -> tuple[Range | None, list[Range]]:
    """[start, end) as whole UTC hours and the partial hours at either end."""
    first = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    if first < start:
        first += timedelta(hours=1)
    last = end.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    if first >= last:
        return None, [(start, end)]
    return (first, last), [(a, b) for a, b in ((start, first), (last, end)) if a < b]


def month_clauses(parts: list[tuple[ZoneInfo, Span]], month_model: Any, day_model: Any) -> tuple[Any, Any]:
    """The whole days of every span as whole months (on `month_model`) and leftover days (on `day_model`)."""
    months, days = [], []
    for _, span in parts:
        if not span.whole:
            continue
        whole, rest = month_split(span.first, span.last)
        if whole is not None:
            months.append(Span(span.org_ids, *whole).day_clause(month_model.month, month_model.organization_id))
        days += [Span(span.org_ids, a, b).day_clause(day_model.day, day_model.organization_id) for a, b in rest]
    return (or_(*months) if months else false()), (or_(*days) if days else false())


def month_split(first: date | None, last: date | None) -> tuple[tuple[date | None, date | None] | None,
                                                               list[tuple[date | None, date | None]]]:
    """Whole days first..last as whole months (first days of the first and last month, inclusive) and the
    day ranges left over at either end."""
    m_first = None if first is None else (first if first.day == 1 else _next_month(first))
    m_last = None if last is None else _month_start(last + timedelta(days=1)) - timedelta(days=1)
    m_last_start = None if m_last is None else _month_start(m_last)
    if m_first is not None and m_last_start is not None and m_first > m_last_start:
        return None, [(first, last)]
    days = []
    if first is not None and first < m_first:
        days.append((first, m_first - timedelta(days=1)))
    if last is not None and m_last < last:
        days.append((m_last + timedelta(days=1), last))
    return (m_first, m_last_start), days


def _month_start(d: date) -> date:
    return d.replace(day=1)


def _next_month(d: date) -> date:
    return (d.replace(day=28) + timedelta(days=4)).replace(day=1)


@dataclass
class Sums:
    sessions: int = 0
    energy_wh: int = 0
    gross: Decimal = Decimal(0)
    net_cpo: Decimal = Decimal(0)
    duration_s: Decimal = Decimal(0)
    finished: int = 0  # sessions with a stop time (the average duration's denominator)

    def add(self, sessions: int, energy_wh: Any, gross: Any, net_cpo: Any, duration_s: Any, finished: int) -> None:
        self.sessions += int(sessions)
        self.energy_wh += int(energy_wh or 0)
        self.gross += Decimal(gross or 0)
        self.net_cpo += Decimal(net_cpo or 0)
        self.duration_s += Decimal(duration_s or 0)
        self.finished += int(finished or 0)


# The sums each source aggregates, in Sums.add's order.
def rollup_sums(model: Any) -> list[Any]:
    """The sums of a roll-up in Sums.add's order, labelled s0.. (every rolled-up session has finished)."""
    return [c.label(f"s{i}") for i, c in enumerate((
        func.sum(model.sessions), func.sum(model.energy_wh), func.sum(model.gross), func.sum(model.net_cpo),
        func.sum(model.duration_s), func.sum(model.sessions)))]


def rollup_columns(model: Any) -> list[Any]:
    """A roll-up row's figures as rollup_sums labels them, unsummed, for a union summed as a whole."""
    return [c.label(f"s{i}") for i, c in enumerate((
        model.sessions, model.energy_wh, model.gross, model.net_cpo, model.duration_s, model.sessions))]
