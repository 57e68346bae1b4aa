"""Revenue figures for the Finances page: per charger, per organization and rolled up the tree.

Revenue is what drivers paid (the sessions' amount_gross), counted when the session stopped. Figures are
always kept per currency: amounts in different currencies are never added together.

A location owner's figures also carry its commission: each session's `amount_location_owner`, the share its
contract in force when the session started gave it (services/charging/pricing.py). What a location owner earns
is its commission, not the revenue; the Finances page shows it that way.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Date,
    DateTime,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    cast,
    column,
    false,
    func,
    or_,
    select,
    true,
    union,
    values,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Session

from core.clock import utcnow
from core.money import round_money
from core.search import search_clause
from models import (
    Charger,
    ChargerEarnerStat,
    ChargerStopDayStat,
    Organization,
    OrgStopDayStat,
    OrgStopHourStat,
    Transaction,
)
from models.transaction import TransactionStatus
from services.access.permissions import Cap
from services.access.scope import Scope
from services.charging import rollups

PERIODS: dict[str, timedelta] = {
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
    "365d": timedelta(days=365),
}
PERIOD_LABELS = {"24h": "Last 24 hours", "7d": "Last 7 days", "30d": "Last 30 days", "365d": "Last 365 days"}


@dataclass(frozen=True)
class Figures:
    revenue: Decimal = Decimal(0)
    energy_kwh: Decimal = Decimal(0)
    sessions: int = 0
    # The location owner's commission on these sessions; filled for a location owner's scope only.
    commission: Decimal = Decimal(0)

    def __add__(self, other: Figures) -> Figures:
        return Figures(self.revenue + other.revenue, self.energy_kwh + other.energy_kwh,
                       self.sessions + other.sessions, self.commission + other.commission)


def _empty() -> dict[str, Figures]:
    return {p: Figures() for p in PERIODS}


@dataclass(frozen=True)
class ChargerRevenue:
    charger_id: int
    ocpp_id: str
    name: str
    organization_id: int
    organization: str
    currency: str
    periods: dict[str, Figures]


def revenue_by_charger(*, session: Session, scope: Scope, now: datetime | None = None,
                       search: str | None = None, limit: int | None = None, offset: int = 0) -> list[ChargerRevenue]:
    """Revenue, kWh and session count per charger for the last 24 h, 7, 30 and 365 days.

    Sessions count for whoever earned them (`Scope.transaction_filter`), under the organization they were
    earned in. So every charger in scope is listed (with zeros when it had no sessions), and so is a charger
    that has since moved away, for what the scope earned on it. A charger that took sessions in two
    currencies or two organizations has one row for each. `search` keeps the chargers whose OCPP id, name
    or organization name contains it (any case). `limit`/`offset` take one page of rows (by organization
    name, then OCPP id) before adding up their sessions, so a page reads only its own chargers' figures.
    """
    scope.require(Cap.VIEW_FINANCE)
    now = now or utcnow()
    keys = _listed(session, scope, now, search).subquery()
    stmt = (select(Charger.id, Charger.ocpp_id, Charger.name, Organization.id, Organization.name,
                   Organization.currency)
            .select_from(keys).join(Charger, Charger.id == keys.c.charger_id)
            .join(Organization, Organization.id == keys.c.organization_id)
            .order_by(Organization.name, Charger.ocpp_id))
    if limit is not None:
        stmt = stmt.limit(limit).offset(offset)
    chargers = session.execute(stmt).all()
    if not chargers:
        return []
    figures = _charger_figures(session, scope, now, sorted({c[0] for c in chargers}))
    out = []
    for cid, ocpp_id, name, org_id, org_name, org_currency in chargers:
        # One row per currency its sessions were in; a charger without any is listed in its organization's.
        currencies = sorted(cur for (pair, cur) in figures if pair == (cid, org_id)) or [org_currency]
        out += [ChargerRevenue(cid, ocpp_id, name, org_id, org_name, cur,
                               figures.get(((cid, org_id), cur), _empty())) for cur in currencies]
    return out


def _charger_figures(session: Session, scope: Scope, now: datetime, ids: list[int]) -> dict[tuple, dict]:
    return _figures(session, scope, now, "charger", ChargerStopDayStat.charger_id.in_(ids),
                    Transaction.charger_id.in_(ids))


def _listed(session: Session, scope: Scope, now: datetime, search: str | None) -> Select:
    """The (charger, organization) rows the page lists: the chargers in scope now, under their organization,
    and every charger the scope earned on in the last 365 days under another organization (or, for a
    location owner, that it no longer holds), under the organization that earned it."""
    held = select(Charger.id.label("charger_id"), Charger.organization_id.label("organization_id")) \
        .where(scope.charger_filter())
    parts = [held]
    moved = _moved_away(session, scope, now)
    if moved:
        parts.append(select(values(column("charger_id", Integer), column("organization_id", Integer),
                                   name="moved").data(moved)))
    keys = union(*parts).subquery()
    return (select(keys.c.charger_id, keys.c.organization_id)
            .join(Charger, Charger.id == keys.c.charger_id)
            .join(Organization, Organization.id == keys.c.organization_id)
            .where(*_matching(search)))


def _moved_away(session: Session, scope: Scope, now: datetime) -> list[tuple[int, int]]:
    """The (charger, organization) pairs the scope earned on that are not among its chargers now, with
    sessions stopped in the last 365 days. Candidates come from the earner roll-up and the unpriced
    sessions, and are kept if their figures say so; there are few."""
    e, t = ChargerEarnerStat, Transaction
    not_held = lambda org: ~and_(org == Charger.organization_id, scope.charger_filter())  # noqa: E731
    candidates = set(session.execute(
        select(e.charger_id, e.organization_id).join(Charger, Charger.id == e.charger_id)
        .where(scope.stat_filter(e), e.sessions > 0, not_held(e.organization_id))).all())
    candidates |= set(session.execute(
        select(t.charger_id, t.organization_id).join(Charger, Charger.id == t.charger_id)
        .where(scope.transaction_filter(), t.status == TransactionStatus.COMPLETED, t.priced_at.is_(None),
               t.stopped_at >= now - PERIODS["365d"], t.stopped_at <= now, not_held(t.organization_id))
        .distinct()).all())
    if not candidates:
        return []
    figures = _charger_figures(session, scope, now, sorted({c for c, _ in candidates}))
    earned = {pair for (pair, _), periods in figures.items() if periods["365d"].sessions}
    return sorted(candidates & earned)


def _figures(session: Session, scope: Scope, now: datetime, key: str, rollup_where: Any,
             raw_where: Any) -> dict[tuple, dict[str, Figures]]:
    """Figures per (charger or organization, currency) and period, for the sessions this scope earned.

    Each period is, per timezone, whole local stop days (day roll-up) and the partial days at its edges.
    Per organization those come from the hourly roll-up and only the partial hours from the sessions;
    per charger (one page of them) straight from the sessions. Completed sessions not yet priced are
    not rolled up and always come from the sessions.

    A location owner's come from its sessions alone, with its commission (`_owner_figures`)."""
    if scope.for_location_owner:
        return _owner_figures(session, scope, now, key, raw_where)
    end = now + timedelta(microseconds=1)  # periods include a session stopped at `now`
    day_model = ChargerStopDayStat if key == "charger" else OrgStopDayStat
    hour_model = None if key == "charger" else OrgStopHourStat
    stopped = Transaction.stopped_at
    zones = rollups.zones(session, scope)
    # Per organization, the first whole day of each period and the last (None: no whole day).
    bounds: dict[int, dict[str, date | None]] = {oid: {} for _, ids in zones for oid in ids}
    # Per period, the partial days as (organizations, start, end) in UTC: whole hours and the rest.
    hours: list[tuple[str, list[int], datetime, datetime]] = []
    raw: list[tuple[str, list[int], datetime, datetime]] = []
    for p, d in PERIODS.items():
        for zone, ids in zones:
            span = rollups.split(now - d, end, zone, ids)
            for oid in ids:
                bounds[oid][p] = span.first if span.whole else None
                bounds[oid]["last"] = span.last if span.whole else bounds[oid].get("last")
            for edge in (span.lead, span.tail):
                if edge is None:
                    continue
                pieces = [edge]
                if hour_model is not None:
                    whole_hours, pieces = rollups.hour_split(*edge)
                    if whole_hours:
                        hours.append((p, ids, *whole_hours))
                raw += [(p, ids, a, b) for a, b in pieces]
    out: dict[tuple, dict[str, Figures]] = {}

    def take(stmt, keys: list[Any], when: dict[str, Any], gross: Any, wh: Any, n: Any) -> None:
        cols = []
        for p in PERIODS:
            cols += [func.sum(gross).filter(when[p]), func.sum(wh).filter(when[p]), n.filter(when[p])]
        width = len(keys) - 1
        for row in session.execute(stmt.add_columns(*keys, *cols).group_by(*keys)).all():
            k, cur, sums = (tuple(row[:width]) if width > 1 else row[0]), row[width], row[width + 1:]
            periods = out.setdefault((k, cur), _empty())
            for i, p in enumerate(PERIODS):
                rev, energy, count = sums[3 * i: 3 * i + 3]
                # Wh here; made kWh below once every source is added.
                periods[p] = periods[p] + Figures(Decimal(rev or 0), Decimal(energy or 0), int(count or 0))

    def take_ranges(stmt, keys: list[Any], at: Any, ranges: list[tuple[str, list[int], datetime, datetime]],
                    gross: Any, wh: Any, n: Any) -> None:
        """`take` with each row joined to its organization's ranges (one row per organization, period and
        range, as array parameters): an index range per organization instead of every row tested against
        every period's ranges."""
        rows = [(p, oid, a, b) for p, ids, a, b in ranges for oid in ids]
        if not rows:
            return
        cols = list(zip(*rows, strict=True))
        r = func.unnest(*[bindparam(f"range_{name}", list(c), type_=ARRAY(t)) for name, c, t in zip(
            ("period", "org", "start", "end"), cols, (String, Integer, DateTime(timezone=True),
                                                      DateTime(timezone=True)), strict=True)]
                        ).table_valued("period", "org", "start", "end", name="ranges").render_derived()
        org = keys[-2]  # every caller's keys end with the organization and the currency
        # LATERAL: the planner cannot estimate a join on ranges and would scan the whole table instead.
        sums = (stmt.add_columns(*[k.label(f"k{i}") for i, k in enumerate(keys)], func.sum(gross).label("gross"),
                                 func.sum(wh).label("wh"), n.label("n"))
                .where(org == r.c.org, at >= r.c.start, at < r.c.end).group_by(*keys).lateral("sums"))
        width = len(keys) - 1
        for row in session.execute(select(*[sums.c[f"k{i}"] for i in range(len(keys))], r.c.period, sums.c.gross,
                                          sums.c.wh, sums.c.n).select_from(r).join(sums, true())).all():
            k, cur, p, (rev, energy, count) = (tuple(row[:width]) if width > 1 else row[0]), row[width], \
                row[width + 1], row[width + 2:]
            periods = out.setdefault((k, cur), _empty())
            periods[p] = periods[p] + Figures(Decimal(rev or 0), Decimal(energy or 0), int(count or 0))

    firsts = [b["365d"] for b in bounds.values() if b.get("365d")]
    if firsts:  # the whole days: each row compared with its organization's bounds, joined as a small table
        names = [*PERIODS, "last"]
        # Arrays as parameters, so the statement compiles once and is cached (a VALUES list compiled anew).
        orgs = list(bounds)
        v = func.unnest(bindparam("bound_org", orgs, type_=ARRAY(Integer)),
                        *[bindparam(f"bound_{n}", [bounds[o].get(n) for o in orgs], type_=ARRAY(Date))
                          for n in names]).table_valued("org", *names, name="bounds").render_derived()
        m = day_model
        keys = [m.charger_id, m.organization_id, m.currency] if key == "charger" else [m.organization_id, m.currency]
        when = {p: and_(m.day >= cast(v.c[p], Date), m.day <= cast(v.c.last, Date)) for p in PERIODS}
        take(select().join_from(m, v, v.c.org == m.organization_id)
             .where(scope.stat_filter(m), rollup_where, m.day >= min(firsts),
                    m.day <= max(b["last"] for b in bounds.values() if b.get("last"))),
             keys, when, m.gross, m.energy_wh, func.sum(m.sessions))
    if hour_model is not None:
        m = hour_model
        take_ranges(select().select_from(m).where(scope.stat_filter(m)), [m.organization_id, m.currency], m.hour,
                    hours, m.gross, m.energy_wh, func.sum(m.sessions))
    by = [Transaction.charger_id, Transaction.organization_id] if key == "charger" else [Transaction.organization_id]
    sessions = (select().select_from(Transaction)
                .where(Transaction.status == TransactionStatus.COMPLETED, scope.transaction_filter(), raw_where))
    priced = sessions.where(Transaction.priced_at.is_not(None))
    if key == "charger":  # one page of chargers: read through (charger_id, stopped_at), tested per period
        when = {p: or_(false(), *[and_(Transaction.organization_id.in_(ids), stopped >= a, stopped < b)
                                  for q, ids, a, b in raw if q == p]) for p in PERIODS}
        take(priced.where(or_(*when.values())), [*by, Transaction.currency], when, Transaction.amount_gross,
             Transaction.energy_wh, func.count())
    else:
        take_ranges(priced, [*by, Transaction.currency], stopped, raw, Transaction.amount_gross,
                    Transaction.energy_wh, func.count())
    since = {p: stopped >= now - d for p, d in PERIODS.items()}
    take(sessions.where(Transaction.priced_at.is_(None), stopped >= now - PERIODS["365d"], stopped < end),
         [*by, Transaction.currency], since, Transaction.amount_gross, Transaction.energy_wh, func.count())
    return {k: {p: Figures(round_money(f.revenue, k[1]), (f.energy_kwh / 1000).quantize(Decimal("0.001")), f.sessions)
                for p, f in periods.items()} for k, periods in out.items()
            if any(f.sessions for f in periods.values())}


