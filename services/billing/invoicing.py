"""Partner invoices: settlement statements built from the priced sessions of one organization and period.

Rules the code keeps:
- Amounts come from the sessions' amount columns (priced and rounded once per session at stop). An invoice
  line is the sum of its sessions' columns and the invoice the sum of its lines, so totals tie back to the
  sessions to the minor unit. Nothing is recomputed from rates here.
- Numbers are gap-free per organization: the counter row is locked FOR UPDATE in the transaction that
  creates the invoice, so a rolled-back invoice gives its number back and two writers never share one.
- Each (organization, kind, period, revision) exists once (unique index), so bulk runs, the CLI and two
  workers can all ask for the same period and only one invoice is made.
- A document never changes after it is made; only its status moves. A correction is a credit note plus a
  new invoice with the next revision.
"""
from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import and_, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from core.clock import utcnow
from core.errors import Conflict, NotFound, ValidationError
from core.money import round_money
from core.validation import REASON_MAX, check_day, check_int32, optional_text
from models import (
    BillingRun,
    Charger,
    Invoice,
    InvoiceLine,
    InvoiceStatusChange,
    Organization,
    Refund,
    Transaction,
    User,
)
from models.invoice import AMOUNT_COLUMNS, InvoiceKind, InvoiceStatus, RunOutcome, RunTrigger
from models.organization import OrganizationKind
from models.transaction import TransactionStatus
from services.access.permissions import Cap, Role
from services.access.scope import Scope, get_in_scope
from services.billing.documents import TRANSACTION_COLUMN, LineData, create_document, lock_counter, record_status
from services.billing.periods import invoiceable_from, period_bounds_utc
from services.billing.refund_credits import credit_open_refunds

log = logging.getLogger(__name__)

# Allowed manual moves. Overdue is set by the worker only (mark_overdue), never by hand.
TRANSITIONS = {
    InvoiceStatus.DRAFT: {InvoiceStatus.SENT, InvoiceStatus.VOID},
    InvoiceStatus.SENT: {InvoiceStatus.PAID, InvoiceStatus.VOID},
    InvoiceStatus.OVERDUE: {InvoiceStatus.PAID, InvoiceStatus.VOID},
    InvoiceStatus.PAID: set(),
    InvoiceStatus.VOID: set(),
}
STATUS_LABELS = {status.value: status.value.capitalize() for status in InvoiceStatus}

# The worker and the CLI act as the platform itself.
SYSTEM_SCOPE = Scope(user_id=0, role=Role.ADMIN, org_ids=None)


def _actor(scope: Scope) -> int | None:
    return scope.user_id or None


def _require(scope: Scope, cap: Cap) -> None:
    scope.require(cap)


# ---------------------------------------------------------------------------------------------- building


def _operator_or_none(session: Session) -> Organization | None:
    return session.execute(select(Organization).where(Organization.kind == OrganizationKind.OPERATOR)
                           ).scalar_one_or_none()


def _operator(session: Session) -> Organization:
    op = _operator_or_none(session)
    if op is None:
        raise ValidationError("There is no platform operator organization; create it first.")
    return op


