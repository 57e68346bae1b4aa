"""What the billing worker does for customers, each exactly once per period (the pattern of ADR 0005):

- Subscription invoices, on the organization's billing cycle: per account, each asset's plan price for every
  renewal (monthly or yearly from its activation day) falling in the period, the Enterprise plan's price per
  activated asset for each monthly renewal, and the plans' fees per session (fixed, or a percentage of the
  sessions' gross, rounded once per line). Gap-free numbers per organization (`customer_invoice_sequence`).
- Reimbursement statements, per calendar month in the organization's timezone: a sub-account's private
  sessions, those on its own home chargers while active on it, that stopped in the month; amount = rate × kWh,
  rounded once. Employee: automated, a payable line. Subsidiary: manual, an Accounts user marks it paid.

A run first inserts its `customer_run` row (organization, kind, period); a second worker blocks on that row and
then finds it taken, so nothing is made twice. Everything of one run commits together.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from fpdf import FPDF
from sqlalchemy import func, or_, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session

from core.clock import utcnow
from core.errors import Conflict, NotFound
from core.fmt import kwh
from core.money import format_money, round_money
from models import (
    BillingPlan,
    ChargingAsset,
    CustomerAccount,
    CustomerInvoice,
    CustomerInvoiceLine,
    CustomerRun,
    EnterprisePlan,
    Organization,
    ReimbursementStatement,
    Transaction,
)
from models.customer import SubAccountUse
from models.customer_billing import AssetKind, FeeKind, PlanInterval, StatementStatus
from services.access.permissions import Cap
from services.access.scope import Scope
from services.billing.cycles import run_at
from services.billing.pdf import FONT, FONT_DIR, FONT_FILES
from services.billing.periods import Period, local_today, period_bounds_utc, period_containing
from services.customers.accounts import actor

log = logging.getLogger(__name__)
SUBSCRIPTIONS, REIMBURSEMENTS = "subscriptions", "reimbursements"
MAX_CATCH_UP = 12


def _shift(d: date, months: int) -> date:
    index = d.year * 12 + d.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(d.day, 28))


def renewals(first: date, interval: str, start: date, end: date, until: date | None = None) -> int:
    """How many renewal dates (first, then every month or year, day capped at 28) fall in start..end and
    before `until` (the day it was deactivated)."""
    step = 12 if interval == PlanInterval.YEAR else 1
    count, k = 0, 0
    while True:
        d = first if k == 0 else _shift(first, step * k)
        if d > end or (until is not None and d >= until):
            return count
        if d >= start:
            count += 1
        k += 1


def _local(ts: datetime | None, tz: str) -> date | None:
    return ts.astimezone(ZoneInfo(tz)).date() if ts else None


def _claim(session: Session, org: Organization, kind: str, period: Period) -> bool:
    """Take the run for (organization, kind, period); False when another run has it."""
    stmt = insert(CustomerRun).values(organization_id=org.id, kind=kind, period_start=period.start,
                                      period_end=period.end, created_at=utcnow())
    return session.execute(stmt.on_conflict_do_nothing().returning(CustomerRun.id)).scalar_one_or_none() is not None


# --- subscriptions ------------------------------------------------------------------------------------


@dataclass
class Line:
    description: str
    quantity: int
    amount: Decimal


def _lines(session: Session, org: Organization, account: CustomerAccount, period: Period) -> list[Line]:
    lo, hi = period_bounds_utc(period.start, period.end, org.timezone)
    tz, cur = org.timezone, org.currency
    lines: list[Line] = []
    assets = session.execute(
        select(ChargingAsset, BillingPlan).outerjoin(BillingPlan, BillingPlan.id == ChargingAsset.plan_id)
        .where(ChargingAsset.account_id == account.id, ChargingAsset.activated_at < hi,
               or_(ChargingAsset.deactivated_at.is_(None), ChargingAsset.deactivated_at >= lo))
        .order_by(ChargingAsset.id)).all()
    for asset, plan in assets:
        if plan is None:
            continue
        n = renewals(_local(asset.activated_at, tz), plan.interval, period.start, period.end,
                     _local(asset.deactivated_at, tz))
        if n:
            lines.append(Line(f"{plan.name} ({asset.kind} #{asset.id}), per {plan.interval}", n,
                              round_money(plan.price * n, cur)))
        if plan.session_fee is None:
            continue
        on_asset = (Transaction.id_tag_id == asset.id_tag_id if asset.kind == AssetKind.CARD
                    else Transaction.charger_id == asset.charger_id)
        count, gross = session.execute(select(func.count(), func.coalesce(func.sum(Transaction.amount_gross), 0))
                                       .where(Transaction.customer_account_id == account.id, on_asset,
                                              Transaction.stopped_at >= lo, Transaction.stopped_at < hi,
                                              Transaction.started_at >= asset.activated_at)).one()
        if count:
            fee = (plan.session_fee * count if plan.fee_kind == FeeKind.FIXED
                   else Decimal(gross) * plan.session_fee / 100)
            lines.append(Line(f"{plan.name}: fee per session ({asset.kind} #{asset.id})", count,
                              round_money(fee, cur)))
    enterprise = session.get(EnterprisePlan, account.id)
    if enterprise is not None:
        months = renewals(enterprise.started_on, PlanInterval.MONTH, period.start, period.end)
        family = select(CustomerAccount.id).where(or_(CustomerAccount.id == account.id,
                                                      CustomerAccount.parent_id == account.id))
        active = session.execute(select(func.count()).select_from(ChargingAsset).where(
            ChargingAsset.account_id.in_(family), ChargingAsset.plan_id.is_(None), ChargingAsset.activated_at < hi,
            or_(ChargingAsset.deactivated_at.is_(None), ChargingAsset.deactivated_at >= hi))).scalar_one()
        if months and active:
            lines.append(Line(f"Enterprise plan: {active} activated assets × {months} month(s)", active * months,
                              round_money(enterprise.price_per_asset * active * months, cur)))
    return lines


def _number(session: Session, org: Organization) -> tuple[int, str]:
    seq = session.execute(text(
        "INSERT INTO customer_invoice_sequence AS s (organization_id, last_value) VALUES (:o, 1) "
        "ON CONFLICT (organization_id) DO UPDATE SET last_value = s.last_value + 1 RETURNING last_value"),
        {"o": org.id}).scalar_one()
    return seq, f"CUS-{org.slug.upper()}-{seq:05d}"


def bill_subscriptions(*, session: Session, org: Organization, period: Period) -> list[str] | None:
    """The subscription invoices of one organization and period, once: their numbers, or None when the period
    was already billed (by this or another worker). Commits."""
    if not _claim(session, org, SUBSCRIPTIONS, period):
        session.rollback()
        return None
    made = []
    for account in session.execute(select(CustomerAccount).where(CustomerAccount.organization_id == org.id)
                                   .order_by(CustomerAccount.id)).scalars():
        lines = _lines(session, org, account, period)
        if not lines:
            continue
        seq, number = _number(session, org)
        inv = CustomerInvoice(organization_id=org.id, account_id=account.id, seq=seq, number=number,
                              period_start=period.start, period_end=period.end, currency=org.currency,
                              total=sum((ln.amount for ln in lines), Decimal(0)), created_at=utcnow())
        session.add(inv)
        session.flush()
        session.add_all([CustomerInvoiceLine(invoice_id=inv.id, position=i, description=ln.description[:300],
                                             quantity=ln.quantity, amount=ln.amount)
                         for i, ln in enumerate(lines, start=1)])
        made.append(number)
    session.commit()
    return made


# --- reimbursements -----------------------------------------------------------------------------------


def month_of(d: date) -> Period:
    first = d.replace(day=1)
    nxt = _shift(first, 1)
    return Period(first, nxt - timedelta(days=1))


def statement_figures(session: Session, org: Organization, account: CustomerAccount, month: Period) -> tuple[int, int]:
    """(sessions, Wh) of the sub-account's private sessions that stopped in the month."""
    lo, hi = period_bounds_utc(month.start, month.end, org.timezone)
    return session.execute(
        select(func.count(Transaction.id), func.coalesce(func.sum(Transaction.energy_wh), 0))
        .join(ChargingAsset, ChargingAsset.charger_id == Transaction.charger_id)
        .where(ChargingAsset.account_id == account.id, Transaction.started_at >= ChargingAsset.activated_at,
               or_(ChargingAsset.deactivated_at.is_(None), Transaction.started_at < ChargingAsset.deactivated_at),
               Transaction.stopped_at >= lo, Transaction.stopped_at < hi, Transaction.energy_wh.is_not(None))).one()


