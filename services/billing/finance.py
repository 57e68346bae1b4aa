"""Revenue figures for the Finances page: per charger, per organization and rolled up the tree.

Revenue is what drivers paid (the sessions' amount_gross), counted when the session stopped. Figures are
always kept per currency: amounts in different currencies are never added together.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import Select, and_, func, select, union
from sqlmodel import Session

from core.clock import utcnow
from core.money import round_money
from core.search import search_clause
from models import Charger, Organization, Transaction
from models.transaction import TransactionStatus
from services.access.permissions import Cap
from services.access.scope import Scope

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

    def __add__(self, other: Figures) -> Figures:
        return Figures(self.revenue + other.revenue, self.energy_kwh + other.energy_kwh,
                       self.sessions + other.sessions)


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
    name, then OCPP id) before adding up their sessions, so a page reads only its own chargers' sessions.
    """
    scope.require(Cap.VIEW_FINANCE)
    now = now or utcnow()
    since = {p: now - d for p, d in PERIODS.items()}
    keys = _listed(scope, now, since, search)
    if limit is not None:
        keys = keys.order_by(Organization.name, Charger.ocpp_id).limit(limit).offset(offset)
    keys = keys.subquery()
    t = Transaction
    earned_cur = func.coalesce(t.currency, Organization.currency)
    cols = []
    for p, start in since.items():
        window = t.stopped_at >= start
        cols += [
            func.coalesce(func.sum(t.amount_gross).filter(window), 0).label(f"rev_{p}"),
            func.coalesce(func.sum(t.energy_wh).filter(window), 0).label(f"wh_{p}"),
            func.count(t.id).filter(window).label(f"n_{p}"),
        ]
    earned = (select(t.charger_id, t.organization_id, earned_cur.label("cur"), *cols)
              .join(Organization, Organization.id == t.organization_id)
              .where(*_earned(scope, now, since), t.charger_id.in_(select(keys.c.charger_id)))
              .group_by(t.charger_id, t.organization_id, earned_cur).subquery())
    cur = func.coalesce(earned.c.cur, Organization.currency)
    rows = session.execute(
        select(Charger.id, Charger.ocpp_id, Charger.name, Organization.id.label("org_id"),
               Organization.name.label("org_name"), cur.label("cur"),
               *[func.coalesce(earned.c[c.name], 0).label(c.name) for c in cols])
        .select_from(keys)
        .join(Charger, Charger.id == keys.c.charger_id)
        .join(Organization, Organization.id == keys.c.organization_id)
        .outerjoin(earned, and_(earned.c.charger_id == keys.c.charger_id,
                                earned.c.organization_id == keys.c.organization_id))
        .order_by(Organization.name, Charger.ocpp_id, cur)
    ).all()

    def figures(r, p: str) -> Figures:
        kwh = (Decimal(getattr(r, f"wh_{p}")) / 1000).quantize(Decimal("0.001"))
        return Figures(round_money(Decimal(getattr(r, f"rev_{p}")), r.cur), kwh, getattr(r, f"n_{p}"))

    return [ChargerRevenue(r.id, r.ocpp_id, r.name, r.org_id, r.org_name, r.cur, {p: figures(r, p) for p in PERIODS})
            for r in rows]


def _earned(scope: Scope, now: datetime, since: dict[str, datetime]) -> list:
    """The scope's sessions that count on this page: completed, stopped within the last 365 days."""
    t = Transaction
    return [scope.transaction_filter(), t.status == TransactionStatus.COMPLETED, t.stopped_at >= since["365d"],
            t.stopped_at <= now]


def _listed(scope: Scope, now: datetime, since: dict[str, datetime], search: str | None) -> Select:
    """The (charger, organization) rows the page lists: the chargers in scope now, under their organization,
    and every charger the scope earned on, under the organization that earned it."""
    held = select(Charger.id.label("charger_id"), Charger.organization_id.label("organization_id")) \
        .where(scope.charger_filter())
    earned = select(Transaction.charger_id, Transaction.organization_id).where(*_earned(scope, now, since))
    keys = union(held, earned).subquery()
    return (select(keys.c.charger_id, keys.c.organization_id)
            .join(Charger, Charger.id == keys.c.charger_id)
            .join(Organization, Organization.id == keys.c.organization_id)
            .where(*_matching(search)))


def count_chargers(*, session: Session, scope: Scope, search: str | None = None, now: datetime | None = None) -> int:
    """How many charger rows revenue_by_charger lists for this scope and search (the pager's total)."""
    scope.require(Cap.VIEW_FINANCE)
    now = now or utcnow()
    keys = _listed(scope, now, {p: now - d for p, d in PERIODS.items()}, search).subquery()
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


def _add(into: dict[str, dict[str, Figures]], currency: str, periods: dict[str, Figures]) -> None:
    target = into.setdefault(currency, _empty())
    for p, figures in periods.items():
        target[p] = target[p] + figures


def organization_totals(*, session: Session, scope: Scope, now: datetime | None = None,
                        charger_rows: list[ChargerRevenue] | None = None) -> list[OrgTotals]:
    """Totals per organization in scope, and roll-ups up the tree (within the scope), per currency."""
    scope.require(Cap.VIEW_FINANCE)
    rows = charger_rows if charger_rows is not None else revenue_by_charger(session=session, scope=scope, now=now)
    orgs = session.execute(select(Organization.id, Organization.name, Organization.parent_id, Organization.currency)
                           .where(scope.org_filter(Organization.id)).order_by(Organization.name)).all()
    totals = {o.id: OrgTotals(o.id, o.name, o.parent_id, o.currency) for o in orgs}
    for r in rows:
        if r.organization_id in totals:
            _add(totals[r.organization_id].own, r.currency, r.periods)
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