def _transaction_lines(session: Session, org: Organization, start: date, end: date) -> tuple[list[LineData], str]:
    """Per-charger sums of the priced sessions that stopped inside the period (local dates, inclusive).

    Returns the lines and a reason when the period cannot be invoiced ('' when it can). One pass over the
    period's sessions: unpriced and foreign-currency sessions are counted in the same query.
    """
    lo, hi = period_bounds_utc(start, end, org.timezone)
    in_period = and_(Transaction.organization_id == org.id, Transaction.status == TransactionStatus.COMPLETED,
                     Transaction.stopped_at >= lo, Transaction.stopped_at < hi)
    columns = [func.coalesce(func.sum(getattr(Transaction, TRANSACTION_COLUMN[a])), 0).label(a) for a in AMOUNT_COLUMNS]
    rows = session.execute(
        select(Transaction.charger_id, Charger.ocpp_id, Charger.name, func.count().label("n"),
               func.coalesce(func.sum(Transaction.energy_wh), 0).label("wh"),
               func.count().filter(Transaction.priced_at.is_(None)).label("unpriced"),
               func.count().filter(Transaction.currency != org.currency).label("foreign"), *columns)
        .join(Charger, Charger.id == Transaction.charger_id)
        .where(in_period)
        .group_by(Transaction.charger_id, Charger.ocpp_id, Charger.name)
        .order_by(Charger.ocpp_id)
    ).all()
    unpriced = sum(r.unpriced for r in rows)
    if unpriced:
        return [], f"{unpriced} completed session(s) in the period are not priced yet; invoice once they are."
    if any(r.foreign for r in rows):
        other = session.execute(select(Transaction.currency, func.count()).where(
            in_period, Transaction.currency != org.currency).group_by(Transaction.currency)).all()
        found = ", ".join(f"{n} in {cur}" for cur, n in other)
        return [], (f"Sessions in another currency than the organization's {org.currency} ({found}); "
                    "amounts in different currencies are never added up.")
    return _to_lines(rows), ""


def _to_lines(rows) -> list[LineData]:
    return [LineData(r.charger_id, f"{r.ocpp_id} · {r.name}" if r.name else r.ocpp_id, r.n, int(r.wh),
                     {a: Decimal(getattr(r, a)) for a in AMOUNT_COLUMNS})
            for r in sorted(rows, key=lambda r: r.ocpp_id)]


@dataclass(frozen=True)
class Prefetched:
    """An organization's lines read ahead in one pass for a whole bulk run."""
    lines: list[LineData]
    session_count: int


def _prefetch_lines(session: Session, orgs: list[Organization], start: date, end: date) -> dict[int, Prefetched]:
    """Every organization's per-charger sums in one query (one pass over the period), for bulk runs.

    Organizations with unpriced or foreign-currency sessions are left out: their run reads again, under
    its lock, and explains. The rest are re-checked under the lock by a session count (see _invoice_one).
    """
    clients = [o for o in orgs if o.kind != OrganizationKind.OPERATOR]
    if len(clients) < 2:
        return {}
    bounds = [period_bounds_utc(start, end, o.timezone) for o in clients]
    sums = ", ".join(f"coalesce(sum(t.{TRANSACTION_COLUMN[a]}), 0) AS {a}" for a in AMOUNT_COLUMNS)
    rows = session.execute(text(f"""
        SELECT t.organization_id AS org_id, t.charger_id, c.ocpp_id, c.name, count(*) AS n,
               coalesce(sum(t.energy_wh), 0) AS wh,
               count(*) FILTER (WHERE t.priced_at IS NULL OR t.currency <> b.currency) AS problems, {sums}
        FROM unnest(CAST(:ids AS integer[]), CAST(:los AS timestamptz[]), CAST(:his AS timestamptz[]),
                    CAST(:curs AS text[])) AS b(org_id, lo, hi, currency)
        JOIN charging_session t ON t.organization_id = b.org_id AND t.stopped_at >= b.lo AND t.stopped_at < b.hi
        JOIN charger c ON c.id = t.charger_id
        GROUP BY t.organization_id, t.charger_id, c.ocpp_id, c.name"""),
        {"ids": [o.id for o in clients], "los": [b[0] for b in bounds], "his": [b[1] for b in bounds],
         "curs": [o.currency for o in clients]}).all()
    by_org: dict[int, list] = {o.id: [] for o in clients}
    for r in rows:
        by_org[r.org_id].append(r)
    return {org_id: Prefetched(_to_lines(rs), sum(r.n for r in rs)) for org_id, rs in by_org.items()
            if not any(r.problems for r in rs)}


