"""Sending invoices: the PDF to the organization's billing e-mail over SMTP (SMTP_URL), or, without SMTP,
to an .eml file in OUTBOX_DIR so nothing is lost in a demo or a test.

SMTP_URL forms: smtp://user:pass@host:587 (STARTTLS when the server offers it), smtps://user:pass@host:465
(TLS from the start), smtp://host:25 (no login).
"""
from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from urllib.parse import unquote, urlsplit

from sqlmodel import Session

from models import Organization
from services.clock import utcnow
from services.config import get_settings
from services.errors import Conflict, ValidationError
from services.invoicing import InvoiceDetail, change_status, get_invoice
from services.money import format_money
from services.permissions import Cap
from services.scope import Scope
from services.validation import validate_email

SMTP_TIMEOUT_SECONDS = 30


class MailError(Exception):
    """The mail server refused or could not be reached. The message says which."""


@dataclass(frozen=True)
class SendResult:
    delivered: bool  # False: written to the outbox instead
    recipient: str
    message: str
    outbox_path: Path | None = None


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    implicit_tls: bool
    username: str | None
    password: str | None


def parse_smtp_url(url: str) -> SmtpTarget:
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValidationError("SMTP_URL must look like smtp://user:pass@host:587 or smtps://user:pass@host:465.",
                              "SMTP_URL")
    tls = parts.scheme == "smtps"
    try:
        port = parts.port or (465 if tls else 25)
    except ValueError:
        raise ValidationError("SMTP_URL has an invalid port.", "SMTP_URL") from None
    return SmtpTarget(parts.hostname, port, tls, unquote(parts.username) if parts.username else None,
                      unquote(parts.password) if parts.password else None)


def build_message(inv: InvoiceDetail, pdf: bytes, filename: str, recipient: str, sender: str) -> EmailMessage:
    credit = inv.kind == "credit_note"
    what = "Credit note" if credit else "Invoice"
    platform = inv.platform_party.get("name", "Voltdesk")
    customer = inv.customer_party.get("name", "")
    net = format_money(inv.amounts["amount_net_payable"], inv.currency)
    msg = EmailMessage()
    msg["Subject"] = f"{what} {inv.number} from {platform} ({inv.period_start} – {inv.period_end})"
    msg["From"] = sender
    msg["To"] = recipient
    msg["Date"] = formatdate(utcnow().timestamp(), localtime=False)
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    body = [f"Dear {customer},", "",
            f"please find attached {what.lower()} {inv.number} for the period {inv.period_start} to "
            f"{inv.period_end}.", ""]
    if not credit:
        body += [f"Net settlement: {net}", f"Due date: {inv.due_date} ({inv.payment_terms_days} days)", ""]
    body += ["Kind regards,", platform]
    msg.set_content("\n".join(body))
    msg.add_attachment(pdf, maintype="application", subtype="pdf", filename=filename)
    return msg


def _deliver(msg: EmailMessage, target: SmtpTarget) -> None:
    context = ssl.create_default_context()
    try:
        if target.implicit_tls:
            client: smtplib.SMTP = smtplib.SMTP_SSL(target.host, target.port, timeout=SMTP_TIMEOUT_SECONDS,
                                                    context=context)
        else:
            client = smtplib.SMTP(target.host, target.port, timeout=SMTP_TIMEOUT_SECONDS)
        with client:
            client.ehlo()
            if not target.implicit_tls and client.has_extn("starttls"):
                client.starttls(context=context)
                client.ehlo()
            if target.username:
                client.login(target.username, target.password or "")
            client.send_message(msg)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"The mail server {target.host}:{target.port} did not take the message: {exc}") from exc


def _write_outbox(msg: EmailMessage, number: str) -> Path:
    outbox = Path(get_settings().outbox_dir)
    outbox.mkdir(parents=True, exist_ok=True)
    path = outbox / f"{number}-{utcnow().strftime('%Y%m%dT%H%M%S%f')}.eml"
    path.write_bytes(bytes(msg))
    return path


def send_invoice(*, session: Session, scope: Scope, invoice_id: int) -> SendResult:
    """E-mail the invoice PDF to the organization's billing contact. A Draft becomes Sent once the mail
    server has taken it; without SMTP_URL the message goes to the outbox and the status stays as it is."""
    from services.pdf import pdf_filename, render_invoice_pdf

    scope.require(Cap.MANAGE_INVOICES)
    inv = get_invoice(session=session, scope=scope, invoice_id=invoice_id)
    if inv.status == "void":
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
        path = _write_outbox(msg, inv.number)
        return SendResult(False, recipient, f"SMTP is not configured (SMTP_URL), so {inv.number} was not e-mailed: "
                                            f"the message was written to {path}.", path)
    _deliver(msg, parse_smtp_url(settings.smtp_url))
    if inv.status == "draft":
        change_status(session=session, scope=scope, invoice_id=invoice_id, status="sent")
    return SendResult(True, recipient, f"{inv.number} was e-mailed to {recipient}.")
