"""Mail transport: any message over SMTP (SMTP_URL), or, without SMTP, to an .eml file in OUTBOX_DIR so
nothing is lost in a demo or a test.

SMTP_URL forms: smtp://user:pass@host:587 (STARTTLS when the server offers it), smtps://user:pass@host:465
(TLS from the start), smtp://host:25 (no login).
"""
from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import unquote, urlsplit

from core.clock import utcnow
from core.config import get_settings
from core.errors import ValidationError

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


def deliver(msg: EmailMessage, target: SmtpTarget) -> None:
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


def write_outbox(msg: EmailMessage, number: str) -> Path:
    outbox = Path(get_settings().outbox_dir)
    outbox.mkdir(parents=True, exist_ok=True)
    path = outbox / f"{number}-{utcnow().strftime('%Y%m%dT%H%M%S%f')}.eml"
    path.write_bytes(bytes(msg))
    return path


def send_message(msg: EmailMessage, *, outbox_name: str) -> SendResult:
    """Deliver any message over SMTP_URL, or, without SMTP, write it to OUTBOX_DIR as `outbox_name-….eml`.
    Raises MailError when the server does not take it."""
    recipient = str(msg["To"])
    settings = get_settings()
    if not settings.smtp_url:
        path = write_outbox(msg, outbox_name)
        # The message names no server path: it reaches browsers as a toast.
        return SendResult(False, recipient, f"The e-mail to {recipient} is queued for delivery "
                                            "(SMTP is not configured: SMTP_URL).", path)
    deliver(msg, parse_smtp_url(settings.smtp_url))
    return SendResult(True, recipient, f"E-mailed to {recipient}.")