def _transaction_count(session: Session, org: Organization, start: date, end: date) -> int:
    # stopped_at is set exactly when a session is completed (ck_session_stopped), so no status filter:
    # this is an index-only count on ix_session_org_stopped.
    lo, hi = period_bounds_utc(start, end, org.timezone)
    return session.execute(select(func.count()).select_from(Transaction).where(
        Transaction.organization_id == org.id, Transaction.stopped_at >= lo, Transaction.stopped_at < hi)).scalar()


@dataclass(frozen=True)
class Outcome:
    """What happened to one organization in a bulk run."""
    organization_id: int
    organization: str
    outcome: str  # made | skipped | failed
    reason: str
    invoice_id: int | None = None
    number: str | None = None


def _overlapping(session: Session, org_id: int, start: date, end: date) -> Invoice | None:
    return session.execute(select(Invoice).where(
        Invoice.organization_id == org_id, Invoice.kind == InvoiceKind.INVOICE,
        Invoice.period_start <= end, Invoice.period_end >= start,
    ).order_by(Invoice.revision.desc())).scalars().first()


def _invoice_one(session: Session, org: Organization, start: date, end: date, actor: int | None,
                 operator: Organization | None = None, prefetched: Prefetched | None = None) -> Outcome:
    """Make the invoice of one organization for one period, inside the caller's transaction."""
    name = org.name
    if org.kind == OrganizationKind.OPERATOR:
        return Outcome(org.id, name, RunOutcome.SKIPPED, "The platform operator is not invoiced.")
    opens = invoiceable_from(end, org.timezone)
    if opens > utcnow():  # an open or future period: sessions may still arrive
        return Outcome(org.id, name, RunOutcome.SKIPPED,
                       f"The period has not ended yet: it can be invoiced from {opens:%Y-%m-%d %H:%M} UTC.")
    lock_counter(session, org.id)
    existing = _overlapping(session, org.id, start, end)
    if existing is not None:
        if (existing.period_start, existing.period_end) == (start, end):
            return Outcome(org.id, name, RunOutcome.SKIPPED, f"Already invoiced as {existing.number}.", existing.id,
                           existing.number)
        return Outcome(org.id, name, RunOutcome.SKIPPED,
                       f"Overlaps {existing.number} ({existing.period_start} – {existing.period_end}).",
                       existing.id, existing.number)
    if prefetched is not None and _transaction_count(session, org, start, end) == prefetched.session_count:
        lines, problem = prefetched.lines, ""  # nothing arrived since the read-ahead
    else:
        lines, problem = _transaction_lines(session, org, start, end)
    if problem:
        return Outcome(org.id, name, RunOutcome.FAILED, problem)
    if not lines:
        return Outcome(org.id, name, RunOutcome.SKIPPED, "Nothing to bill: no priced sessions in the period.")
    inv = create_document(session, org=org, operator=operator or _operator(session), kind=InvoiceKind.INVOICE,
                           period_start=start, period_end=end, revision=0, lines=lines, actor=actor)
    credit_open_refunds(session, org=org, inv=inv)  # refunds given back before the period was invoiced
    return Outcome(org.id, name, RunOutcome.MADE, f"Invoice {inv.number} created.", inv.id, inv.number)


def validate_period(period_start: date, period_end: date) -> None:
    check_day(period_start, "period_start")
    check_day(period_end, "period_end")
    if period_end < period_start:
        raise ValidationError("The period end is before its start.", "period_end")
    if (period_end - period_start).days > 366:
        raise ValidationError("A billing period is at most one year long.", "period_end")


