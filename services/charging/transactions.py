"""Transactions (charging sessions): the scoped list, breakdowns, analytics, detail and CSV export.

- Every query goes through `Scope.transaction_filter()` (or `stat_filter` on a roll-up): a session belongs
  to the organization and location owner that held the charger when it started (services/access/scope.py).
- A custom date range is a range of LOCAL dates: each session is compared with the local day
  boundaries of its own organization's timezone (so an all-organizations view stays correct); the
  bounds are computed in Python once per timezone. Presets (24h, 7d, 30d, 365d) are rolling windows
  ending now. Sessions are placed by start time.
- Count, totals, the per-charger breakdown, the daily chart and the tree read the roll-ups by local
  start day (models/stats.py) for the whole days, and the sessions only for the partial day at a
  preset's start and for the few sessions the roll-ups leave out; filters the roll-ups do not carry
  (connector, idTag, active or flagged) read the sessions.
- Sorting, filtering, paging and aggregation happen in SQL. Money is never summed across
  currencies: totals, breakdowns and analytics are grouped by currency.
- The CSV export streams with a server-side cursor (`yield_per`), so memory stays flat.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import DateTime, and_, case, cast, false, func, or_, select, union_all
from sqlmodel import Session

from core.clock import utcnow
from core.db import SYSTEM, use_db_scope
from core.errors import NotFound, ValidationError
from core.money import round_money
from core.validation import check_day, check_int32, check_text, fits_int32
from models import (
    Charger,
    ChargerStartDayStat,
    ChargerStartMonthStat,
    ChargerStartWindowStat,
    MeterValue,
    OcppMessage,
    Organization,
    OrgStartDayStat,
    StartWindowAsOf,
    Transaction,
    User,
)
from models.base import values
from models.transaction import TransactionStatus
from services.access.permissions import Cap
from services.access.scope import Scope
from services.charging import rollups
from services.charging.rollups import Sums

PRESETS = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30),
           "365d": timedelta(days=365)}
STATUSES = (*values(TransactionStatus), "flagged")  # flagged: any suspect-data flag
GRANULARITIES = ("day", "hour")
MAX_RANGE_DAYS = 3660
ENERGY = "Energy.Active.Import.Register"
POWER = "Power.Active.Import"

_duration = func.extract("epoch", Transaction.stopped_at - Transaction.started_at)
SORTS: dict[str, Any] = {
    "started_at": Transaction.started_at, "stopped_at": Transaction.stopped_at, "energy": Transaction.energy_wh,
    "amount": Transaction.amount_gross, "duration": _duration, "charger": Charger.ocpp_id, "id": Transaction.id,
}
NOT_NULL_SORTS = {"started_at", "charger", "id"}


def _order(sort: str, descending: bool) -> Any:
    """Nulls last; a column that is never null is ordered plainly, so the index on it serves the page."""
    key = SORTS[sort]
    order = key.desc() if descending else key.asc()
    return order if sort in NOT_NULL_SORTS else order.nulls_last()


# The session's currency once priced; before that, its organization's.
_currency = case((Transaction.priced_at.is_not(None), Transaction.currency), else_=Organization.currency)


@dataclass(frozen=True)
class TxFilter:
    preset: str | None = None
    date_from: date | None = None  # inclusive local date
    date_to: date | None = None    # inclusive local date
    organization_id: int | None = None
    charger_id: int | None = None
    connector_id: int | None = None
    id_tag: str | None = None
    status: str | None = None

    def __post_init__(self) -> None:
        if self.preset is not None and self.preset not in PRESETS:
            raise ValidationError(f"Date preset must be one of: {', '.join(PRESETS)}.", "preset")
        for name in ("date_from", "date_to"):
            if getattr(self, name) is not None:
                check_day(getattr(self, name), name)
        for name in ("organization_id", "charger_id", "connector_id"):
            if getattr(self, name) is not None:
                check_int32(getattr(self, name), name)
        if self.id_tag is not None:
            check_text(self.id_tag, "id_tag")
        if self.preset and (self.date_from or self.date_to):
            raise ValidationError("Choose a preset or a custom date range, not both.", "preset")
        if self.date_from and self.date_to:
            if self.date_from > self.date_to:
                raise ValidationError("The start date must be on or before the end date.", "date_from")
            if (self.date_to - self.date_from).days > MAX_RANGE_DAYS:
                raise ValidationError("A date range may span at most 10 years.", "date_to")
        if self.status is not None and self.status not in STATUSES:
            raise ValidationError(f"Status must be one of: {', '.join(STATUSES)}.", "status")
        if self.connector_id is not None and self.connector_id < 1:
            raise ValidationError("Connector must be 1 or more.", "connector_id")
        if self.id_tag is not None and len(self.id_tag) > 20:
            raise ValidationError("An idTag has at most 20 characters.", "id_tag")


def _scope_clause(scope: Scope) -> Any:
    return scope.transaction_filter()


def _filter_scope(scope: Scope, f: TxFilter) -> Scope:
    scope.require(Cap.VIEW_TRANSACTIONS)
    return scope if f.organization_id is None else scope.narrowed(f.organization_id)


def _spans(session: Session, scope: Scope, f: TxFilter) -> list[tuple[ZoneInfo, rollups.Span]]:
    """The filter's date range per timezone in scope (whole local days and partial edges)."""
    if f.preset:
        start = utcnow() - PRESETS[f.preset]
        return rollups.spans(session, scope, lambda zone: (start, None))

    def bounds(zone: ZoneInfo) -> tuple[datetime | None, datetime | None]:
        return (None if f.date_from is None else rollups.local_midnight(f.date_from, zone),
                None if f.date_to is None else rollups.local_midnight(f.date_to + timedelta(days=1), zone))
    return rollups.spans(session, scope, bounds)


