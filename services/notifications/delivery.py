"""One delivery pass: which sender handles which channel (the worker and the benchmark call this)."""
from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from models import Notification, NotificationDelivery
from models.notification import Channel
from services.notifications import mail, push
from services.notifications.customer_messages import quiet_hold as customer_quiet_hold
from services.notifications.devices import drop_unregistered
from services.notifications.outbox import BATCH, Sender, one_by_one, send_due
from services.notifications.staff import staff_quiet_hold

__all__ = ["BATCH", "deliver", "senders"]


def senders(session: Session) -> dict[str, Sender]:
    return {Channel.EMAIL: one_by_one(mail.send), **push.senders(session)}


def quiet_hold(session: Session, rows: list[NotificationDelivery], notes: dict[int, Notification],
               now: datetime) -> dict[int, datetime]:
    """Rows of app users and of staff inside their quiet hours wait for the end (never critical ones)."""
    return {**customer_quiet_hold(session, rows, notes, now), **staff_quiet_hold(session, rows, notes, now)}


def deliver(*, session: Session, now: datetime, limit: int = BATCH) -> int:
    """Send the queued rows that are due; returns how many were tried."""
    return send_due(session=session, senders=senders(session), now=now, limit=limit,
                    on_unregistered=drop_unregistered, hold=quiet_hold)