def reimbursement_amount(rate: Decimal, energy_wh: int, currency: str) -> Decimal:
    """rate × kWh, rounded once to the currency's minor unit."""
    return round_money(rate * Decimal(energy_wh) / 1000, currency)


def make_statements(*, session: Session, org: Organization, month: Period) -> int | None:
    """The reimbursement statements of one organization and month, once: how many, or None when already made.
    Commits."""
    if not _claim(session, org, REIMBURSEMENTS, month):
        session.rollback()
        return None
    made = 0
    subs = session.execute(select(CustomerAccount).where(
        CustomerAccount.organization_id == org.id, CustomerAccount.parent_id.is_not(None),
        CustomerAccount.reimbursement_rate.is_not(None)).order_by(CustomerAccount.id)).scalars()
    for account in subs:
        count, wh = statement_figures(session, org, account, month)
        if not count:
            continue
        status = StatementStatus.PAYABLE if account.use == SubAccountUse.EMPLOYEE else StatementStatus.AWAITING
        session.add(ReimbursementStatement(
            organization_id=org.id, account_id=account.id, period_start=month.start, period_end=month.end,
            session_count=count, energy_wh=int(wh), rate=account.reimbursement_rate,
            amount=reimbursement_amount(account.reimbursement_rate, int(wh), org.currency), currency=org.currency,
            status=status, created_at=utcnow()))
        made += 1
    session.commit()
    return made