def _other_filters(scope: Scope, f: TxFilter) -> list[Any]:
    where = [_scope_clause(scope)]
    if f.charger_id is not None:
        where.append(Transaction.charger_id == f.charger_id)
    if f.connector_id is not None:
        where.append(Transaction.connector_id == f.connector_id)
    if f.id_tag:
        where.append(func.upper(Transaction.id_tag) == f.id_tag.strip().upper())  # idTag is case-insensitive
    if f.status == "flagged":
        where.append(func.cardinality(Transaction.flags) > 0)
    elif f.status:
        where.append(Transaction.status == f.status)
    return where


def _where(session: Session, scope: Scope, f: TxFilter) -> list[Any]:
    scope = _filter_scope(scope, f)
    where = _other_filters(scope, f)
    if f.preset:
        where.append(Transaction.started_at >= utcnow() - PRESETS[f.preset])
    elif f.date_from or f.date_to:
        where.append(rollups.local_day_bounds(session, scope, f.date_from, f.date_to, Transaction.started_at))
    return where


def _rollable(f: TxFilter) -> bool:
    """Whether the roll-ups carry every filter (they hold priced, completed sessions per charger and day)."""
    return f.connector_id is None and not f.id_tag and f.status in (None, "completed")


def _joined(*columns: Any) -> Any:
    return (select(*columns).select_from(Transaction)
            .join(Charger, Charger.id == Transaction.charger_id)
            .join(Organization, Organization.id == Transaction.organization_id))


def _kwh(wh: Any) -> Decimal | None:
    return None if wh is None else Decimal(wh) / 1000


def resolve_charger(*, session: Session, scope: Scope, ocpp_id: str) -> int:
    """The id of the charger in scope with this OCPP id (case-insensitive), for a filter typed by hand."""
    scope.require(Cap.VIEW_TRANSACTIONS)
    wanted = (ocpp_id or "").strip()
    # A charger in scope now, or one the scope earned on before it moved away.
    earned = select(Transaction.id).where(Transaction.charger_id == Charger.id, scope.transaction_filter()).exists()
    found = session.execute(select(Charger.id).where(func.upper(Charger.ocpp_id) == wanted.upper(),
                                                     or_(scope.charger_filter(), earned))).scalar_one_or_none()
    if found is None:
        raise ValidationError(f"No charger '{wanted}' among your chargers.", "charger")
    return found


def display_timezone(*, session: Session, scope: Scope) -> str:
    """The one timezone a list and its chart show times in: the only organization's in scope; with several,
    the viewer's own (chosen in its settings), else UTC. Rows never mix zones; the session's detail page
    shows its organization's zone."""
    if scope.org_ids is not None and len(scope.org_ids) == 1:
        org = session.get(Organization, next(iter(scope.org_ids)))
        if org is not None:
            return org.timezone
    viewer = session.get(User, scope.user_id)
    return viewer.timezone if viewer is not None and viewer.timezone else "UTC"


# ---------------------------------------------------------------- the list

