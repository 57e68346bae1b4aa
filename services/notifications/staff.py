"""Which staff users receive an organization's alerts, and the notice sent to them on each channel."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import or_, select
from sqlmodel import Session

from models import Notification, NotificationDelivery, NotificationPreference, Organization, PushDevice, User
from models.notification import Channel
from models.user import UserStatus
from services.access.permissions import Role
from services.access.scope import scope_for
from services.notifications.customer_messages import quiet_until
from services.notifications.outbox import Recipient, queue
from services.notifications.preferences import staff_kind

STAFF_CHANNELS = (Channel.IN_APP, Channel.EMAIL, Channel.WEB_PUSH)


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


def staff_timezone(user: User, organization_tz: str | None) -> str:
    """The zone a staff user's quiet hours are read in: their own, else the organization's, else UTC."""
    return user.timezone or organization_tz or "UTC"


def notify_staff(*, session: Session, notification: Notification, users: Iterable[User],
                 channels: Iterable[str], now: datetime) -> Notification:
    """Queue one notification to staff users on the rule's channels: in-app, e-mail, and Web Push to each
    browser the user subscribed. A kind the user switched off is logged as skipped (the in-app notice is
    always written: the inbox is the history); inside their quiet hours mail and push wait for the end,
    unless the notification is critical."""
    users = list(users)
    wanted = [c for c in STAFF_CHANNELS if c in set(channels)]
    ids = [u.id for u in users]
    prefs = {p.user_id: p for p in session.execute(
        select(NotificationPreference).where(NotificationPreference.user_id.in_(ids))).scalars()} if ids else {}
    org_tz = session.execute(select(Organization.timezone).where(
        Organization.id == notification.organization_id)).scalar_one_or_none()
    push = {}
    if Channel.WEB_PUSH in wanted and ids:
        for d in session.execute(select(PushDevice).where(PushDevice.user_id.in_(ids), PushDevice.kind == "web_push")
                                 .order_by(PushDevice.id)).scalars():
            push.setdefault(d.user_id, []).append(d.id)
    kind = staff_kind(notification.kind)
    recipients = []
    for user in users:
        pref = prefs.get(user.id)
        muted = pref is not None and kind in pref.muted_kinds
        wait = None if notification.critical else quiet_until(pref, staff_timezone(user, org_tz), now)
        for channel in wanted:
            if channel == Channel.IN_APP:
                recipients.append(Recipient(channel, user_id=user.id))
            elif channel == Channel.EMAIL:
                recipients.append(Recipient(channel, user_id=user.id, address=user.email, skipped=muted,
                                            not_before=wait))
            else:
                recipients += [Recipient(channel, user_id=user.id, device_id=device_id, skipped=muted,
                                         not_before=wait) for device_id in push.get(user.id, [])]
    return queue(session=session, notification=notification, recipients=recipients, now=now)


def staff_quiet_hold(session: Session, rows: list[NotificationDelivery], notes: dict[int, Notification],
                     now: datetime) -> dict[int, datetime]:
    """At send time: staff mail and push rows that fall in their user's quiet hours (not critical) wait for
    the end. One query per batch."""
    ids = {r.user_id for r in rows if r.user_id is not None and not notes[r.notification_id].critical}
    if not ids:
        return {}
    found = session.execute(select(NotificationPreference, User).join(User, User.id == NotificationPreference.user_id)
                            .where(NotificationPreference.user_id.in_(ids),
                                   NotificationPreference.quiet_start.is_not(None))).all()
    if not found:
        return {}
    zones = dict(session.execute(select(Organization.id, Organization.timezone).where(Organization.id.in_(
        {notes[r.notification_id].organization_id for r in rows if r.user_id in ids}))).all())
    prefs = {p.user_id: (p, u) for p, u in found}
    out = {}
    for r in rows:
        note = notes[r.notification_id]
        if r.user_id in prefs and not note.critical:
            pref, user = prefs[r.user_id]
            until = quiet_until(pref, staff_timezone(user, zones.get(note.organization_id)), now)
            if until is not None:
                out[r.id] = until
    return out