def invoice_period(*, session: Session, org: Organization, period_start: date, period_end: date,
                   actor: int | None = None, trigger: str = RunTrigger.BULK, batch: str | None = None,
                   operator: Organization | None = None, prefetched: Prefetched | None = None) -> Outcome:
    """Invoice one organization for one period in its own transaction (commits), and record the run
    (in the same transaction when an invoice is made).

    Safe to call from several processes at once: the loser answers 'skipped, already invoiced'.
    """
    batch = batch or str(uuid.uuid4())
    started = utcnow()
    org_id, org_name = org.id, org.name
    try:
        outcome = _invoice_one(session, org, period_start, period_end, actor, operator, prefetched)
        if outcome.outcome != RunOutcome.MADE:
            session.rollback()  # gives the counter lock back untouched
    except IntegrityError:
        session.rollback()
        existing = _overlapping(session, org_id, period_start, period_end)
        outcome = Outcome(org_id, org_name, RunOutcome.SKIPPED,
                          f"Already invoiced as {existing.number}." if existing else "Already invoiced.",
                          existing.id if existing else None, existing.number if existing else None)
    except Exception as exc:  # one organization's failure must not stop the others
        session.rollback()
        log.exception("invoicing organization %s for %s – %s failed", org_id, period_start, period_end)
        outcome = Outcome(org_id, org_name, RunOutcome.FAILED, f"Unexpected error: {exc}")
    session.add(BillingRun(batch=batch, organization_id=org_id, period_start=period_start, period_end=period_end,
                           trigger=trigger, outcome=outcome.outcome, reason=outcome.reason,
                           invoice_id=outcome.invoice_id if outcome.outcome == RunOutcome.MADE else None,
                           user_id=actor, started_at=started, finished_at=utcnow()))
    session.commit()
    return outcome


@dataclass
class BulkResult:
    batch: str
    period_start: date
    period_end: date
    outcomes: list[Outcome] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(1 for o in self.outcomes if o.outcome == outcome)

    @property
    def summary(self) -> str:
        return (f"{self.count('made')} made, {self.count('skipped')} skipped, {self.count('failed')} failed "
                f"for {self.period_start} – {self.period_end}.")


def generate_bulk(*, session: Session, scope: Scope, period_start: date, period_end: date,
                  organization_ids: Iterable[int] | None = None, trigger: str = RunTrigger.BULK,
                  on_progress: Callable[[int, int], None] | None = None,
                  on_outcome: Callable[[Outcome], None] | None = None) -> BulkResult:
    """Invoice every client organization in scope (or the selected ones) for a period.

    Commits per organization. Running it again makes nothing twice: those answer 'already invoiced'.
    """
    _require(scope, Cap.MANAGE_INVOICES)
    validate_period(period_start, period_end)
    query = select(Organization).where(scope.org_filter(Organization.id))
    if organization_ids is not None:
        wanted = sorted(set(organization_ids))
        if not wanted:
            raise ValidationError("Select at least one organization, or none for all.", "organization_ids")
        orgs = session.execute(query.where(Organization.id.in_(wanted)).order_by(Organization.id)).scalars().all()
        missing = set(wanted) - {o.id for o in orgs}
        if missing:
            raise NotFound(f"Organization(s) not found: {', '.join(map(str, sorted(missing)))}.")
    else:
        orgs = session.execute(query.where(Organization.kind != OrganizationKind.OPERATOR)
                               .order_by(Organization.id)).scalars().all()
    operator = _operator_or_none(session)
    ahead = _prefetch_lines(session, list(orgs), period_start, period_end)
    session.commit()  # nothing held while the per-organization transactions run
    result = BulkResult(batch=str(uuid.uuid4()), period_start=period_start, period_end=period_end)
    actor = _actor(scope)
    for i, org in enumerate(orgs, start=1):
        result.outcomes.append(invoice_period(session=session, org=org, period_start=period_start,
                                              period_end=period_end, actor=actor, trigger=trigger,
                                              batch=result.batch, operator=operator, prefetched=ahead.get(org.id)))
        if on_outcome:
            on_outcome(result.outcomes[-1])
        if on_progress:
            on_progress(i, len(orgs))
    return result