@dataclass(frozen=True)
class TxRow:
    id: int
    organization_id: int
    organization_name: str
    timezone: str
    charger_id: int
    charger_ocpp_id: str
    charger_name: str
    connector_id: int
    id_tag: str
    status: str
    started_at: datetime
    stopped_at: datetime | None
    duration_seconds: int | None
    energy_kwh: Decimal | None
    currency: str
    amount_gross: Decimal | None
    amount_net_cpo: Decimal | None
    stop_reason: str | None
    flags: list[str]


@dataclass(frozen=True)
class CurrencyTotal:
    currency: str
    sessions: int
    energy_kwh: Decimal
    amount_gross: Decimal
    amount_net_cpo: Decimal
    # The location owner's commission on these sessions; summed for a location owner's list only (what it earned).
    amount_location_owner: Decimal = Decimal(0)


@dataclass(frozen=True)
class TxPage:
    items: list[TxRow]
    total: int
    limit: int
    offset: int
    totals: list[CurrencyTotal]  # one per currency, over the whole filtered set


_ROW_COLUMNS = (Transaction, Organization.name, Organization.timezone, Charger.ocpp_id, Charger.name, _currency)


def _money(amount: Any, currency: str) -> Decimal | None:
    """Stored amounts are already rounded; this only shows them with the currency's decimals."""
    return None if amount is None else round_money(Decimal(amount), currency)


def _tx_row(t: Transaction, org_name: str, tz: str, ocpp_id: str, charger_name: str, currency: str) -> TxRow:
    # Via timestamps: subtracting datetimes that share a tzinfo ignores DST.
    duration = int(t.stopped_at.timestamp() - t.started_at.timestamp()) if t.stopped_at else None
    return TxRow(t.id, t.organization_id, org_name, tz, t.charger_id, ocpp_id, charger_name, t.connector_id, t.id_tag,
                 t.status, t.started_at, t.stopped_at, duration, _kwh(t.energy_wh), currency,
                 _money(t.amount_gross, currency), _money(t.amount_net_cpo, currency), t.stop_reason,
                 list(t.flags or []))


def list_transactions(*, session: Session, scope: Scope, filters: TxFilter = TxFilter(), sort: str = "started_at",
                      descending: bool = True, limit: int = 50, offset: int = 0) -> TxPage:
    if sort not in SORTS:
        raise ValidationError(f"Sort by one of: {', '.join(SORTS)}.", "sort")
    if not 1 <= limit <= 1000 or offset < 0:
        raise ValidationError("Page size must be 1 to 1000 and the offset 0 or more.", "limit")
    where = _where(session, scope, filters)
    order = [_order(sort, descending), Transaction.id.desc() if descending else Transaction.id.asc()]
    rows = session.execute(_joined(*_ROW_COLUMNS).where(*where).order_by(*order).limit(limit).offset(offset)).all()
    if _rollable(filters) and not scope.for_location_owner:  # the roll-ups keep no owner commission
        sums = _sums(session, scope, filters, "currency")
        totals = [_currency_total(cur, t) for (cur,), t in sorted(sums.items())]
        count = sum(t.sessions for t in sums.values())
    else:
        totals, count = _totals(session, where), _count(session, where)
    return TxPage([_tx_row(*r) for r in rows], count, limit, offset, totals)


def _currency_total(currency: str, t: Sums) -> CurrencyTotal:
    return CurrencyTotal(currency, t.sessions, Decimal(t.energy_wh) / 1000, _money(t.gross, currency),
                         _money(t.net_cpo, currency))


def _count(session: Session, where: list[Any]) -> int:
    return session.execute(_joined(func.count()).where(*where)).scalar_one()


def _totals(session: Session, where: list[Any]) -> list[CurrencyTotal]:
    rows = session.execute(
        _joined(_currency, func.count(), func.coalesce(func.sum(Transaction.energy_wh), 0),
                func.coalesce(func.sum(Transaction.amount_gross), 0),
                func.coalesce(func.sum(Transaction.amount_net_cpo), 0),
                func.coalesce(func.sum(Transaction.amount_location_owner), 0))
        .where(*where).group_by(_currency).order_by(_currency)).all()
    return [CurrencyTotal(c, n, Decimal(wh) / 1000, _money(g, c), _money(net, c), _money(owner, c))
            for c, n, wh, g, net, owner in rows]


# ---------------------------------------------------------------- roll-ups plus the sessions they leave out