# --- the worker ---------------------------------------------------------------------------------------


def _closed(periods: list[Period], org: Organization, now: datetime) -> list[Period]:
    return [p for p in periods if run_at(org, p) <= now]


def due(session: Session, org: Organization, now: datetime) -> tuple[list[Period], list[Period]]:
    """The closed billing periods and months (up to MAX_CATCH_UP back) not run yet for the organization."""
    today = local_today(org.timezone, now)
    done = {(k, s) for k, s in session.execute(select(CustomerRun.kind, CustomerRun.period_start)
                                               .where(CustomerRun.organization_id == org.id))}
    cycles, months = [], []
    current = period_containing(org.billing_cycle, org.billing_day, today)
    month = month_of(today)
    for _ in range(MAX_CATCH_UP):
        current = period_containing(org.billing_cycle, org.billing_day, current.start - timedelta(days=1))
        month = month_of(month.start - timedelta(days=1))
        cycles.append(current)
        months.append(month)
    return ([p for p in _closed(cycles, org, now) if (SUBSCRIPTIONS, p.start) not in done][::-1],
            [m for m in _closed(months, org, now) if (REIMBURSEMENTS, m.start) not in done][::-1])


def run_due(*, session: Session, now: datetime | None = None) -> dict[str, int]:
    """Every organization with customer accounts: bill closed periods and make last months' statements."""
    now = now or utcnow()
    since = select(func.min(CustomerAccount.created_at), CustomerAccount.organization_id).group_by(
        CustomerAccount.organization_id)
    invoices = statements = 0
    for first, org_id in session.execute(since).all():
        org = session.get(Organization, org_id)
        cycles, months = due(session, org, now)
        start = _local(first, org.timezone)
        for period in cycles:
            if period.end >= start:
                invoices += len(bill_subscriptions(session=session, org=org, period=period) or [])
        for month in months:
            if month.end >= start:
                statements += make_statements(session=session, org=org, month=month) or 0
        session.commit()
    return {"customer_invoices": invoices, "reimbursement_statements": statements}


# --- reading ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatementRow:
    id: int
    account_id: int
    account: str
    use: str | None
    period_start: date
    period_end: date
    session_count: int
    energy_kwh: str
    rate: Decimal
    amount: Decimal
    amount_text: str
    currency: str
    status: str


def _view_scope(scope: Scope) -> None:
    if not scope.is_customer:
        scope.require(Cap.VIEW_CUSTOMERS)


