"""What the payments pages and API read: payments with filters and totals, one payment's timeline and ledger
entries, wallets and their history, gateway health. Scoped through `Scope.payment_filter`."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, or_, select
from sqlmodel import Session

from core.clock import utcnow
from core.errors import NotFound, ValidationError
from core.money import round_money
from models import (
    CustomerAccount,
    GatewayCall,
    LedgerEntry,
    Organization,
    Payment,
    PaymentEvent,
    PaymentGateway,
    Wallet,
)
from services.access.permissions import Cap
from services.access.scope import Scope
from services.payments.routing import circuit


def _m(value: object, currency: str) -> Decimal:
    return round_money(Decimal(value), currency)


def payment_in_scope(session: Session, scope: Scope, payment_id: int, *, lock: bool = False) -> Payment:
    q = select(Payment).where(Payment.id == payment_id, scope.payment_filter(Payment))
    if lock:
        q = q.with_for_update()
    payment = session.execute(q).scalar_one_or_none() if 0 < payment_id < 2**31 else None
    if payment is None:
        raise NotFound("Payment not found.")
    return payment


@dataclass(frozen=True)
class DayRange:
    start: datetime | None
    end: datetime | None
    timezone: str


MAX_RANGE_DAYS = 3660


def day_range(*, session: Session, scope: Scope, organization_id: int | None, date_from: date | None,
              date_to: date | None) -> DayRange:
    """The dashboard's date range as instants: whole days (both inclusive) in the organization's timezone when
    one organization is chosen or the only one in scope, else in UTC."""
    if date_from and date_to and date_from > date_to:
        raise ValidationError("The range starts after it ends.", "date_from")
    if date_from and date_to and (date_to - date_from).days > MAX_RANGE_DAYS:
        raise ValidationError("The range is at most ten years.", "date_from")
    tz = "UTC"
    if organization_id is not None:
        org = session.execute(select(Organization).where(Organization.id == organization_id,
                                                         scope.org_filter(Organization.id))).scalar_one_or_none()
        tz = org.timezone if org else tz
    else:
        orgs = session.execute(select(Organization.timezone).where(scope.org_filter(Organization.id))
                               .limit(2)).scalars().all()
        tz = orgs[0] if len(orgs) == 1 else tz
    zone = ZoneInfo(tz)
    start = datetime.combine(date_from, time(0), tzinfo=zone) if date_from else None
    end = datetime.combine(date_to + timedelta(days=1), time(0), tzinfo=zone) if date_to else None
    return DayRange(start, end, tz)


@dataclass(frozen=True)
class PaymentRow:
    id: int
    created_at: datetime
    organization_id: int
    organization: str
    customer_account_id: int | None
    customer: str
    transaction_id: int | None
    purpose: str
    method: str
    gateway: str
    status: str
    currency: str
    amount_authorized: Decimal
    amount_captured: Decimal
    amount_refunded: Decimal
    reference: str
    gateway_reference: str | None
    card_last4: str | None


@dataclass(frozen=True)
class PaymentPage:
    rows: list[PaymentRow]
    total: int
    totals: dict[str, Decimal]   # captured less refunded, per currency, over every matching payment


def _filters(scope: Scope, *, start: datetime | None, end: datetime | None, gateway: str | None,
             status: str | None, method: str | None, organization_id: int | None, search: str | None) -> list:
    where = [scope.payment_filter(Payment)]
    if start is not None:
        where.append(Payment.created_at >= start)
    if end is not None:
        where.append(Payment.created_at < end)
    if gateway:
        where.append(Payment.gateway == gateway)
    if status:
        where.append(Payment.status == status)
    if method:
        where.append(Payment.method == method)
    if organization_id is not None:
        where.append(Payment.organization_id == organization_id)
    if search:
        term = f"%{search.strip()[:64]}%"
        where.append(or_(Payment.reference.ilike(term), Payment.gateway_reference.ilike(term)))
    return where


def list_payments(*, session: Session, scope: Scope, start: datetime | None = None, end: datetime | None = None,
                  gateway: str | None = None, status: str | None = None, method: str | None = None,
                  organization_id: int | None = None, search: str | None = None, offset: int = 0,
                  limit: int = 50) -> PaymentPage:
    scope.require(Cap.VIEW_PAYMENTS)
    where = _filters(scope, start=start, end=end, gateway=gateway, status=status, method=method,
                     organization_id=organization_id, search=search)
    q = (select(Payment, Organization.name, CustomerAccount.name)
         .join(Organization, Organization.id == Payment.organization_id)
         .outerjoin(CustomerAccount, CustomerAccount.id == Payment.customer_account_id).where(*where))
    rows = session.execute(q.order_by(Payment.created_at.desc(), Payment.id.desc())
                           .offset(max(offset, 0)).limit(min(max(limit, 1), 10_000))).all()
    total = session.execute(select(func.count()).select_from(Payment).where(*where)).scalar_one()
    totals = dict(session.execute(select(Payment.currency, func.sum(Payment.amount_captured - Payment.amount_refunded))
                                  .where(*where).group_by(Payment.currency).order_by(Payment.currency)).all())
    return PaymentPage([_row(p, org, customer) for p, org, customer in rows], total,
                       {k: _m(v, k) for k, v in totals.items()})


def _row(p: Payment, org: str, customer: str | None) -> PaymentRow:
    return PaymentRow(p.id, p.created_at, p.organization_id, org, p.customer_account_id, customer or "",
                      p.transaction_id, p.purpose, p.method, p.gateway, p.status, p.currency,
                      _m(p.amount_authorized, p.currency), _m(p.amount_captured, p.currency),
                      _m(p.amount_refunded, p.currency),
                      p.reference, p.gateway_reference, p.card_last4)


@dataclass(frozen=True)
class TimelineItem:
    at: datetime
    kind: str
    amount: Decimal | None
    gateway_reference: str | None
    detail: str


@dataclass(frozen=True)
class LedgerItem:
    id: int
    at: datetime
    journal: str
    bucket: str
    wallet_id: int | None
    amount: Decimal
    currency: str
    memo: str


@dataclass(frozen=True)
class PaymentDetail:
    payment: PaymentRow
    note: str | None
    timeline: list[TimelineItem]
    ledger: list[LedgerItem]


def payment_detail(*, session: Session, scope: Scope, payment_id: int) -> PaymentDetail:
    scope.require(Cap.VIEW_PAYMENTS)
    p = payment_in_scope(session, scope, payment_id)
    org = session.get(Organization, p.organization_id).name
    customer = session.get(CustomerAccount, p.customer_account_id).name if p.customer_account_id else ""
    events = session.execute(select(PaymentEvent).where(PaymentEvent.payment_id == p.id)
                             .order_by(PaymentEvent.id)).scalars()
    entries = session.execute(select(LedgerEntry).where(LedgerEntry.payment_id == p.id)
                              .order_by(LedgerEntry.id)).scalars()
    return PaymentDetail(_row(p, org, customer), p.note,
                         [TimelineItem(e.created_at, e.kind, None if e.amount is None else _m(e.amount, p.currency),
                                       e.gateway_reference, e.detail) for e in events],
                         [LedgerItem(e.id, e.created_at, e.journal, e.bucket, e.wallet_id, _m(e.amount, e.currency),
                                     e.currency, e.memo) for e in entries])


@dataclass(frozen=True)
class WalletRow:
    id: int
    organization_id: int
    organization: str
    customer_account_id: int
    customer: str
    currency: str
    balance: Decimal
    held: Decimal


def list_wallets(*, session: Session, scope: Scope, search: str | None = None) -> list[WalletRow]:
    scope.require(Cap.VIEW_PAYMENTS)
    q = (select(Wallet, Organization.name, CustomerAccount.name)
         .join(Organization, Organization.id == Wallet.organization_id)
         .join(CustomerAccount, CustomerAccount.id == Wallet.customer_account_id)
         .where(scope.payment_filter(Wallet)))
    if search:
        q = q.where(CustomerAccount.name.ilike(f"%{search.strip()[:64]}%"))
    return [WalletRow(w.id, w.organization_id, org, w.customer_account_id, name, w.currency,
                      _m(w.balance, w.currency), _m(w.held, w.currency))
            for w, org, name in session.execute(q.order_by(CustomerAccount.name)).all()]


def wallet_in_scope(session: Session, scope: Scope, wallet_id: int, *, lock: bool = False) -> Wallet:
    q = select(Wallet).where(Wallet.id == wallet_id, scope.payment_filter(Wallet))
    if lock:
        q = q.with_for_update()
    wallet = session.execute(q).scalar_one_or_none() if 0 < wallet_id < 2**31 else None
    if wallet is None:
        raise NotFound("Wallet not found.")
    return wallet


@dataclass(frozen=True)
class GatewayHealth:
    gateway_id: int
    gateway: str
    organization: str
    enabled: bool
    calls: int
    success_rate: float | None   # approved or declined (the gateway answered) over all calls, last hour
    p95_latency_ms: int | None
    circuit: str


def gateway_health(*, session: Session, scope: Scope, hours: int = 1) -> list[GatewayHealth]:
    scope.require(Cap.VIEW_PAYMENTS)
    since = utcnow() - timedelta(hours=hours)
    answered = case((GatewayCall.outcome.in_(("approved", "declined", "pending")), 1), else_=0)
    stats = (select(GatewayCall.gateway_id, func.count().label("n"), func.sum(answered).label("ok"),
                    func.percentile_disc(0.95).within_group(GatewayCall.latency_ms).label("p95"))
             .where(GatewayCall.at >= since).group_by(GatewayCall.gateway_id).subquery())
    rows = session.execute(select(PaymentGateway, Organization.name, stats.c.n, stats.c.ok, stats.c.p95)
                           .join(Organization, Organization.id == PaymentGateway.organization_id)
                           .outerjoin(stats, stats.c.gateway_id == PaymentGateway.id)
                           .where(scope.payment_filter(PaymentGateway))
                           .order_by(Organization.name, PaymentGateway.priority)).all()
    return [GatewayHealth(g.id, g.gateway, org, g.enabled, n or 0, (ok / n) if n else None, p95,
                          circuit(session, g.id).value) for g, org, n, ok, p95 in rows]






@dataclass(frozen=True)
class WalletHistoryItem:
    id: int
    at: datetime
    bucket: str
    amount: Decimal
    memo: str
    payment_id: int | None


@dataclass(frozen=True)
class WalletDetail:
    wallet: WalletRow
    history: list[WalletHistoryItem]


def wallet_detail(*, session: Session, scope: Scope, wallet_id: int, limit: int = 200) -> WalletDetail:
    scope.require(Cap.VIEW_PAYMENTS)
    w = wallet_in_scope(session, scope, wallet_id)
    org = session.get(Organization, w.organization_id).name
    name = session.get(CustomerAccount, w.customer_account_id).name
    entries = session.execute(select(LedgerEntry).where(LedgerEntry.wallet_id == w.id)
                              .order_by(LedgerEntry.id.desc()).limit(limit)).scalars()
    return WalletDetail(WalletRow(w.id, w.organization_id, org, w.customer_account_id, name, w.currency,
                                  _m(w.balance, w.currency), _m(w.held, w.currency)),
                        [WalletHistoryItem(e.id, e.created_at, e.bucket, _m(e.amount, e.currency), e.memo,
                                           e.payment_id)
                         for e in entries])
