"""Refunds on partner invoices: a refund of an invoiced session is a partial credit note against that invoice.

The session's invoice is its organization's invoice (not void, latest revision) whose period holds the session's
local stop date and that was made after the session was priced (so its line counted it). When a refund
completes — a wallet refund at once, a card refund when the gateway confirms it — `credit_refund` issues a credit
note for the refunded amount, split over the session's amount columns in proportion (each rounded once to the
minor unit; the largest part takes the remainder, the net is what is left, as pricing does). Never more than the
session's gross less what its earlier refunds credited, nor more than the charger's line less its credits.
Exactly once per refund: `invoice.refund_id` is unique, and the refund row is locked by the caller.

A refund of a session not invoiced yet gets no credit note then. The invoice that later includes the session
is followed in the same transaction by one credit note per such refund (`credit_open_refunds`), so the period
is billed net of it and the invoice lists them. The invoice's counter row is locked first in both paths: a
refund completing while its period is invoiced waits for the invoice (or the invoice for the refund), so a
refund is never missed nor credited twice.
"""
from __future__ import annotations

from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import exists, func, select
from sqlmodel import Session

from core.money import round_money
from models import Charger, Invoice, InvoiceLine, Organization, Refund, Transaction
from models.invoice import InvoiceKind, InvoiceStatus
from models.payment import RefundStatus
from services.billing.documents import TRANSACTION_COLUMN, LineData, create_document, lock_counter
from services.billing.periods import period_bounds_utc

# What the driver paid, in parts that add up to the gross; and what the gross pays out before the net.
GROSS_PARTS = ("amount_energy", "amount_time", "amount_session_fee", "amount_idle", "amount_vat", "amount_ssc")
PAID_OUT = ("amount_gateway", "amount_platform", "amount_location_owner")
CHARGES = ("amount_energy", "amount_time", "amount_session_fee", "amount_idle")


def invoice_of_session(session: Session, tx: Transaction, tz: str) -> Invoice | None:
    """The invoice whose line includes this completed, priced session, if it is invoiced yet."""
    if tx.stopped_at is None or tx.priced_at is None:
        return None
    local_day = tx.stopped_at.astimezone(ZoneInfo(tz)).date()
    return session.execute(select(Invoice).where(
        Invoice.organization_id == tx.organization_id, Invoice.kind == InvoiceKind.INVOICE,
        Invoice.status != InvoiceStatus.VOID, Invoice.period_start <= local_day, Invoice.period_end >= local_day,
        Invoice.created_at >= tx.priced_at,
    ).order_by(Invoice.revision.desc())).scalars().first()


def split(tx: Transaction, amount: Decimal) -> dict[str, Decimal]:
    """`amount` of the session's gross spread over its amount columns in proportion, each rounded once."""
    gross = Decimal(tx.amount_gross)
    col = {a: Decimal(getattr(tx, TRANSACTION_COLUMN[a]) or 0) for a in GROSS_PARTS + PAID_OUT}
    parts = {a: round_money(amount * col[a] / gross, tx.currency) for a in GROSS_PARTS}
    largest = max(GROSS_PARTS, key=lambda a: (col[a], a == "amount_energy"))
    parts[largest] = amount - sum((v for a, v in parts.items() if a != largest), Decimal(0))
    out = {a: round_money(amount * col[a] / gross, tx.currency) for a in PAID_OUT}
    subtotal = sum((parts[a] for a in CHARGES), Decimal(0))
    net = amount - parts["amount_vat"] - parts["amount_ssc"] - sum(out.values(), Decimal(0))
    return {**parts, **out, "amount_subtotal": subtotal, "amount_gross": amount, "amount_net_payable": net}


def _credited(session: Session, *where) -> Decimal:
    """What refund credit notes already gave back (a positive amount)."""
    return -Decimal(session.execute(select(func.coalesce(func.sum(InvoiceLine.amount_gross), 0))
                                    .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
                                    .where(Invoice.refund_id.is_not(None), *where)).scalar_one())


def _credit(session: Session, org: Organization, inv: Invoice, tx: Transaction, refund: Refund) -> Invoice | None:
    already = session.execute(select(Invoice).where(Invoice.refund_id == refund.id)).scalar_one_or_none()
    if already is not None:
        return already
    line = session.execute(select(InvoiceLine).where(InvoiceLine.invoice_id == inv.id,
                                                     InvoiceLine.charger_id == tx.charger_id)).scalars().first()
    if line is None or not tx.amount_gross or Decimal(tx.amount_gross) <= 0:
        return None
    session_left = Decimal(tx.amount_gross) - _credited(
        session, Invoice.refund_id.in_(select(Refund.id).where(Refund.transaction_id == tx.id)))
    line_left = Decimal(line.amount_gross) - _credited(
        session, Invoice.credits_invoice_id == inv.id, InvoiceLine.charger_id == tx.charger_id)
    amount = min(round_money(Decimal(refund.amount), inv.currency), session_left, line_left)
    if amount <= 0:
        return None
    charger = session.get(Charger, tx.charger_id)
    description = f"Refund {refund.reference} · session {tx.id} · {charger.ocpp_id if charger else line.description}"
    negated = {a: -v for a, v in split(tx, amount).items()}
    return create_document(session, org=org, operator=None, kind=InvoiceKind.CREDIT_NOTE,
                            period_start=inv.period_start, period_end=inv.period_end, revision=inv.revision,
                            lines=[LineData(tx.charger_id, description[:300], 0, 0, negated)], actor=None,
                            credits=inv, reason=f"Refund {refund.reference}: {refund.reason}"[:500],
                            refund_id=refund.id)


def credit_refund(session: Session, *, refund: Refund) -> Invoice | None:
    """Credit a refund that just succeeded on its session's invoice, in the caller's transaction (the caller
    holds the refund's row lock). None when the session is not invoiced yet (its invoice will) or nothing is
    left to credit."""
    if refund.status != RefundStatus.SUCCEEDED or refund.transaction_id is None:
        return None
    tx = session.get(Transaction, refund.transaction_id)
    org = session.get(Organization, tx.organization_id)
    lock_counter(session, org.id)  # wait for an invoice of this organization being made now
    inv = invoice_of_session(session, tx, org.timezone)
    return _credit(session, org, inv, tx, refund) if inv is not None else None


def credit_open_refunds(session: Session, *, org: Organization, inv: Invoice) -> list[Invoice]:
    """After `inv` is made (counter locked): a credit note for each refund of its sessions given back before."""
    lo, hi = period_bounds_utc(inv.period_start, inv.period_end, org.timezone)
    rows = session.execute(
        select(Refund, Transaction).join(Transaction, Transaction.id == Refund.transaction_id)
        .where(Refund.organization_id == org.id, Refund.status == RefundStatus.SUCCEEDED,
               Transaction.organization_id == org.id, Transaction.stopped_at >= lo, Transaction.stopped_at < hi,
               ~exists().where(Invoice.refund_id == Refund.id))
        .order_by(Refund.id)).all()
    made = [_credit(session, org, inv, tx, refund) for refund, tx in rows]
    return [cn for cn in made if cn is not None]


def refund_credit_notes(session: Session, refund_ids: list[int]) -> dict[int, tuple[int, str]]:
    """Each refund's credit note: refund id → (invoice id, number)."""
    if not refund_ids:
        return {}
    return {r: (i, n) for r, i, n in session.execute(select(Invoice.refund_id, Invoice.id, Invoice.number)
                                                     .where(Invoice.refund_id.in_(refund_ids)))}