def _owner_figures(session: Session, scope: Scope, now: datetime, key: str,
                   where: Any) -> dict[tuple, dict[str, Figures]]:
    """`_figures` for a location owner: revenue, kWh, sessions and its commission per period, summed from the
    sessions it earned (`Scope.transaction_filter`). The roll-ups keep no commission; one owner's sessions are
    few and read through the index on (location_owner_id, stopped_at)."""
    t = Transaction
    end = now + timedelta(microseconds=1)  # periods include a session stopped at `now`
    by = [t.charger_id, t.organization_id] if key == "charger" else [t.organization_id]
    when = {p: t.stopped_at >= now - d for p, d in PERIODS.items()}
    cols = []
    for p in PERIODS:
        cols += [func.sum(t.amount_gross).filter(when[p]), func.sum(t.energy_wh).filter(when[p]),
                 func.count().filter(when[p]), func.sum(t.amount_location_owner).filter(when[p])]
    rows = session.execute(
        select(*by, t.currency, *cols)
        .where(t.status == TransactionStatus.COMPLETED, scope.transaction_filter(), where,
               t.stopped_at >= now - PERIODS["365d"], t.stopped_at < end)
        .group_by(*by, t.currency)).all()
    out: dict[tuple, dict[str, Figures]] = {}
    width = len(by)
    for row in rows:
        k, cur, sums = (tuple(row[:width]) if width > 1 else row[0]), row[width], row[width + 1:]
        out[(k, cur)] = {p: Figures(round_money(Decimal(sums[4 * i] or 0), cur),
                                    (Decimal(sums[4 * i + 1] or 0) / 1000).quantize(Decimal("0.001")),
                                    int(sums[4 * i + 2] or 0), round_money(Decimal(sums[4 * i + 3] or 0), cur))
                         for i, p in enumerate(PERIODS)}
    return out