def list_statements(*, session: Session, scope: Scope, account_id: int | None = None) -> list[StatementRow]:
    _view_scope(scope)
    where = [scope.account_filter()]
    if account_id is not None:
        where.append(ReimbursementStatement.account_id == account_id)
    rows = session.execute(select(ReimbursementStatement, CustomerAccount.name, CustomerAccount.use)
                           .join(CustomerAccount, CustomerAccount.id == ReimbursementStatement.account_id)
                           .where(*where).order_by(ReimbursementStatement.period_start.desc(), CustomerAccount.name))
    return [StatementRow(s.id, s.account_id, name, use, s.period_start, s.period_end, s.session_count,
                         kwh(Decimal(s.energy_wh) / 1000), s.rate, s.amount,
                         format_money(s.amount, s.currency), s.currency, s.status) for s, name, use in rows]


def mark_statement_paid(*, session: Session, scope: Scope, statement_id: int) -> StatementRow:
    """An Accounts user marks a reimbursement paid (manual for Subsidiaries; the payout of an automated one)."""
    scope.require(Cap.MANAGE_PAYMENTS)
    row = session.execute(select(ReimbursementStatement).join(
        CustomerAccount, CustomerAccount.id == ReimbursementStatement.account_id)
        .where(ReimbursementStatement.id == statement_id, scope.account_filter())
        .with_for_update(of=ReimbursementStatement)).scalar_one_or_none()
    if row is None:
        raise NotFound("Statement not found.")
    if row.status == StatementStatus.PAID:
        raise Conflict("This statement is already paid.")
    row.status, row.paid_at, row.paid_by_id = StatementStatus.PAID, utcnow(), actor(scope)
    session.add(row)
    session.commit()
    return next(s for s in list_statements(session=session, scope=scope, account_id=row.account_id)
                if s.id == row.id)


@dataclass(frozen=True)
class InvoiceRow:
    id: int
    number: str
    account_id: int
    account: str
    period_start: date
    period_end: date
    total: Decimal
    total_text: str
    currency: str


def list_invoices(*, session: Session, scope: Scope, account_id: int | None = None) -> list[InvoiceRow]:
    _view_scope(scope)
    where = [scope.account_filter()]
    if account_id is not None:
        where.append(CustomerInvoice.account_id == account_id)
    rows = session.execute(select(CustomerInvoice, CustomerAccount.name)
                           .join(CustomerAccount, CustomerAccount.id == CustomerInvoice.account_id)
                           .where(*where).order_by(CustomerInvoice.period_start.desc(), CustomerInvoice.number))
    return [InvoiceRow(i.id, i.number, i.account_id, name, i.period_start, i.period_end, i.total,
                       format_money(i.total, i.currency), i.currency) for i, name in rows]


def invoice_pdf(*, session: Session, scope: Scope, invoice_id: int) -> tuple[str, bytes]:
    """The customer invoice as a PDF (filename, bytes), rendered from the stored invoice and lines."""
    inv = next((r for r in list_invoices(session=session, scope=scope) if r.id == invoice_id), None)
    if inv is None:
        raise NotFound("Invoice not found.")
    row = session.get(CustomerInvoice, inv.id)
    org = session.get(Organization, row.organization_id)
    account = session.get(CustomerAccount, row.account_id)
    lines = session.execute(select(CustomerInvoiceLine).where(CustomerInvoiceLine.invoice_id == inv.id)
                            .order_by(CustomerInvoiceLine.position)).scalars().all()
    pdf = FPDF(format="A4")
    for style, name in FONT_FILES.items():
        pdf.add_font(FONT, style, str(FONT_DIR / name))
    pdf.add_page()
    pdf.set_font(FONT, "B", 16)
    pdf.cell(0, 10, f"Invoice {inv.number}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 10)
    for text_line in (org.legal_name or org.name, f"To: {account.legal_name or account.name}",
                      account.billing_address or "", f"Period: {inv.period_start} – {inv.period_end}"):
        if text_line:
            pdf.multi_cell(0, 6, text_line, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    for ln in lines:
        pdf.cell(120, 7, ln.description[:90])
        pdf.cell(20, 7, str(ln.quantity), align="R")
        pdf.cell(0, 7, format_money(ln.amount, inv.currency), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "B", 11)
    pdf.cell(140, 9, "Total")
    pdf.cell(0, 9, inv.total_text, align="R", new_x="LMARGIN", new_y="NEXT")
    return f"{inv.number}.pdf", bytes(pdf.output())
