"""Which staff users receive an organization's alerts, and the notice sent to them on each channel."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import or_, select
from sqlmodel import Session

from models import Notification, User
from models.notification import Channel
from models.user import UserStatus
from services.access.permissions import Role
from services.access.scope import scope_for
from services.notifications.outbox import Recipient, queue

STAFF_CHANNELS = (Channel.IN_APP, Channel.EMAIL)


def staff_recipients(*, session: Session, organization_id: int, roles: Iterable[str] = (),
                     user_ids: Iterable[int] = (), location_owner_ids: Iterable[int] = ()) -> list[User]:
    """Active users named by id, holding one of `roles`, or logging in for one of the location owners,
    who may see the organization. Someone outside it is never told about its chargers."""
    roles, user_ids, owners = list(roles), list(user_ids), [o for o in location_owner_ids if o is not None]
    clauses = []
    if roles:
        clauses.append(User.role.in_(roles))
    if user_ids:
        clauses.append(User.id.in_(user_ids))
    if owners:
        clauses.append((User.role == Role.LOCATION_OWNER) & User.location_owner_id.in_(owners))
    if not clauses:
        return []
    users = session.execute(select(User).where(User.status == UserStatus.ACTIVE, or_(*clauses))
                            .order_by(User.id)).scalars().all()
    return [u for u in users if scope_for(session, u).sees_organization(organization_id)]


def notify_staff(*, session: Session, notification: Notification, users: Iterable[User],
                 channels: Iterable[str], now: datetime) -> Notification:
    """Queue one notification to staff users on the rule's channels (in-app and e-mail; staff have no push
    devices)."""
    wanted = [c for c in STAFF_CHANNELS if c in set(channels)]
    recipients = []
    for user in users:
        for channel in wanted:
            recipients.append(Recipient(channel, user_id=user.id,
                                        address=user.email if channel == Channel.EMAIL else ""))
    return queue(session=session, notification=notification, recipients=recipients, now=now)
