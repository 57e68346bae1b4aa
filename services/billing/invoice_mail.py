"""Sending invoices: the PDF to the organization's billing e-mail, through the mail transport (core.mail)."""
from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from sqlmodel import Session

from core.clock import utcnow
from core.config import get_settings
from core.errors import Conflict, ValidationError
from core.fmt import day, period
from core.mail import SendResult, deliver, parse_smtp_url, write_outbox
from core.money import format_money
from core.validation import validate_email
from models import Organization
from models.invoice import InvoiceKind, InvoiceStatus
from services.access.permissions import Cap
from services.access.scope import Scope
from services.billing.invoicing import InvoiceDetail, change_status, get_invoice
from services.billing.pdf import pdf_filename, render_invoice_pdf


def build_message(inv: InvoiceDetail, pdf: bytes, filename: str, recipient: str, sender: str) -> EmailMessage:
    credit = inv.kind == InvoiceKind.CREDIT_NOTE
    what = "Credit note" if credit else "Invoice"
    platform = inv.platform_party.get("name", "Voltdesk")
    customer = inv.customer_party.get("name", "")
    net = format_money(inv.amounts["amount_net_payable"], inv.currency)
    msg = EmailMessage()
    msg["Subject"] = f"{what} {inv.number} from {platform} ({period(inv.period_start, inv.period_end)})"
    msg["From"] = sender
    msg["To"] = recipient
    msg["Date"] = formatdate(utcnow().timestamp(), localtime=False)
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    body = [f"Dear {customer},", "",
            f"please find attached {what.lower()} {inv.number} for the period "
            f"{period(inv.period_start, inv.period_end)}.", ""]
    if not credit:
        body += [f"Net settlement: {net}", f"Due date: {day(inv.due_date)} ({inv.payment_terms_days} days)", ""]
    body += ["Kind regards,", platform]
    msg.set_content("\n".join(body))
    msg.add_attachment(pdf, maintype="application", subtype="pdf", filename=filename)
    return msg


def send_invoice(*, session: Session, scope: Scope, invoice_id: int) -> SendResult:
    """E-mail the invoice PDF to the organization's billing contact. A Draft becomes Sent once the mail
    server has taken it; without SMTP_URL the message goes to the outbox and the status stays as it is."""
    scope.require(Cap.MANAGE_INVOICES)
    inv = get_invoice(session=session, scope=scope, invoice_id=invoice_id)
    if inv.status == InvoiceStatus.VOID:
        raise Conflict(f"{inv.number} is void; it is not sent.")
    org = session.get(Organization, inv.organization_id)
    if not org.billing_email:
        raise ValidationError(f"{org.name} has no billing e-mail. Add one to the organization first.",
                              "billing_email")
    recipient = validate_email(org.billing_email)
    settings = get_settings()
    msg = build_message(inv, render_invoice_pdf(inv), pdf_filename(inv), recipient, settings.mail_from)
    session.rollback()  # hold no locks while talking to the mail server
    if not settings.smtp_url:
        path = write_outbox(msg, inv.number)
        return SendResult(False, recipient, f"{inv.number} to {recipient} is queued for delivery "
                                            "(SMTP is not configured: SMTP_URL).", path)
    deliver(msg, parse_smtp_url(settings.smtp_url))
    if inv.status == InvoiceStatus.DRAFT:
        change_status(session=session, scope=scope, invoice_id=invoice_id, status=InvoiceStatus.SENT)
    return SendResult(True, recipient, f"{inv.number} was e-mailed to {recipient}.")