def count_chargers(*, session: Session, scope: Scope, search: str | None = None, now: datetime | None = None) -> int:
    """How many charger rows revenue_by_charger lists for this scope and search (the pager's total)."""
    scope.require(Cap.VIEW_FINANCE)
    keys = _listed(session, scope, now or utcnow(), search).subquery()
    return session.execute(select(func.count()).select_from(keys)).scalar_one()


def _matching(search: str | None) -> list:
    found = search_clause(search, Charger.ocpp_id, Charger.name, Organization.name)
    return [] if found is None else [found]


@dataclass
class OrgTotals:
    organization_id: int
    organization: str
    parent_id: int | None
    currency: str  # the organization's own currency
    # currency → period → figures. `own` is the organization's chargers; `rollup` adds every
    # sub-organization in scope below it.
    own: dict[str, dict[str, Figures]] = field(default_factory=dict)
    rollup: dict[str, dict[str, Figures]] = field(default_factory=dict)
    chargers: int = 0  # its chargers in scope


@dataclass(frozen=True)
class CurrencyFigures:
    currency: str
    periods: dict[str, Figures]


def currency_figures(totals: list[OrgTotals]) -> list[CurrencyFigures]:
    """The organizations' own figures, for adding up per currency like the charger table's rows: every
    currency with sessions, and the currency of each organization that has chargers in scope."""
    return [CurrencyFigures(cur, periods) for t in totals for cur, periods in t.own.items()
            if t.chargers or any(f.sessions for f in periods.values())]