def _raw_sums() -> list[Any]:
    return [c.label(f"s{i}") for i, c in enumerate((
        func.count(), func.sum(Transaction.energy_wh), func.sum(Transaction.amount_gross),
        func.sum(Transaction.amount_net_cpo), func.sum(_duration), func.count(Transaction.stopped_at)))]


def _org_column(col: Any) -> Any:
    return select(col).where(Organization.id == Transaction.organization_id).scalar_subquery()


# The session's organization's currency looked up (only for an unpriced session), not joined: the few thousand
# sessions of a partial day are estimated at a dozen, and a join then tests each against every organization.
_raw_currency = case((Transaction.priced_at.is_not(None), Transaction.currency),
                     else_=_org_column(Organization.currency))


def _raw_keys(key: str, parts: list[tuple[ZoneInfo, rollups.Span]]) -> list[Any]:
    """What a view groups the sessions by (as the roll-up it reads); a local day by the timezones in hand."""
    if key == "day":
        zones = [(Transaction.organization_id.in_(span.org_ids), func.timezone(zone.key, Transaction.started_at))
                 for zone, span in parts if span.org_ids]
        local = case(*zones) if zones else func.timezone("UTC", Transaction.started_at)
        return [func.date_trunc("day", local), _raw_currency]
    return {"currency": [_raw_currency], "org": [Transaction.organization_id, _raw_currency],
            "charger": [Transaction.charger_id, Transaction.organization_id, _raw_currency]}[key]


def _rollup_keys(model: Any, key: str) -> list[Any]:
    return {"currency": [model.currency], "org": [model.organization_id, model.currency],
            "day": [cast(getattr(model, "day", None), DateTime()), model.currency],
            "charger": [getattr(model, "charger_id", None), model.organization_id, model.currency]}[key]


def _sums_query(session: Session, scope: Scope, f: TxFilter, key: str) -> Any:
    """Count, kWh, money and duration per `key` for a filter the roll-ups carry, as one subquery: whole
    local days from the roll-ups, the partial day at a preset's start and the unrolled sessions from the
    sessions. Columns: the key columns (k0, k1, ...), then the sums named as in rollups.Sums."""
    scope = _filter_scope(scope, f)
    parts = _spans(session, scope, f)
    if key == "charger":
        calendar, windows = _windows(session, scope, f, parts)
        months, days = rollups.month_clauses(calendar, ChargerStartMonthStat, ChargerStartDayStat)
        sources = [(ChargerStartMonthStat, months), (ChargerStartDayStat, days), (ChargerStartWindowStat, windows)]
    else:
        model = OrgStartDayStat if f.charger_id is None else ChargerStartDayStat
        sources = [(model, rollups.rollup_clause(parts, model.day, model.organization_id))]
    selects = []
    for model, when in sources:
        keys = _rollup_keys(model, key)
        where = [scope.stat_filter(model), when]
        if f.charger_id is not None:
            where.append(model.charger_id == f.charger_id)
        if key == "charger":  # nearly one row per key already: summed once, below, not twice
            selects.append(select(*_labelled(keys), *rollups.rollup_columns(model)).where(*where))
        else:
            selects.append(select(*_labelled(keys), *rollups.rollup_sums(model)).where(*where).group_by(*keys))
    others = _other_filters(scope, f)
    keys = _raw_keys(key, parts)
    for when in [*rollups.edge_clauses(parts, Transaction.started_at),
                 and_(rollups.UNROLLED, rollups.whole_clause(parts, Transaction.started_at))]:
        # No join: every key and filter is on the session.
        selects.append(select(*_labelled(keys), *_raw_sums()).where(*others, when).group_by(*keys))
    u = union_all(*selects).subquery()
    k = [u.c[f"k{i}"] for i in range(len(keys))]
    names = ("sessions", "energy_wh", "gross", "net_cpo", "duration_s", "finished")
    return (select(*k, *[func.coalesce(func.sum(u.c[f"s{i}"]), 0).label(n) for i, n in enumerate(names)])
            .group_by(*k).having(func.sum(u.c.s0) != 0).subquery())


def _labelled(keys: list[Any]) -> list[Any]:
    return [k.label(f"k{i}") for i, k in enumerate(keys)]


