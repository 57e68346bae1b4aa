"""The transactional outbox: a notification and its delivery rows are written in the caller's transaction, so
they exist exactly when the change that caused them does; `send_due` sends them afterwards.

Each row is locked (FOR UPDATE SKIP LOCKED) while it is sent and marked in the same transaction, so two
workers never send one row. A crash between the push service's answer and the commit sends the row again;
every send carries the row's stable id (mail Message-ID, FCM collapse key, Web Push Topic) so the receiver
shows it once. Nothing is lost: a row stays queued until it is sent or has failed MAX_ATTEMPTS times.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlmodel import Session

from core.events import EventType, notify
from models import Notification, NotificationDelivery
from models.notification import Channel, DeliveryStatus

log = logging.getLogger("notifications")

MAX_ATTEMPTS = 6
BATCH = 500


@dataclass(frozen=True)
class Recipient:
    """Who gets a notification on one channel: a staff user or an app user (and which device)."""
    channel: Channel
    user_id: int | None = None
    customer_user_id: int | None = None
    device_id: int | None = None
    address: str = ""
    skipped: bool = False  # muted by the recipient's preferences: logged, never sent
    not_before: datetime | None = None  # quiet hours: sent when they end


@dataclass(frozen=True)
class Outcome:
    """What a channel's sender says about one delivery."""
    ok: bool
    error: str | None = None
    permanent: bool = False   # do not retry (an unregistered device, a refused address)
    unregistered: bool = False


Item = tuple[NotificationDelivery, Notification]
# A channel's sender takes a batch of rows (a push service is faster asked in parallel) and answers an
# Outcome for each, in order.
Sender = Callable[[list[Item]], list[Outcome]]


def one_by_one(send: Callable[[NotificationDelivery, Notification], Outcome]) -> Sender:
    """A Sender from a function that sends one row; an error in one row fails only that row."""
    def batch(items: list[Item]) -> list[Outcome]:
        return [guarded(send, row, note) for row, note in items]
    return batch


def guarded(send: Callable[[NotificationDelivery, Notification], Outcome], row: NotificationDelivery,
            note: Notification) -> Outcome:
    try:
        return send(row, note)
    except Exception as exc:  # a sender bug must not stop the other rows
        log.exception("sending delivery %s", row.id)
        return Outcome(False, f"{type(exc).__name__}: {exc}")


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, ... up to an hour."""
    return timedelta(seconds=min(30 * 2 ** (attempts - 1), 3600))


def queue(*, session: Session, notification: Notification, recipients: Iterable[Recipient],
          now: datetime) -> Notification:
    """Write the notification and one delivery row per recipient in the caller's transaction. In-app rows
    are delivered by being written; the bell hears of them through NOTIFY once the transaction commits."""
    session.add(notification)
    session.flush()
    in_app: list[int] = []
    rows = []
    for r in recipients:
        status = DeliveryStatus.SKIPPED if r.skipped else (
            DeliveryStatus.DELIVERED if r.channel == Channel.IN_APP else DeliveryStatus.QUEUED)
        rows.append(NotificationDelivery(
            notification_id=notification.id, channel=r.channel, user_id=r.user_id,
            customer_user_id=r.customer_user_id, device_id=r.device_id, address=r.address, status=status,
            next_attempt_at=r.not_before or now, created_at=now,
            sent_at=now if status == DeliveryStatus.DELIVERED else None))
        if status == DeliveryStatus.DELIVERED and r.user_id is not None:
            in_app.append(r.user_id)
    session.add_all(rows)
    if in_app:
        notify(session, {"type": EventType.NOTIFICATION, "notification_id": notification.id,
                         "organization_id": notification.organization_id, "user_ids": sorted(set(in_app))[:500]})
    return notification


Hold = Callable[[Session, list[NotificationDelivery], dict[int, Notification], datetime], dict[int, datetime]]


def send_due(*, session: Session, senders: dict[str, Sender], now: datetime, limit: int = BATCH,
             on_unregistered: Callable[[Session, NotificationDelivery], None] | None = None,
             hold: Hold | None = None) -> int:
    """Send up to `limit` queued rows whose time has come; returns how many were tried. `hold` names rows
    to send later instead (quiet hours) and when."""
    rows = list(session.execute(
        select(NotificationDelivery)
        .where(NotificationDelivery.status == DeliveryStatus.QUEUED, NotificationDelivery.next_attempt_at <= now,
               NotificationDelivery.channel.in_(list(senders)))
        .order_by(NotificationDelivery.id).limit(limit).with_for_update(skip_locked=True)).scalars())
    notes = {n.id: n for n in session.execute(
        select(Notification).where(Notification.id.in_({r.notification_id for r in rows}))).scalars()}
    later = hold(session, rows, notes, now) if hold is not None else {}
    by_channel: dict[str, list[NotificationDelivery]] = {}
    for row in rows:
        if row.id in later:
            row.next_attempt_at = later[row.id]
            session.add(row)
        else:
            by_channel.setdefault(row.channel, []).append(row)
    for channel, batch in by_channel.items():
        outcomes = senders[channel]([(row, notes[row.notification_id]) for row in batch])
        for row, outcome in zip(batch, outcomes, strict=True):
            record(row, outcome, now)
            if outcome.unregistered and on_unregistered is not None:
                on_unregistered(session, row)
            session.add(row)
    return len(rows)


def record(row: NotificationDelivery, outcome: Outcome, now: datetime) -> None:
    row.attempts += 1
    if outcome.ok:
        row.status, row.sent_at, row.error = DeliveryStatus.SENT, now, None
        return
    row.error = (outcome.error or "failed")[:2000]
    if outcome.permanent or row.attempts >= MAX_ATTEMPTS:
        row.status = DeliveryStatus.FAILED
    else:
        row.next_attempt_at = now + backoff(row.attempts)
