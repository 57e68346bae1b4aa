"""Revenue figures for the Finances page: per charger, per organization and rolled up the tree.

Revenue is what drivers paid (the sessions' amount_gross), counted when the session stopped. Figures are
always kept per currency: amounts in different currencies are never added together.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import and_, func, or_, select
from sqlmodel import Session

from core.clock import utcnow
from core.money import round_money
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

    Every charger in scope is listed, with zeros when it had no sessions. A charger that took sessions in
    two currencies (its organization changed currency) has one row per currency. `search` keeps the
    chargers whose OCPP id, name or organization name contains it (any case). `limit`/`offset` take one
    page of chargers (by organization name, then OCPP id) before adding up their sessions, so a page
    reads only its own chargers' sessions.
    """
    scope.require(Cap.VIEW_FINANCE)
    where = [scope.charger_filter(), *_matching(search)]
    if limit is not None:
        page = (select(Charger.id).join(Organization, Organization.id == Charger.organization_id).where(*where)
                .order_by(Organization.name, Charger.ocpp_id).limit(limit).offset(offset))
        where.append(Charger.id.in_(page.scalar_subquery()))
    now = now or utcnow()
    since = {p: now - d for p, d in PERIODS.items()}
    cur = func.coalesce(Transaction.currency, Organization.currency)
    cols = []
    for p, start in since.items():
        window = Transaction.stopped_at >= start
        cols += [
            func.coalesce(func.sum(Transaction.amount_gross).filter(window), 0).label(f"rev_{p}"),
            func.coalesce(func.sum(Transaction.energy_wh).filter(window), 0).label(f"wh_{p}"),
            func.count(Transaction.id).filter(window).label(f"n_{p}"),
        ]
    joined = and_(Transaction.charger_id == Charger.id, Transaction.status == TransactionStatus.COMPLETED,
                  Transaction.stopped_at >= since["365d"], Transaction.stopped_at <= now)
    rows = session.execute(
        select(Charger.id, Charger.ocpp_id, Charger.name, Organization.id.label("org_id"),
               Organization.name.label("org_name"), cur.label("cur"), *cols)
        .select_from(Charger)
        .join(Organization, Organization.id == Charger.organization_id)
        .outerjoin(Transaction, joined)
        .where(*where)
        .group_by(Charger.id, Charger.ocpp_id, Charger.name, Organization.id, Organization.name, cur)
        .order_by(Organization.name, Charger.ocpp_id)
    ).all()
    def figures(r, p: str) -> Figures:
        kwh = (Decimal(getattr(r, f"wh_{p}")) / 1000).quantize(Decimal("0.001"))
        return Figures(round_money(Decimal(getattr(r, f"rev_{p}")), r.cur), kwh, getattr(r, f"n_{p}"))

    return [ChargerRevenue(r.id, r.ocpp_id, r.name, r.org_id, r.org_name, r.cur, {p: figures(r, p) for p in PERIODS})
            for r in rows]


def count_chargers(*, session: Session, scope: Scope, search: str | None = None) -> int:
    """How many chargers revenue_by_charger lists for this scope and search (the pager's total)."""
    scope.require(Cap.VIEW_FINANCE)
    return session.execute(select(func.count()).select_from(Charger)
                           .join(Organization, Organization.id == Charger.organization_id)
                           .where(scope.charger_filter(), *_matching(search))).scalar_one()


def _matching(search: str | None) -> list:
    text = (search or "").strip()
    if not text:
        return []
    like = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return [or_(Charger.ocpp_id.ilike(like), Charger.name.ilike(like), Organization.name.ilike(like))]


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