def _sums(session: Session, scope: Scope, f: TxFilter, key: str) -> dict[tuple, Sums]:
    q = _sums_query(session, scope, f, key)
    out = {}
    for *k, n, wh, gross, net, dur, finished in session.execute(select(q)).all():
        out[tuple(k)] = t = Sums()
        t.add(n, wh, gross, net, dur, finished)
    return out


def _windows(session: Session, scope: Scope, f: TxFilter,
             parts: list[tuple[ZoneInfo, rollups.Span]]) -> tuple[list[tuple[ZoneInfo, rollups.Span]], Any]:
    """For the 30- and 365-day presets, the organizations whose whole days are exactly their kept window
    (the last 30 or 365 local days up to today): a clause on ChargerStartWindowStat for them, and the
    whole days left to sum from the calendar roll-ups (their days after today, and every other
    organization's). The partial days at the edges are unchanged."""
    days = {"30d": 30, "365d": 365}.get(f.preset or "")
    if days is None or f.charger_id is not None:
        return parts, false()
    now, ready, rest = utcnow(), [], []
    # One read of where every organization's windows stand, not one per timezone.
    as_of = dict(session.execute(select(StartWindowAsOf.organization_id, StartWindowAsOf.as_of).where(
        StartWindowAsOf.organization_id.in_([o for _, span in parts for o in span.org_ids]))).all())
    for zone, span in parts:
        today = now.astimezone(zone).date()
        if not span.whole or span.first != today - timedelta(days=days - 1) or span.last is not None:
            rest.append((zone, span))
            continue
        moved = set(_windows_ready(session, span.org_ids, today, as_of))
        ready += sorted(moved)
        rest += [(zone, rollups.Span(sorted(moved), today + timedelta(days=1), None)),
                 (zone, rollups.Span([o for o in span.org_ids if o not in moved], span.first, None))]
    if not ready:
        return parts, false()
    return rest, and_(ChargerStartWindowStat.days == days, ChargerStartWindowStat.organization_id.in_(ready))


def _windows_ready(session: Session, org_ids: list[int], today: date, as_of: dict[int, date]) -> list[int]:
    """The organizations whose windows end on `today`, moving stale ones in a short transaction of their own
    (as the dashboard's windows). A move that would wait for a writer declines: that organization is summed
    from the calendar roll-ups instead."""
    stale = [o for o in org_ids if as_of.get(o) != today]
    if not stale:
        return org_ids
    with Session(session.get_bind()) as mover:
        # Roll-up upkeep for organizations the caller may see; the functions read and write whole windows.
        use_db_scope(mover, SYSTEM)
        moved = {o for o in stale if mover.execute(select(func.advance_start_windows(o, today))).scalar_one()}
        mover.commit()
    return [o for o in org_ids if o not in stale or o in moved]
# ---------------------------------------------------------------- per-charger breakdown and analytics

@dataclass(frozen=True)
class ChargerBreakdown:
    charger_id: int
    charger_ocpp_id: str
    charger_name: str
    organization_id: int
    currency: str
    sessions: int
    energy_kwh: Decimal
    revenue: Decimal              # gross, priced sessions only
    avg_duration_seconds: int | None  # finished sessions only


@dataclass(frozen=True)
class BreakdownPage:
    items: list[ChargerBreakdown]
    total: int  # rows in the whole breakdown
    limit: int | None
    offset: int


def charger_breakdown(*, session: Session, scope: Scope, filters: TxFilter = TxFilter()) -> list[ChargerBreakdown]:
    """kWh, revenue, sessions and average duration per charger (and currency) in the range, every row."""
    return charger_breakdown_page(session=session, scope=scope, filters=filters).items