# ------------------------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class InvoiceRow:
    id: int
    number: str
    kind: str
    organization_id: int
    organization: str
    status: str
    period_start: date
    period_end: date
    issue_date: date
    due_date: date
    currency: str
    amount_gross: Decimal
    amount_net_payable: Decimal
    credits_invoice_id: int | None


@dataclass(frozen=True)
class LineRow:
    position: int
    charger_id: int | None
    description: str
    session_count: int
    energy_kwh: Decimal
    amounts: dict[str, Decimal]


@dataclass(frozen=True)
class StatusChangeRow:
    from_status: str | None
    to_status: str
    reason: str | None
    changed_by: str  # the user's email, or "system"
    changed_at: datetime


@dataclass(frozen=True)
class CreditNoteRow:
    """A partial credit note for one refund, as its invoice lists it."""
    id: int
    number: str
    status: str
    issue_date: date
    amount_gross: Decimal  # negative: what it gives back
    refund_id: int
    refund_reference: str
    payment_id: int


@dataclass(frozen=True)
class InvoiceDetail:
    """Everything a page, the API and the PDF need, as plain data."""
    id: int
    number: str
    kind: str
    revision: int
    status: str
    void_reason: str | None
    organization_id: int
    credits_invoice_id: int | None
    credits_number: str | None
    credited_by_number: str | None
    correction_reason: str | None
    period_start: date
    period_end: date
    issue_date: date
    due_date: date
    payment_terms_days: int
    currency: str
    timezone: str
    platform_party: dict
    customer_party: dict
    vat_rate: Decimal
    ssc_levy_rate: Decimal
    platform_commission_rate: Decimal
    session_count: int
    energy_kwh: Decimal
    amounts: dict[str, Decimal]
    lines: list[LineRow]
    history: list[StatusChangeRow]
    credited_by_id: int | None = None  # the credit note that credits this invoice, for links
    # A refund's credit note: which refund of which payment it gives back.
    refund_id: int | None = None
    refund_reference: str | None = None
    refund_payment_id: int | None = None
    credit_notes: list[CreditNoteRow] = field(default_factory=list)  # an invoice's refund credit notes


def list_invoices(*, session: Session, scope: Scope, organization_id: int | None = None,
                  status: str | None = None, kind: str | None = None, period_start: date | None = None,
                  period_end: date | None = None, limit: int = 100, offset: int = 0) -> tuple[list[InvoiceRow], int]:
    _require(scope, Cap.VIEW_INVOICES)
    if status is not None and status not in TRANSITIONS:
        raise ValidationError(f"Status must be one of: {', '.join(TRANSITIONS)}.", "status")
    if not 1 <= limit <= 1000 or offset < 0:
        raise ValidationError("limit must be 1..1000 and offset 0 or more.", "limit")
    for name, day in (("period_start", period_start), ("period_end", period_end)):
        if day is not None:
            check_day(day, name)
    if organization_id is not None:
        check_int32(organization_id, "organization_id")
    where = [scope.org_filter(Invoice.organization_id)]
    if organization_id is not None:
        where.append(Invoice.organization_id == organization_id)
    if status:
        where.append(Invoice.status == status)
    if kind:
        where.append(Invoice.kind == kind)
    if period_start:
        where.append(Invoice.period_end >= period_start)
    if period_end:
        where.append(Invoice.period_start <= period_end)
    total = session.execute(select(func.count()).select_from(Invoice).where(*where)).scalar_one()
    rows = session.execute(
        select(Invoice, Organization.name).join(Organization, Organization.id == Invoice.organization_id)
        .where(*where).order_by(Invoice.created_at.desc(), Invoice.id.desc()).limit(limit).offset(offset)
    ).all()
    return [InvoiceRow(i.id, i.number, i.kind, i.organization_id, name, i.status, i.period_start, i.period_end,
                       i.issue_date, i.due_date, i.currency, _exact(i.amount_gross, i.currency),
                       _exact(i.amount_net_payable, i.currency),
                       i.credits_invoice_id) for i, name in rows], total


