"""The dashboard: live status counts, charger cards, revenue tiles and per-charger performance.

Everything is read inside a Scope and computed in SQL so the page stays cheap whatever the network
size: counts are one GROUP BY, cards are one page, and money comes from the roll-ups that a
trigger keeps (models/stats.py) rather than from millions of sessions. Only visible chargers count;
the visibility toggle hides a charger from dashboards. Period boundaries ("today", "this week", ...)
follow each organization's own timezone, and amounts in different currencies are never added up.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, cast, func, literal, literal_column, select, union_all
from sqlalchemy.dialects.postgresql import TIMESTAMP
from sqlmodel import Session

from core.clock import utcnow
from core.db import SYSTEM, use_db_scope
from core.errors import ValidationError
from core.events import EventType
from core.search import search_clause
from models import (
    Charger,
    ChargerDayStat,
    ChargerMonthStat,
    ChargerWindowStat,
    Organization,
    OrgDayStat,
    OrgMonthStat,
    SessionWindowAsOf,
    Transaction,
)
from models.base import values
from models.charger import ChargerStatus
from models.transaction import TransactionStatus
from services.access.permissions import Cap
from services.access.scope import Scope

PERIODS = ("today", "week", "month", "year")
# The performance table's windows: the last 24 hours, or the last N local days including today.
PERFORMANCE_PERIODS = {"24h": None, "7d": 7, "30d": 30, "365d": 365}
PERFORMANCE_SORTS = ("energy", "sessions", "revenue")


@dataclass(frozen=True)
class ChargerCard:
    id: int
    ocpp_id: str
    name: str
    organization_name: str
    status: str
    lifecycle_status: str
    connected: bool
    last_heartbeat_at: datetime | None
    timezone: str = "UTC"  # the organization's, for showing times


@dataclass(frozen=True)
class Overview:
    # Every OCPP status with its count, in ChargerStatus order (zeros included).
    status_counts: dict[str, int]
    organizations: int
    chargers: int
    cards: list[ChargerCard] = field(default_factory=list)
    # How many cards match the status filter and search (for pagination).
    matching: int = 0


def _visible(scope: Scope) -> list[Any]:
    return [scope.charger_filter(), Charger.visible.is_(True)]


def status_counts(*, session: Session, scope: Scope) -> dict[str, int]:
    scope.require(Cap.VIEW_DASHBOARD)
    counts = dict.fromkeys(values(ChargerStatus), 0)
    for st, n in session.execute(select(Charger.status, func.count()).where(*_visible(scope))
                                 .group_by(Charger.status)):
        counts[st] = n
    return counts


def overview(*, session: Session, scope: Scope, status: str | None = None, search: str | None = None,
             limit: int = 24, offset: int = 0) -> Overview:
    scope.require(Cap.VIEW_DASHBOARD)
    counts = status_counts(session=session, scope=scope)
    organizations = session.execute(
        select(func.count()).select_from(Organization).where(scope.org_filter(Organization.id))
    ).scalar_one()

    where = _visible(scope)
    if status:
        where.append(Charger.status == status)
    if (found := search_clause(search, Charger.ocpp_id, Charger.name, Charger.address)) is not None:
        where.append(found)
    if status or (search and search.strip()):
        matching = session.execute(select(func.count()).select_from(Charger).where(*where)).scalar_one()
    else:
        matching = sum(counts.values())
    rows = session.execute(
        select(Charger, Organization.name, Organization.timezone)
        .join(Organization, Organization.id == Charger.organization_id)
        .where(*where)
        .order_by(Charger.ocpp_id)
        .limit(limit)
        .offset(offset)
    ).all()
    return Overview(status_counts=counts, organizations=organizations, chargers=sum(counts.values()),
                    cards=[_card(c, org, tz) for c, org, tz in rows], matching=matching)


def _card(c: Charger, org_name: str, tz: str) -> ChargerCard:
    return ChargerCard(c.id, c.ocpp_id, c.name, org_name, c.status, c.lifecycle_status, c.connected,
                       c.last_heartbeat_at, tz)


def cards_by_id(*, session: Session, scope: Scope, charger_ids: list[int]) -> dict[int, ChargerCard]:
    """The current state of some cards (after a live event); ids outside the scope are left out."""
    scope.require(Cap.VIEW_DASHBOARD)
    if not charger_ids:
        return {}
    rows = session.execute(
        select(Charger, Organization.name, Organization.timezone)
        .join(Organization, Organization.id == Charger.organization_id)
        .where(Charger.id.in_(charger_ids), scope.charger_filter())
    ).all()
    return {c.id: _card(c, org, tz) for c, org, tz in rows}


def event_filter(*, session: Session, scope: Scope) -> Callable[[dict[str, Any]], bool]:
    """Which live events concern this scope, decided on the server from the user's own scope.

    Organizations come from the scope; a location owner additionally gets only its chargers' events.
    """
    org_ids = scope.org_ids
    charger_ids: frozenset[int] | None = None
    if scope.for_location_owner:
        charger_ids = frozenset(session.execute(select(Charger.id).where(scope.charger_filter())).scalars())

    def accept(event: dict[str, Any]) -> bool:
        if event.get("type") not in (EventType.CHARGER_STATUS, EventType.TRANSACTION, EventType.CHARGER):
            return False
        if org_ids is not None and event.get("organization_id") not in org_ids:
            return False
        return charger_ids is None or event.get("charger_id") in charger_ids

    return accept


# ---------------------------------------------------------------------------------------------------------
# Revenue, energy and sessions
# ---------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Totals:
    revenue: Decimal = Decimal(0)
    energy_kwh: Decimal = Decimal(0)
    sessions: int = 0

    def __add__(self, other: Totals) -> Totals:
        return Totals(self.revenue + other.revenue, self.energy_kwh + other.energy_kwh,
                      self.sessions + other.sessions)


@dataclass(frozen=True)
class OrgSummary:
    organization_id: int
    name: str
    currency: str
    periods: dict[str, Totals]  # today, week, month, year


@dataclass(frozen=True)
class CurrencySummary:
    currency: str
    periods: dict[str, Totals]


@dataclass(frozen=True)
class DayPoint:
    day: date
    currency: str
    revenue: Decimal
    energy_kwh: Decimal
    sessions: int


@dataclass(frozen=True)
class Summary:
    currencies: list[CurrencySummary]
    organizations: list[OrgSummary]
    # Revenue, energy and sessions per local day of the current month, per currency.
    days: list[DayPoint]


def _local_today(now: datetime) -> Any:
    """Each row's organization's local date at `now`, in SQL."""
    return cast(func.timezone(Organization.timezone, literal(now, TIMESTAMP(timezone=True))), Date)


def _stat_source(scope: Scope, *, monthly: bool = False, per_charger: bool = False) -> tuple[Any, list[Any]]:
    """The roll-up to read and its scope clause: per organization when the scope allows, else per charger
    (always for a location owner: only the per-charger roll-ups carry the owner snapshot)."""
    stat = OrgMonthStat if monthly else OrgDayStat
    if per_charger or not scope.can_filter(stat):
        stat = ChargerMonthStat if monthly else ChargerDayStat
    return stat, [scope.stat_filter(stat)]


def _bounds(stat: Any, now: datetime, *, days: int | None = None, month: bool = False) -> list[Any]:
    """Index-friendly outer limits on `day`, true for every timezone (local dates lie within a day of UTC's).

    The exact per-organization limits compare with each row's local date, which an index cannot use.
    """
    first, last = now.date() - timedelta(days=1), now.date() + timedelta(days=1)
    if days is not None:
        first = first - timedelta(days=days)
    elif month:
        first = first.replace(day=1)
    return [stat.day >= first, stat.day <= last]


def _month_bounds(stat: Any, now: datetime) -> list[Any]:
    """Index-friendly outer limits on `month` for this year's finished months, in every timezone."""
    return [stat.month >= (now.date() - timedelta(days=1)).replace(month=1, day=1),
            stat.month <= now.date() + timedelta(days=1)]


def _kwh(wh: Any) -> Decimal:
    return Decimal(wh or 0) / 1000


def _org_days(scope: Scope, now: datetime) -> Any:
    """Each organization's local today and period starts, computed once per organization.

    Materialized so PostgreSQL does not recompute timezone conversions for every roll-up row.
    """
    today = _local_today(now)
    return (select(Organization.id.label("id"), Organization.name.label("name"), today.label("today"),
                   cast(func.date_trunc("week", today), Date).label("week"),
                   cast(func.date_trunc("month", today), Date).label("month"),
                   cast(func.date_trunc("year", today), Date).label("year"))
            .where(scope.org_filter(Organization.id))
            .cte("org_days").prefix_with("MATERIALIZED"))


def summary(*, session: Session, scope: Scope) -> Summary:
    """Revenue, kWh and sessions for today, this week (from Monday), this month and this year.

    "This year" adds the finished months from the monthly roll-up to the current month's days, so a
    year costs about 40 rows per organization instead of 365.
    """
    scope.require(Cap.VIEW_DASHBOARD)
    now = utcnow()
    stat, where = _stat_source(scope)
    od = _org_days(scope, now)
    no = literal(False)
    # Days since the earlier of this week's Monday and the 1st; each counts in the year from the 1st on.
    recent = (select(od.c.id, od.c.name, stat.currency, stat.sessions, stat.energy_wh, stat.revenue,
                     (stat.day >= od.c.today).label("today"), (stat.day >= od.c.week).label("week"),
                     (stat.day >= od.c.month).label("month"), (stat.day >= od.c.month).label("year"))
              .select_from(stat).join(od, od.c.id == stat.organization_id)
              .where(*where, *_bounds(stat, now, days=31), stat.day >= func.least(od.c.week, od.c.month),
                     stat.day <= od.c.today))
    mstat, mwhere = _stat_source(scope, monthly=True)
    months = (select(od.c.id, od.c.name, mstat.currency, mstat.sessions, mstat.energy_wh, mstat.revenue,
                     no, no, no, literal(True))
              .select_from(mstat).join(od, od.c.id == mstat.organization_id)
              .where(*mwhere, *_month_bounds(mstat, now), mstat.month >= od.c.year, mstat.month < od.c.month))
    u = recent.union_all(months).subquery()
    columns = []
    for p in PERIODS:
        in_period = u.c[p]
        columns += [func.coalesce(func.sum(u.c.revenue).filter(in_period), 0),
                    func.coalesce(func.sum(u.c.energy_wh).filter(in_period), 0),
                    func.coalesce(func.sum(u.c.sessions).filter(in_period), 0)]
    stmt = (select(u.c.id, u.c.name, u.c.currency, *columns)
            .group_by(u.c.id, u.c.name, u.c.currency)
            .order_by(u.c.name, u.c.currency))
    orgs = []
    for oid, name, currency, *vals in session.execute(stmt):
        periods = {p: Totals(Decimal(vals[3 * i]), _kwh(vals[3 * i + 1]), int(vals[3 * i + 2]))
                   for i, p in enumerate(PERIODS)}
        orgs.append(OrgSummary(oid, name, currency, periods))
    by_currency: dict[str, dict[str, Totals]] = {}
    for o in orgs:
        acc = by_currency.setdefault(o.currency, {p: Totals() for p in PERIODS})
        for p in PERIODS:
            acc[p] = acc[p] + o.periods[p]
    currencies = [CurrencySummary(c, by_currency[c]) for c in sorted(by_currency)]

    day_stmt = (select(stat.day, stat.currency, func.sum(stat.revenue), func.sum(stat.energy_wh),
                       func.sum(stat.sessions))
                .select_from(stat).join(od, od.c.id == stat.organization_id)
                .where(*where, *_bounds(stat, now, month=True), stat.day >= od.c.month, stat.day <= od.c.today)
                .group_by(stat.day, stat.currency).order_by(stat.day, stat.currency))
    days = [DayPoint(d, c, Decimal(r), _kwh(wh), int(n)) for d, c, r, wh, n in session.execute(day_stmt)]
    return Summary(currencies=currencies, organizations=orgs, days=days)


def month_days(summary: Summary, today: date) -> list[date]:
    """Every day of the current month up to today, for a chart without gaps."""
    first = today.replace(day=1)
    if summary.days:
        first = min(first, min(p.day for p in summary.days))
        today = max(today, max(p.day for p in summary.days))
    return [first + timedelta(days=i) for i in range((today - first).days + 1)]


# ---------------------------------------------------------------------------------------------------------
# Per-charger performance
# ---------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PerformanceRow:
    charger_id: int
    ocpp_id: str
    name: str
    organization_name: str
    currency: str
    revenue: Decimal
    energy_kwh: Decimal
    sessions: int


def performance(*, session: Session, scope: Scope, period: str = "7d", sort: str = "energy", limit: int = 10,
                offset: int = 0) -> tuple[list[PerformanceRow], int]:
    """Revenue, kWh and sessions per visible charger over the period; one page, best first, and the count.

    Chargers without sessions in the period are listed too (with zeros), after the others. Energy and
    sessions rank across the whole scope. Revenue never compares amounts in different currencies: rows
    are grouped by currency (alphabetically) and ranked by revenue within each.

    The last 24 hours come from the sessions themselves; 7, 30 and 365 days from the rolling-window
    roll-up (models/stats.py), moved to each organization's local today first when a day has passed.
    """
    scope.require(Cap.VIEW_DASHBOARD)
    if period not in PERFORMANCE_PERIODS:
        raise ValidationError(f"Period must be one of: {', '.join(PERFORMANCE_PERIODS)}.", "period")
    if sort not in PERFORMANCE_SORTS:
        raise ValidationError(f"Sort must be one of: {', '.join(PERFORMANCE_SORTS)}.", "sort")
    now = utcnow()
    days = PERFORMANCE_PERIODS[period]
    if days is None:
        s = Transaction
        agg = (select(s.charger_id.label("charger_id"), s.currency.label("currency"),
                      func.count().label("sessions"), func.coalesce(func.sum(s.energy_wh), 0).label("energy_wh"),
                      func.coalesce(func.sum(s.amount_gross), 0).label("revenue"))
               .where(s.status == TransactionStatus.COMPLETED, s.started_at >= now - timedelta(hours=24),
                      s.started_at <= now,
                      scope.transaction_filter())
               .group_by(s.charger_id, s.currency))
    elif scope.can_filter(ChargerWindowStat) and _windows_ready(session=session, scope=scope, now=now):
        # About one row per charger and currency (more only for a charger that moved between organizations):
        # no aggregation over a year of daily rows.
        s = ChargerWindowStat
        agg = (select(s.charger_id, s.currency, func.sum(s.sessions).label("sessions"),
                      func.sum(s.energy_wh).label("energy_wh"), func.sum(s.revenue).label("revenue"))
               .where(s.days == days, scope.stat_filter(s), s.sessions != 0)
               .group_by(s.charger_id, s.currency))
    else:
        agg = _calendar_window(scope, now, days)
    agg = agg.subquery()
    if sort == "revenue":
        order = [func.coalesce(agg.c.currency, Organization.currency), agg.c.revenue.desc().nulls_last()]
    else:
        order = [{"energy": agg.c.energy_wh, "sessions": agg.c.sessions}[sort].desc().nulls_last()]
    rows = session.execute(
        select(Charger.id, Charger.ocpp_id, Charger.name, Organization.name,
               func.coalesce(agg.c.currency, Organization.currency), func.coalesce(agg.c.revenue, 0),
               func.coalesce(agg.c.energy_wh, 0), func.coalesce(agg.c.sessions, 0))
        .join(Organization, Organization.id == Charger.organization_id)
        .outerjoin(agg, agg.c.charger_id == Charger.id)
        .where(*_visible(scope))
        .order_by(*order, Charger.ocpp_id)
        .limit(limit).offset(offset)
    ).all()
    total = session.execute(select(func.count()).select_from(Charger).where(*_visible(scope))).scalar_one()
    return [PerformanceRow(cid, ocpp_id, name, org, cur, Decimal(rev), _kwh(wh), int(n))
            for cid, ocpp_id, name, org, cur, rev, wh, n in rows], total


def _calendar_window(scope: Scope, now: datetime, days: int) -> Any:
    """The last `days` local days per charger from the calendar roll-ups: the whole months inside the
    window from the monthly one, the days of its partial first and last months from the daily one.

    A location owner's table always comes from here (its few chargers, split by owner); other scopes
    use it while their windows cannot move (sessions of the organization being written at that moment).
    """
    one_month = literal_column("interval '1 month'")
    today = _local_today(now)
    first = today - (days - 1)
    edges = (select(Organization.id.label("id"), today.label("today"), first.label("first"),
                    # Whole months start on or after `first` and before the month of tomorrow.
                    cast(func.date_trunc("month", first - 1) + one_month, Date).label("whole_from"),
                    cast(func.date_trunc("month", today + 1), Date).label("whole_to"))
             .where(scope.org_filter(Organization.id))
             .cte("window_edges").prefix_with("MATERIALIZED"))
    d, dwhere = _stat_source(scope, per_charger=True)
    m, mwhere = _stat_source(scope, monthly=True, per_charger=True)

    def cols(t: Any) -> list[Any]:
        return [t.charger_id.label("charger_id"), t.currency.label("currency"), t.sessions.label("sessions"),
                t.energy_wh.label("energy_wh"), t.revenue.label("revenue")]

    head = (select(*cols(d)).join(edges, edges.c.id == d.organization_id)
            .where(*dwhere, *_bounds(d, now, days=days), d.day >= edges.c.first,
                   d.day < func.least(edges.c.whole_from, edges.c.today + 1)))
    tail = (select(*cols(d)).join(edges, edges.c.id == d.organization_id)
            .where(*dwhere, *_bounds(d, now, days=31), d.day >= func.greatest(edges.c.whole_to, edges.c.whole_from),
                   d.day <= edges.c.today))
    whole = (select(*cols(m)).join(edges, edges.c.id == m.organization_id)
             .where(*mwhere, m.month >= edges.c.whole_from, m.month < edges.c.whole_to,
                    m.month >= now.date() - timedelta(days=days + 31)))
    u = union_all(head, tail, whole).subquery()
    return (select(u.c.charger_id, u.c.currency, func.sum(u.c.sessions).label("sessions"),
                   func.sum(u.c.energy_wh).label("energy_wh"), func.sum(u.c.revenue).label("revenue"))
            .group_by(u.c.charger_id, u.c.currency)
            .having(func.sum(u.c.sessions) != 0))


def _windows_ready(*, session: Session, scope: Scope, now: datetime) -> bool:
    """Whether the rolling windows of every organization in scope end on its local today.

    Windows left on an earlier (or later) day are moved in a short transaction of their own, so every
    reader gains from it. The move does not wait: if sessions of that organization are being written
    right now (possibly by the caller), it declines and this read sums the calendar roll-ups instead.
    """
    rows = session.execute(
        select(Organization.id, _local_today(now), SessionWindowAsOf.as_of)
        .outerjoin(SessionWindowAsOf, SessionWindowAsOf.organization_id == Organization.id)
        .where(scope.org_filter(Organization.id))
    ).all()
    stale = [(oid, today) for oid, today, as_of in rows if as_of != today]
    if not stale:
        return True
    with Session(session.get_bind()) as mover:
        # Roll-up upkeep for organizations the caller may see; the functions read and write whole windows.
        use_db_scope(mover, SYSTEM)
        moved = [mover.execute(select(func.advance_session_windows(oid, today))).scalar_one()
                 for oid, today in stale]
        mover.commit()
    return all(moved)