def charger_breakdown_page(*, session: Session, scope: Scope, filters: TxFilter = TxFilter(), limit: int | None = None,
                           offset: int = 0) -> BreakdownPage:
    """One page of the breakdown, highest revenue first, and how many rows the whole breakdown has.

    The whole breakdown is summed in SQL; only the page's rows are joined to their chargers and built."""
    if limit is not None and not 1 <= limit <= 1000 or offset < 0:
        raise ValidationError("Page size must be 1 to 1000 and the offset 0 or more.", "limit")
    if _rollable(filters):
        q = _sums_query(session, scope, filters, "charger")
        sums = select(q.c.k0.label("charger_id"), q.c.k1.label("organization_id"), q.c.k2.label("currency"),
                      q.c.sessions, q.c.energy_wh, q.c.gross, q.c.duration_s, q.c.finished)
    else:
        sums = (_joined(Transaction.charger_id, Transaction.organization_id, _currency.label("currency"),
                        func.count().label("sessions"),
                        func.coalesce(func.sum(Transaction.energy_wh), 0).label("energy_wh"),
                        func.coalesce(func.sum(Transaction.amount_gross), 0).label("gross"),
                        func.coalesce(func.sum(_duration), 0).label("duration_s"),
                        func.count(Transaction.stopped_at).label("finished"))
                .where(*_where(session, scope, filters))
                .group_by(Transaction.charger_id, Transaction.organization_id, _currency))
    b = sums.subquery()
    # Ties broken down to the row, so page 2 continues exactly where page 1 stopped.
    stmt = (select(Charger.id, Charger.ocpp_id, Charger.name, b.c.organization_id, b.c.currency, b.c.sessions,
                   b.c.energy_wh, b.c.gross, b.c.duration_s, b.c.finished, func.count().over())
            .join(b, b.c.charger_id == Charger.id)
            .order_by(b.c.gross.desc(), Charger.ocpp_id, Charger.id, b.c.organization_id, b.c.currency)
            .limit(limit).offset(offset))
    rows = session.execute(stmt).all()
    if rows:
        total = rows[0][-1]
    else:  # past the last page (or nothing at all): count on its own
        total = session.execute(select(func.count()).select_from(b)).scalar_one() if offset else 0
    items = [ChargerBreakdown(cid, ocpp, name, org, cur, int(n), Decimal(wh) / 1000, _money(rev, cur),
                              int(round(Decimal(dur) / finished)) if finished else None)
             for cid, ocpp, name, org, cur, n, wh, rev, dur, finished, _ in rows]
    return BreakdownPage(items, total, limit, offset)


@dataclass(frozen=True)
class AnalyticsPoint:
    bucket: datetime  # local (naive) start of the day or hour, in the session's organization timezone
    currency: str
    sessions: int
    energy_kwh: Decimal
    revenue: Decimal


def energy_analytics(*, session: Session, scope: Scope, filters: TxFilter = TxFilter(),
                     granularity: str = "day") -> list[AnalyticsPoint]:
    """kWh and revenue by local day or hour of the session start (per currency)."""
    if granularity not in GRANULARITIES:
        raise ValidationError("Group by day or by hour.", "granularity")
    if granularity == "day" and _rollable(filters):
        q = _sums_query(session, scope, filters, "day")
        rows = session.execute(select(q.c.k0, q.c.k1, q.c.sessions, q.c.energy_wh, q.c.gross)
                               .order_by(q.c.k0, q.c.k1)).all()
        return [AnalyticsPoint(b, c, int(n), Decimal(wh) / 1000, _money(g, c)) for b, c, n, wh, g in rows]
    bucket = func.date_trunc(granularity, func.timezone(Organization.timezone, Transaction.started_at))
    rows = session.execute(
        _joined(bucket, _currency, func.count(), func.coalesce(func.sum(Transaction.energy_wh), 0),
                func.coalesce(func.sum(Transaction.amount_gross), 0))
        .where(*_where(session, scope, filters)).group_by(bucket, _currency).order_by(bucket, _currency)).all()
    return [AnalyticsPoint(b, c, n, Decimal(wh) / 1000, _money(rev, c)) for b, c, n, wh, rev in rows]


# ---------------------------------------------------------------- organization tree totals

@dataclass
class TreeNode:
    organization_id: int
    name: str
    parent_id: int | None
    depth: int
    own: dict[str, CurrencyTotal] = field(default_factory=dict)
    rolled_up: dict[str, CurrencyTotal] = field(default_factory=dict)  # own + descendants in scope


def _add(a: CurrencyTotal | None, b: CurrencyTotal) -> CurrencyTotal:
    if a is None:
        return b
    return CurrencyTotal(a.currency, a.sessions + b.sessions, a.energy_kwh + b.energy_kwh,
                         a.amount_gross + b.amount_gross, a.amount_net_cpo + b.amount_net_cpo,
                         a.amount_location_owner + b.amount_location_owner)


