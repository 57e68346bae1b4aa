"""A numbered document's making: the organization's gap-free number taken under its locked counter row, the
parties and rates snapshotted, the lines and totals, the first status row. Invoices, corrections and refund credit
notes (services/billing/refund_credits.py) are all made here, so they share one shape and one numbering."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import text
from sqlmodel import Session

from core.clock import utcnow
from models import Invoice, InvoiceLine, InvoiceStatusChange, Organization
from models.invoice import AMOUNT_COLUMNS, InvoiceKind, InvoiceStatus
from services.billing.periods import local_today

# The transaction column each invoice amount sums: the same name, except the organization's share, which
# the transaction kept as net_cpo.
TRANSACTION_COLUMN = {**{a: a for a in AMOUNT_COLUMNS}, "amount_net_payable": "amount_net_cpo"}


@dataclass
class LineData:
    charger_id: int | None
    description: str
    session_count: int
    energy_wh: int
    amounts: dict[str, Decimal]


def party(org: Organization) -> dict:
    return {
        "name": org.name, "legal_name": org.legal_name or org.name, "address": org.address or "",
        "registration_number": org.registration_number or "", "tax_number": org.tax_number or "",
        "billing_email": org.billing_email or "", "logo_path": org.logo_path or "", "slug": org.slug,
    }


def lock_counter(session: Session, org_id: int) -> None:
    """Serialize invoice creation per organization: lock the counter row (made on first use) until commit.
    ON CONFLICT DO UPDATE locks the existing row in the same statement."""
    session.execute(text("INSERT INTO invoice_number_sequence AS s (organization_id, last_value) VALUES (:o, 0) "
                         "ON CONFLICT (organization_id) DO UPDATE SET last_value = s.last_value"), {"o": org_id})


def next_number(session: Session, org: Organization, kind: str) -> tuple[int, str]:
    seq = session.execute(text("UPDATE invoice_number_sequence SET last_value = last_value + 1 "
                               "WHERE organization_id = :o RETURNING last_value"), {"o": org.id}).scalar_one()
    prefix = "CN" if kind == InvoiceKind.CREDIT_NOTE else "INV"
    return seq, f"{prefix}-{org.slug.upper()}-{seq:05d}"


def record_status(session: Session, invoice: Invoice, old: str | None, new: str, actor: int | None,
                   reason: str | None = None) -> None:
    session.add(InvoiceStatusChange(invoice_id=invoice.id, from_status=old, to_status=new, reason=reason,
                                    changed_by_id=actor, changed_at=utcnow()))


def create_document(session: Session, *, org: Organization, operator: Organization | None, kind: str,
                    period_start: date, period_end: date, revision: int, lines: list[LineData],
                    actor: int | None, credits: Invoice | None = None, reason: str | None = None,
                    refund_id: int | None = None) -> Invoice:
    seq, number = next_number(session, org, kind)
    issue = local_today(org.timezone)
    totals = {a: sum((ln.amounts[a] for ln in lines), Decimal(0)) for a in AMOUNT_COLUMNS}
    inv = Invoice(
        organization_id=org.id, kind=kind, seq=seq, number=number, revision=revision, status=InvoiceStatus.DRAFT,
        credits_invoice_id=credits.id if credits else None, correction_reason=reason, refund_id=refund_id,
        period_start=period_start, period_end=period_end, issue_date=issue,
        due_date=issue + timedelta(days=org.payment_terms_days), payment_terms_days=org.payment_terms_days,
        currency=org.currency, timezone=org.timezone,
        platform_party=party(operator) if operator else {}, customer_party=party(org),
        vat_rate=org.vat_rate, ssc_levy_rate=org.ssc_levy_rate, platform_commission_rate=org.platform_commission_rate,
        session_count=sum(ln.session_count for ln in lines), energy_wh=sum(ln.energy_wh for ln in lines),
        created_by_id=actor, created_at=utcnow(), **totals,
    )
    if credits is not None:  # a credit note repeats the original's parties and rates (no operator needed)
        inv.platform_party, inv.customer_party = credits.platform_party, credits.customer_party
        inv.vat_rate, inv.ssc_levy_rate = credits.vat_rate, credits.ssc_levy_rate
        inv.platform_commission_rate = credits.platform_commission_rate
    session.add(inv)
    session.flush()
    for pos, ln in enumerate(lines, start=1):
        session.add(InvoiceLine(invoice_id=inv.id, position=pos, charger_id=ln.charger_id,
                                description=ln.description, session_count=ln.session_count,
                                energy_wh=ln.energy_wh, **ln.amounts))
    record_status(session, inv, None, InvoiceStatus.DRAFT, actor, reason)
    session.flush()
    return inv
