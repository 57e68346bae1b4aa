"""Helpers for the notification tests: an alert rule, and what a user was told."""
from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session

from models import AlertRule, Notification, NotificationDelivery, Organization


def make_rule(session: Session, org: Organization, **fields) -> AlertRule:
    values = dict(name="Chargers down", conditions=["offline"], debounce_minutes=5, roles=["network_manager"],
                  channels=["in_app", "email"])
    values.update(fields)
    rule = AlertRule(organization_id=org.id, **values)
    session.add(rule)
    session.commit()
    return rule


def inbox(session: Session, user_id: int) -> list[Notification]:
    """The in-app notifications a staff user has, oldest first."""
    session.expire_all()
    return list(session.execute(
        select(Notification).join(NotificationDelivery, NotificationDelivery.notification_id == Notification.id)
        .where(NotificationDelivery.user_id == user_id, NotificationDelivery.channel == "in_app")
        .order_by(Notification.id)).scalars())