def org_tree_totals(*, session: Session, scope: Scope, filters: TxFilter = TxFilter()) -> list[TreeNode]:
    """Per-organization totals with subtotals rolled up the tree, counting only what the scope sees.

    Depth-first order (parents before children). Totals stay per currency."""
    orgs = session.execute(select(Organization.id, Organization.name, Organization.parent_id)
                           .where(scope.org_filter(Organization.id)).order_by(Organization.name)).all()
    nodes = {oid: TreeNode(oid, name, parent, 0) for oid, name, parent in orgs}
    if _rollable(filters):
        for (oid, cur), t in _sums(session, scope, filters, "org").items():
            if oid in nodes:
                nodes[oid].own[cur] = _currency_total(cur, t)
    else:
        rows = session.execute(
            _joined(Transaction.organization_id, _currency, func.count(),
                    func.coalesce(func.sum(Transaction.energy_wh), 0),
                    func.coalesce(func.sum(Transaction.amount_gross), 0),
                    func.coalesce(func.sum(Transaction.amount_net_cpo), 0))
            .where(*_where(session, scope, filters)).group_by(Transaction.organization_id, _currency)).all()
        for oid, cur, n, wh, g, net in rows:
            if oid in nodes:
                nodes[oid].own[cur] = CurrencyTotal(cur, n, Decimal(wh) / 1000, _money(g, cur), _money(net, cur))
    children: dict[int | None, list[int]] = {}
    for oid, node in nodes.items():
        children.setdefault(node.parent_id if node.parent_id in nodes else None, []).append(oid)
    out: list[TreeNode] = []

    def walk(oid: int, depth: int) -> dict[str, CurrencyTotal]:
        node = nodes[oid]
        node.depth = depth
        out.append(node)
        rolled = dict(node.own)
        for child in children.get(oid, []):
            for cur, t in walk(child, depth + 1).items():
                rolled[cur] = _add(rolled.get(cur), t)
        node.rolled_up = rolled
        return rolled

    for root in children.get(None, []):
        walk(root, 0)
    return out


# ---------------------------------------------------------------- session detail

@dataclass(frozen=True)
class CurvePoint:
    timestamp: datetime
    energy_kwh: Decimal | None  # delivered since the start
    power_kw: Decimal | None


@dataclass(frozen=True)
class RawMessage:
    id: int
    created_at: datetime
    direction: str
    action: str | None
    frame: str


@dataclass(frozen=True)
class TxDetail:
    row: TxRow
    meter_start: int
    meter_stop: int | None
    priced_at: datetime | None
    amounts: dict[str, Decimal | None]
    price_breakdown: dict[str, Any] | None
    meter_curve: list[CurvePoint]
    raw_messages: list[RawMessage] | None  # None: the role may not see raw OCPP


AMOUNT_FIELDS = ("energy", "time", "session_fee", "idle", "subtotal", "vat", "ssc", "gross", "gateway", "platform",
                 "location_owner", "net_cpo")


def get_transaction(*, session: Session, scope: Scope, transaction_id: int) -> TxDetail:
    scope.require(Cap.VIEW_TRANSACTIONS)
    if not fits_int32(transaction_id):
        raise NotFound("Session not found.")
    found = session.execute(_joined(*_ROW_COLUMNS).where(Transaction.id == transaction_id,
                                                         scope.transaction_filter())).first()
    if found is None:
        raise NotFound("Session not found.")
    t = found[0]
    raw = _raw_messages(session, t) if scope.can(Cap.VIEW_RAW_OCPP) else None
    return TxDetail(_tx_row(*found), t.meter_start, t.meter_stop, t.priced_at,
                    {k: _money(getattr(t, f"amount_{k}"), found[-1]) for k in AMOUNT_FIELDS}, t.price_breakdown,
                    meter_curve(session, t), raw)


def _to_unit(value: Decimal, unit: str | None, base: str) -> Decimal:
    """Energy in kWh or power in kW, from Wh/kWh or W/kW."""
    return Decimal(value) if (unit or base) == f"k{base}" else Decimal(value) / 1000


