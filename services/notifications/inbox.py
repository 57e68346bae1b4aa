"""A staff user's in-app notifications (the bell and the Notifications page) and the delivery log."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlmodel import Session

from models import Alert, Notification, NotificationDelivery
from services.access.permissions import Cap
from services.access.scope import Scope


@dataclass(frozen=True)
class InboxRow:
    """A notification in a staff user's inbox; `acknowledged` for an alert someone has taken in hand."""
    notification_id: int
    kind: str
    title: str
    body: str
    critical: bool
    alert_id: int | None
    created_at: datetime
    read: bool
    acknowledged: bool = False


@dataclass(frozen=True)
class DeliveryRow:
    id: int
    notification_id: int
    title: str
    channel: str
    recipient: str
    status: str
    attempts: int
    error: str | None
    created_at: datetime
    sent_at: datetime | None


def _mine(scope: Scope):
    return (NotificationDelivery.user_id == scope.user_id) & (NotificationDelivery.channel == "in_app")


def unread_count(*, session: Session, scope: Scope) -> int:
    return session.execute(select(func.count()).select_from(NotificationDelivery)
                           .where(_mine(scope), NotificationDelivery.read_at.is_(None))).scalar_one()


def count_inbox(*, session: Session, scope: Scope, kind: str | None = None, unread_only: bool = False) -> int:
    q = (select(func.count()).select_from(NotificationDelivery)
         .join(Notification, NotificationDelivery.notification_id == Notification.id).where(_mine(scope)))
    if kind:
        q = q.where(Notification.kind == kind)
    if unread_only:
        q = q.where(NotificationDelivery.read_at.is_(None))
    return session.execute(q).scalar_one()


def list_inbox(*, session: Session, scope: Scope, kind: str | None = None, unread_only: bool = False,
               limit: int = 50, offset: int = 0) -> list[InboxRow]:
    q = (select(Notification, NotificationDelivery.read_at, Alert.acknowledged_at)
         .join(NotificationDelivery, NotificationDelivery.notification_id == Notification.id)
         .outerjoin(Alert, Alert.id == Notification.alert_id).where(_mine(scope)))
    if kind:
        q = q.where(Notification.kind == kind)
    if unread_only:
        q = q.where(NotificationDelivery.read_at.is_(None))
    rows = session.execute(q.order_by(Notification.id.desc()).limit(min(max(limit, 1), 200))
                           .offset(max(offset, 0))).all()
    return [InboxRow(n.id, n.kind, n.title, n.body, n.critical, n.alert_id, n.created_at, read is not None,
                     ack is not None) for n, read, ack in rows]


def mark_read(*, session: Session, scope: Scope, now: datetime, notification_id: int | None = None) -> int:
    """Mark one (or, without an id, every) notification of the user's own inbox read."""
    q = update(NotificationDelivery).where(_mine(scope), NotificationDelivery.read_at.is_(None))
    if notification_id is not None:
        q = q.where(NotificationDelivery.notification_id == notification_id)
    return session.execute(q.values(read_at=now)).rowcount


def delivery_log(*, session: Session, scope: Scope, notification_id: int | None = None, status: str | None = None,
                 limit: int = 100, offset: int = 0) -> list[DeliveryRow]:
    """Every recipient and channel with its status, for the organizations in scope (Admin and Technical)."""
    scope.require(Cap.VIEW_DELIVERY_LOG)
    q = (select(NotificationDelivery, Notification.title)
         .join(Notification, Notification.id == NotificationDelivery.notification_id)
         .where(scope.org_filter(Notification.organization_id)))
    if notification_id is not None:
        q = q.where(NotificationDelivery.notification_id == notification_id)
    if status:
        q = q.where(NotificationDelivery.status == status)
    rows = session.execute(q.order_by(NotificationDelivery.id.desc()).limit(min(max(limit, 1), 500))
                           .offset(max(offset, 0))).all()
    return [DeliveryRow(d.id, d.notification_id, title, d.channel,
                        d.address or (f"user {d.user_id}" if d.user_id else f"app user {d.customer_user_id}"),
                        d.status, d.attempts, d.error, d.created_at, d.sent_at) for d, title in rows]