def _get(session: Session, scope: Scope, invoice_id: int, *, lock: bool = False) -> Invoice:
    _require(scope, Cap.VIEW_INVOICES)
    inv = get_in_scope(session, Invoice, invoice_id, scope)
    if lock:
        session.refresh(inv, with_for_update=True)
    return inv


def _exact(amount: Decimal, currency: str) -> Decimal:
    """Show a stored sum at the currency's minor unit. The sums are of amounts already rounded to it, so
    this only drops the database's extra zeros (12.0000 → 12.00); it never rounds."""
    return round_money(amount, currency)


def _kwh(wh: int) -> Decimal:
    return (Decimal(wh) / 1000).quantize(Decimal("0.001"))


def detail(session: Session, inv: Invoice) -> InvoiceDetail:
    lines = session.execute(select(InvoiceLine).where(InvoiceLine.invoice_id == inv.id)
                            .order_by(InvoiceLine.position)).scalars()
    history = session.execute(
        select(InvoiceStatusChange, User.email).outerjoin(User, User.id == InvoiceStatusChange.changed_by_id)
        .where(InvoiceStatusChange.invoice_id == inv.id).order_by(InvoiceStatusChange.id)).all()
    credits_number = session.get(Invoice, inv.credits_invoice_id).number if inv.credits_invoice_id else None
    credited_by_id, credited_by = session.execute(select(Invoice.id, Invoice.number).where(
        Invoice.credits_invoice_id == inv.id, Invoice.refund_id.is_(None))).first() or (None, None)
    refund = session.get(Refund, inv.refund_id) if inv.refund_id else None
    credit_notes = [CreditNoteRow(cn.id, cn.number, cn.status, cn.issue_date, _exact(cn.amount_gross, cn.currency),
                                  r.id, r.reference, r.payment_id)
                    for cn, r in session.execute(select(Invoice, Refund).join(Refund, Refund.id == Invoice.refund_id)
                                                 .where(Invoice.credits_invoice_id == inv.id)
                                                 .order_by(Invoice.id)).all()]
    return InvoiceDetail(
        id=inv.id, number=inv.number, kind=inv.kind, revision=inv.revision, status=inv.status,
        void_reason=inv.void_reason, organization_id=inv.organization_id,
        credits_invoice_id=inv.credits_invoice_id, credits_number=credits_number, credited_by_number=credited_by,
        correction_reason=inv.correction_reason, period_start=inv.period_start, period_end=inv.period_end,
        issue_date=inv.issue_date, due_date=inv.due_date, payment_terms_days=inv.payment_terms_days,
        currency=inv.currency, timezone=inv.timezone, platform_party=dict(inv.platform_party),
        customer_party=dict(inv.customer_party), vat_rate=inv.vat_rate, ssc_levy_rate=inv.ssc_levy_rate,
        platform_commission_rate=inv.platform_commission_rate, session_count=inv.session_count,
        energy_kwh=_kwh(inv.energy_wh), amounts={a: _exact(getattr(inv, a), inv.currency) for a in AMOUNT_COLUMNS},
        lines=[LineRow(ln.position, ln.charger_id, ln.description, ln.session_count, _kwh(ln.energy_wh),
                       {a: _exact(getattr(ln, a), inv.currency) for a in AMOUNT_COLUMNS}) for ln in lines],
        history=[StatusChangeRow(h.from_status, h.to_status, h.reason, email or "system", h.changed_at)
                 for h, email in history],
        credited_by_id=credited_by_id, refund_id=inv.refund_id, refund_reference=refund.reference if refund else None,
        refund_payment_id=refund.payment_id if refund else None, credit_notes=credit_notes,
    )


def get_invoice(*, session: Session, scope: Scope, invoice_id: int) -> InvoiceDetail:
    return detail(session, _get(session, scope, invoice_id))