def meter_curve(session: Session, t: Transaction) -> list[CurvePoint]:
    """Energy since start and power against time. Power missing from a sample is derived from energy."""
    rows = session.execute(select(MeterValue.timestamp, MeterValue.measurand, MeterValue.value, MeterValue.unit)
                           .where(MeterValue.transaction_id == t.id, MeterValue.phase.is_(None),
                                  MeterValue.measurand.in_((ENERGY, POWER)))
                           .order_by(MeterValue.timestamp, MeterValue.id)).all()
    points: dict[datetime, dict[str, Decimal]] = {}
    for ts, measurand, value, unit in rows:
        p = points.setdefault(ts, {})
        if measurand == ENERGY:
            p["energy"] = _to_unit(value, unit, "Wh") - Decimal(t.meter_start) / 1000
        else:
            p["power"] = _to_unit(value, unit, "W")
    out: list[CurvePoint] = []
    prev: tuple[datetime, Decimal] | None = (t.started_at, Decimal(0))
    for ts in sorted(points):
        energy, power = points[ts].get("energy"), points[ts].get("power")
        if power is None and energy is not None and prev is not None and ts > prev[0]:
            hours = Decimal((ts - prev[0]) // timedelta(microseconds=1)) / 3_600_000_000
            power = max((energy - prev[1]) / hours, Decimal(0)).quantize(Decimal("0.001"))
        if energy is not None:
            prev = (ts, energy)
        out.append(CurvePoint(ts, energy, power))
    return out


def _raw_messages(session: Session, t: Transaction, limit: int = 2000) -> list[RawMessage]:
    """Frames tagged with the session, plus the charger's untagged frames during it (e.g. StartTransaction).
    Only the session's own charger's frames: another charger naming this transactionId is not its log."""
    margin = timedelta(minutes=1)
    end = (t.stopped_at or utcnow()) + margin
    rows = session.execute(select(OcppMessage).where(OcppMessage.charger_id == t.charger_id, or_(
        OcppMessage.transaction_id == t.id,
        and_(OcppMessage.transaction_id.is_(None),
             OcppMessage.created_at >= t.started_at - margin, OcppMessage.created_at <= end)))
        .order_by(OcppMessage.created_at, OcppMessage.id).limit(limit)).scalars()
    return [RawMessage(m.id, m.created_at, m.direction, m.action, m.frame) for m in rows]


# ---------------------------------------------------------------- CSV export

CSV_HEADER = ["session_id", "organization", "charger", "charger_name", "connector", "id_tag", "status",
              "started_at", "stopped_at", "timezone", "duration_minutes", "energy_kwh", "currency",
              "energy", "time", "session_fee", "idle", "subtotal", "vat", "ssc_levy", "gross", "gateway",
              "platform_commission", "location_owner_commission", "net_to_cpo", "stop_reason", "flags"]
_CSV_AMOUNTS = [getattr(Transaction, f"amount_{k}") for k in AMOUNT_FIELDS]


def _cell(text: str | None) -> str:
    """Plain text, defused against spreadsheet formula injection."""
    text = text or ""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def iter_csv(*, session: Session, scope: Scope, filters: TxFilter = TxFilter(), sort: str = "started_at",
             descending: bool = True, batch: int = 2000) -> Iterator[str]:
    """The filtered list as CSV text chunks, read through a server-side cursor. Times are local."""
    if sort not in SORTS:
        raise ValidationError(f"Sort by one of: {', '.join(SORTS)}.", "sort")
    where = _where(session, scope, filters)
    stmt = (_joined(Transaction.id, Organization.name, Charger.ocpp_id, Charger.name, Transaction.connector_id,
                    Transaction.id_tag, Transaction.status, Transaction.started_at, Transaction.stopped_at,
                    Organization.timezone, Transaction.energy_wh, _currency, *_CSV_AMOUNTS, Transaction.stop_reason,
                    Transaction.flags)
            .where(*where)
            .order_by(_order(sort, descending), Transaction.id.desc() if descending else Transaction.id.asc())
            .execution_options(yield_per=batch))
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    yield buf.getvalue()
    zones: dict[str, ZoneInfo] = {}
    for part in session.execute(stmt).partitions():
        buf.seek(0)
        buf.truncate()
        for (tid, org, ocpp, cname, conn, tag, status, start, stop, tz, wh, cur, *amounts, reason, flags) in part:
            zone = zones.setdefault(tz, ZoneInfo(tz))
            minutes = None if stop is None else Decimal((stop - start) // timedelta(seconds=1)) / 60
            writer.writerow([
                tid, _cell(org), _cell(ocpp), _cell(cname), conn, _cell(tag), status,
                start.astimezone(zone).isoformat(), stop.astimezone(zone).isoformat() if stop else "", tz,
                "" if minutes is None else f"{minutes:.2f}", "" if wh is None else str(Decimal(wh) / 1000), cur,
                *["" if a is None else str(round_money(a, cur)) for a in amounts],
                _cell(reason), " ".join(flags or []),
            ])
        yield buf.getvalue()