def _add(into: dict[str, dict[str, Figures]], currency: str, periods: dict[str, Figures]) -> None:
    target = into.setdefault(currency, _empty())
    for p, figures in periods.items():
        target[p] = target[p] + figures


def organization_totals(*, session: Session, scope: Scope, now: datetime | None = None,
                        charger_rows: list[ChargerRevenue] | None = None) -> list[OrgTotals]:
    """Totals per organization in scope, and roll-ups up the tree (within the scope), per currency."""
    scope.require(Cap.VIEW_FINANCE)
    orgs = session.execute(select(Organization.id, Organization.name, Organization.parent_id, Organization.currency)
                           .where(scope.org_filter(Organization.id)).order_by(Organization.name)).all()
    totals = {o.id: OrgTotals(o.id, o.name, o.parent_id, o.currency) for o in orgs}
    if charger_rows is not None:
        for r in charger_rows:
            if r.organization_id in totals:
                _add(totals[r.organization_id].own, r.currency, r.periods)
    else:
        for (oid, cur), periods in _figures(session, scope, now or utcnow(), "org", true(), true()).items():
            if oid in totals:
                _add(totals[oid].own, cur, periods)
    for oid, n in session.execute(select(Charger.organization_id, func.count()).where(scope.charger_filter())
                                  .group_by(Charger.organization_id)):
        if oid in totals:
            totals[oid].chargers = n
    for t in totals.values():
        # Walk up from each organization, adding its own figures to itself and every ancestor in scope.
        node: OrgTotals | None = t
        while node is not None:
            for currency, periods in t.own.items():
                _add(node.rollup, currency, periods)
            node = totals.get(node.parent_id) if node.parent_id is not None else None
    for t in totals.values():
        t.own.setdefault(t.currency, _empty())
        t.rollup.setdefault(t.currency, _empty())
    return list(totals.values())