def billing_runs(*, session: Session, scope: Scope, organization_id: int | None = None,
                 limit: int = 50) -> list[dict]:
    """The history of billing runs with their outcome, newest first."""
    _require(scope, Cap.VIEW_INVOICES)  # runs name invoices
    where = [scope.org_filter(BillingRun.organization_id)]
    if organization_id is not None:
        where.append(BillingRun.organization_id == organization_id)
    rows = session.execute(
        select(BillingRun, Organization.name, Invoice.number)
        .join(Organization, Organization.id == BillingRun.organization_id)
        .outerjoin(Invoice, Invoice.id == BillingRun.invoice_id)
        .where(*where).order_by(BillingRun.id.desc()).limit(limit)).all()
    return [dict(id=r.id, batch=r.batch, organization_id=r.organization_id, organization=name,
                 period_start=r.period_start, period_end=r.period_end, trigger=r.trigger, outcome=r.outcome,
                 reason=r.reason, invoice_id=r.invoice_id, invoice_number=number, started_at=r.started_at,
                 finished_at=r.finished_at)
            for r, name, number in rows]


# ------------------------------------------------------------------------------------------- changing


def change_status(*, session: Session, scope: Scope, invoice_id: int, status: str,
                  reason: str | None = None) -> InvoiceDetail:
    """Move an invoice to Sent, Paid or Void (with a reason). Commits."""
    _require(scope, Cap.MANAGE_INVOICES)
    status = (status or "").strip().lower()
    if status == InvoiceStatus.OVERDUE:
        raise ValidationError("Overdue is set automatically once the due date has passed.", "status")
    if status not in TRANSITIONS:
        raise ValidationError("Status must be one of: sent, paid, void.", "status")
    reason = optional_text(reason, "reason", max_len=REASON_MAX)
    if status == InvoiceStatus.VOID and not reason:
        raise ValidationError("Give a reason to void an invoice.", "reason")
    inv = _get(session, scope, invoice_id, lock=True)
    if inv.status == status:
        session.rollback()
        return get_invoice(session=session, scope=scope, invoice_id=invoice_id)  # a retry changes nothing
    if status not in TRANSITIONS[inv.status]:
        session.rollback()
        allowed = ", ".join(STATUS_LABELS[s] for s in sorted(TRANSITIONS[inv.status])) or "nothing"
        raise Conflict(f"{inv.number} is {STATUS_LABELS[inv.status]}; it can move to {allowed}.")
    _set_status(session, inv, status, _actor(scope), reason)
    session.commit()
    return detail(session, inv)


def _set_status(session: Session, inv: Invoice, status: str, actor: int | None, reason: str | None) -> None:
    old = inv.status
    inv.status = status
    if status == InvoiceStatus.VOID:
        inv.void_reason = reason
    elif status == InvoiceStatus.SENT:
        inv.sent_at = utcnow()
    elif status == InvoiceStatus.PAID:
        inv.paid_at = utcnow()
    session.add(inv)
    record_status(session, inv, old, status, actor, reason)
    session.flush()


def mark_overdue(*, session: Session, now: datetime | None = None) -> list[str]:
    """Sent invoices past their due date (in the organization's timezone) become Overdue. Commits.

    Two workers at once move each invoice once: the second UPDATE re-checks the status after the first commits.
    """
    now = now or utcnow()
    rows = session.execute(text(
        "UPDATE invoice SET status = 'overdue' WHERE kind = 'invoice' AND status = 'sent' "
        "AND due_date < (CAST(:now AS timestamptz) AT TIME ZONE timezone)::date RETURNING id, number"),
        {"now": now}).all()
    for inv_id, _ in rows:
        session.add(InvoiceStatusChange(invoice_id=inv_id, from_status=InvoiceStatus.SENT,
                                        to_status=InvoiceStatus.OVERDUE, reason="Past the due date.",
                                        changed_by_id=None, changed_at=now))
    session.commit()
    session.expire_all()  # the UPDATE bypassed the identity map
    return [number for _, number in rows]


