"""Notices by e-mail. Every notice of one alert carries the alert's thread id, so mail clients show the
opening, the escalation and the resolution as one conversation; a re-sent row keeps its Message-ID."""
from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid

from core.config import get_settings
from core.mail import MailError, send_message
from models import Notification, NotificationDelivery
from services.notifications.outbox import Outcome

_DOMAIN = "voltdesk.local"


def thread_id(alert_id: int) -> str:
    return f"<alert-{alert_id}@{_DOMAIN}>"


def build(delivery: NotificationDelivery, note: Notification) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = get_settings().mail_from
    msg["To"] = delivery.address
    msg["Subject"] = note.title
    if note.alert_id is not None:
        root = thread_id(note.alert_id)
        if note.kind == "alert_opened":  # the thread's root; each recipient holds their own copy
            msg["Message-ID"] = root
        else:
            msg["Message-ID"] = f"<n{note.id}.d{delivery.id}@{_DOMAIN}>"
            msg["In-Reply-To"] = root
            msg["References"] = root
        msg["X-Voltdesk-Alert"] = str(note.alert_id)
    else:
        msg["Message-ID"] = make_msgid(idstring=f"n{note.id}.d{delivery.id}", domain=_DOMAIN)
    if note.critical:
        msg["Importance"] = "high"
    msg.set_content(note.body + "\n")
    return msg


def send(delivery: NotificationDelivery, note: Notification) -> Outcome:
    try:
        send_message(build(delivery, note), outbox_name=f"notification-{note.id}")
    except MailError as exc:
        return Outcome(False, str(exc))
    return Outcome(True)
