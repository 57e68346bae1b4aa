"""The transactional outbox: a notification and its delivery rows are written in the caller's transaction, so
they exist exactly when the change that caused them does; `send_due` sends them afterwards.

Each row is locked (FOR UPDATE SKIP LOCKED) while it is sent and marked in the same transaction, so two
workers never send one row, and it is marked sent only after the push service accepted it. A crash between
the push service's answer and the commit sends the row again; every send carries the row's stable id (mail
Message-ID, FCM collapse key, Web Push Topic) so the receiver shows it once.
Nothing is lost: a row stays queued until it is sent or has failed MAX_ATTEMPTS times.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session

from core.db import among, id_array
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
    to send later instead (quiet hours) and when.

    The rows stay locked (FOR UPDATE SKIP LOCKED: the transaction is their lease) while they are sent; their
    outcomes are written by one or two statements for the whole batch (`write`), in the same transaction."""
    rows = list(session.execute(
        select(NotificationDelivery)
        .where(NotificationDelivery.status == DeliveryStatus.QUEUED, NotificationDelivery.next_attempt_at <= now,
               NotificationDelivery.channel.in_(list(senders)))
        # Oldest due first, along the partial index of queued rows (ix_delivery_due): ordered by id, PostgreSQL
        # walked the primary key through every row ever sent to find 500 queued ones, for each batch.
        .order_by(NotificationDelivery.next_attempt_at).limit(limit).with_for_update(skip_locked=True)).scalars())
    if not rows:
        return 0
    notes = {n.id: n for n in session.execute(
        select(Notification).where(among(Notification.id, {r.notification_id for r in rows}))).scalars()}
    by_id = {row.id: row for row in rows}
    later = hold(session, rows, notes, now) if hold is not None else {}
    changes = [Change(row.id, DeliveryStatus.QUEUED, row.attempts, later[row.id], None, row.error)
               for row in rows if row.id in later]
    by_channel: dict[str, list[NotificationDelivery]] = {}
    for row in rows:
        if row.id not in later:
            by_channel.setdefault(row.channel, []).append(row)
    for channel, batch in by_channel.items():
        outcomes = senders[channel]([(row, notes[row.notification_id]) for row in batch])
        for row, outcome in zip(batch, outcomes, strict=True):
            changes.append(change(row, outcome, now))
            if outcome.unregistered and on_unregistered is not None:
                on_unregistered(session, row)
    write(session, changes, now)
    for c in changes:  # the objects show what was written (without marking them changed)
        row = by_id[c.id]
        for key in _WRITTEN:
            set_committed_value(row, key, getattr(c, key))
    return len(rows)


@dataclass(frozen=True)
class Change:
    """A delivery row's state after one pass."""
    id: int
    status: str
    attempts: int
    next_attempt_at: datetime
    sent_at: datetime | None
    error: str | None


def change(row: NotificationDelivery, outcome: Outcome, now: datetime) -> Change:
    attempts = row.attempts + 1
    if outcome.ok:
        return Change(row.id, DeliveryStatus.SENT, attempts, row.next_attempt_at, now, None)
    error = (outcome.error or "failed")[:2000]
    if outcome.permanent or attempts >= MAX_ATTEMPTS:
        return Change(row.id, DeliveryStatus.FAILED, attempts, row.next_attempt_at, None, error)
    return Change(row.id, DeliveryStatus.QUEUED, attempts, now + backoff(attempts), None, error)


_WRITTEN = ["status", "attempts", "next_attempt_at", "sent_at", "error"]
_WRITE = text("""
    UPDATE notification_delivery d
       SET status = c.status, attempts = c.attempts, next_attempt_at = c.next_attempt_at,
           sent_at = COALESCE(c.sent_at, d.sent_at), error = c.error
      FROM unnest(CAST(:ids AS bigint[]), CAST(:statuses AS text[]), CAST(:attempts AS integer[]),
                  CAST(:nexts AS timestamptz[]), CAST(:sents AS timestamptz[]), CAST(:errors AS text[]))
           AS c(id, status, attempts, next_attempt_at, sent_at, error)
     WHERE d.id = c.id""")


_WRITE_SENT = text("""
    UPDATE notification_delivery SET status = 'sent', attempts = attempts + 1, sent_at = :now, error = NULL
     WHERE id = ANY(CAST(:ids AS bigint[]))""")


def write(session: Session, changes: list[Change], now: datetime) -> None:
    """A batch's outcomes in at most two statements, not an ORM update per row: the sent rows (nearly all of a
    broadcast) by their ids, the others each with its own values."""
    sent = [c for c in changes if c.status == DeliveryStatus.SENT]
    other = [c for c in changes if c.status != DeliveryStatus.SENT]
    if sent:
        session.execute(_WRITE_SENT, {"ids": id_array(c.id for c in sent), "now": now})
    if other:
        session.execute(_WRITE, {"ids": [c.id for c in other], "statuses": [str(c.status) for c in other],
                                 "attempts": [c.attempts for c in other],
                                 "nexts": [c.next_attempt_at for c in other],
                                 "sents": [c.sent_at for c in other], "errors": [c.error for c in other]})