@dataclass(frozen=True)
class Correction:
    credit_note: InvoiceDetail | None  # None when the original was void: it owes nothing, so nothing to credit
    new_invoice: InvoiceDetail | None  # None when the period has nothing left to bill


def correct_invoice(*, session: Session, scope: Scope, invoice_id: int, reason: str) -> Correction:
    """Credit an invoice in full and re-invoice its period from the sessions as they are now. Commits.

    The original stays as it was (a Paid one stays Paid; an unpaid one is voided with the credit note's number).
    A void invoice is not credited (it owes nothing); its period is simply invoiced again with the next revision.
    """
    _require(scope, Cap.MANAGE_INVOICES)
    reason = optional_text(reason, "reason", max_len=REASON_MAX)
    if not reason:
        raise ValidationError("Give a reason for the correction; it is printed on the credit note.", "reason")
    inv = _get(session, scope, invoice_id)
    if inv.kind != InvoiceKind.INVOICE:
        raise ValidationError("A credit note cannot be credited again.", "invoice")
    org = session.get(Organization, inv.organization_id)
    lock_counter(session, org.id)
    session.refresh(inv, with_for_update=True)
    newer = session.execute(select(Invoice.number).where(
        Invoice.organization_id == org.id, Invoice.kind == InvoiceKind.INVOICE,
        Invoice.period_start == inv.period_start, Invoice.period_end == inv.period_end,
        Invoice.revision > inv.revision)).scalar()
    if newer or session.execute(select(Invoice.id).where(Invoice.credits_invoice_id == inv.id,
                                                         Invoice.refund_id.is_(None))).first():
        session.rollback()
        raise Conflict(f"{inv.number} has already been corrected{f' by {newer}' if newer else ''}.")
    partial = session.execute(select(Invoice.number).where(Invoice.credits_invoice_id == inv.id)).scalars().all()
    if partial:
        # A full credit plus a re-invoice would give those refunds back a second time (ADR 0011).
        session.rollback()
        raise Conflict(f"{inv.number} has refund credit notes ({', '.join(partial)}); it cannot be corrected "
                       "in full.")
    actor = _actor(scope)
    lines, problem = _transaction_lines(session, org, inv.period_start, inv.period_end)
    if problem:
        session.rollback()
        raise Conflict(f"Cannot re-invoice the period: {problem}")
    try:
        credit = None
        if inv.status != InvoiceStatus.VOID:
            original_lines = session.execute(select(InvoiceLine).where(InvoiceLine.invoice_id == inv.id)
                                             .order_by(InvoiceLine.position)).scalars().all()
            negated = [LineData(ln.charger_id, ln.description, -ln.session_count, -ln.energy_wh,
                                {a: -getattr(ln, a) for a in AMOUNT_COLUMNS}) for ln in original_lines]
            credit = create_document(session, org=org, operator=_operator(session), kind=InvoiceKind.CREDIT_NOTE,
                                      period_start=inv.period_start, period_end=inv.period_end,
                                      revision=inv.revision, lines=negated, actor=actor, credits=inv, reason=reason)
            if inv.status in (InvoiceStatus.DRAFT, InvoiceStatus.SENT, InvoiceStatus.OVERDUE):
                _set_status(session, inv, InvoiceStatus.VOID, actor, f"Credited by {credit.number}: {reason}")
        new = None
        if lines:
            new = create_document(session, org=org, operator=_operator(session), kind=InvoiceKind.INVOICE,
                                   period_start=inv.period_start, period_end=inv.period_end,
                                   revision=inv.revision + 1, lines=lines, actor=actor,
                                   reason=f"Replaces {inv.number}: {reason}")
        session.commit()
    except IntegrityError:
        session.rollback()
        raise Conflict(f"{inv.number} has already been corrected.") from None
    return Correction(detail(session, credit) if credit else None, detail(session, new) if new else None)
