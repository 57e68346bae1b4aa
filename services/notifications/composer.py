"""The composer: staff write a message to app users, see its preview and recipient count, and send it now
or at a set time.

An audience is specific users (by email), a segment (an organization's customers, customers who charged
at one charger's site, customers who charged in the last N days) or everyone in the sender's scope; it is
always cut to the sender's scope, and a segment outside it is refused. Bad input (no recipients, an empty
or over-long body) is refused before anything is queued; more than BROADCAST_CONFIRM_ABOVE recipients
needs `confirm=True`.

Sending writes one notification row and returns at once: the worker expands the audience into delivery
rows with one INSERT … SELECT when the send time comes (`expand_due`), then sends them like any other.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, case, exists, func, literal, select, text
from sqlmodel import Session

from core.config import get_settings
from core.errors import NotFound, ValidationError
from core.validation import check_text, validate_email
from models import (
    Charger,
    CustomerUser,
    Notification,
    NotificationDelivery,
    NotificationPreference,
    Organization,
    PushDevice,
    Transaction,
    User,
)
from models.customer import CustomerUserStatus
from models.notification import DeliveryStatus
from services.access.permissions import Cap
from services.access.scope import Scope, get_in_scope, scope_for
from services.notifications.customer_messages import BODY_MAX, TITLE_MAX

MODES = ("users", "organization", "site", "recent", "everyone")
MAX_LISTED = 500
MAX_DAYS = 366


@dataclass(frozen=True)
class Audience:
    mode: str
    emails: list[str] = field(default_factory=list)
    organization_id: int | None = None
    charger_id: int | None = None  # its site: the chargers of its organization at its address
    days: int | None = None


@dataclass(frozen=True)
class Preview:
    title: str
    body: str
    recipients: int  # app users
    devices: int
    needs_confirmation: bool


@dataclass(frozen=True)
class Sent:
    notification_id: int
    recipients: int
    send_at: datetime


def _users(session: Session, scope: Scope, audience: Audience, now: datetime) -> tuple[Select, int | None]:
    """A SELECT of the audience's customer_user ids (in scope, reachable) and the organization it names."""
    base = select(CustomerUser.id).where(scope.customer_filter(CustomerUser),
                                         CustomerUser.status.in_((CustomerUserStatus.ACTIVE,
                                                                  CustomerUserStatus.UNVERIFIED)))
    mode = audience.mode
    if mode not in MODES:
        raise ValidationError("Choose who receives the message.", "mode")
    if mode == "users":
        emails = sorted({validate_email(e) for e in audience.emails if e.strip()})
        if not emails:
            raise ValidationError("Name at least one recipient.", "emails")
        if len(emails) > MAX_LISTED:
            raise ValidationError(f"At most {MAX_LISTED} listed recipients; use a segment.", "emails")
        found = set(session.execute(select(CustomerUser.email).where(
            scope.customer_filter(CustomerUser), CustomerUser.email.in_(emails))).scalars())
        missing = [e for e in emails if e not in found]
        if missing:
            raise ValidationError("No app user in your scope with the email " + ", ".join(missing[:5]) + ".",
                                  "emails")
        return base.where(CustomerUser.email.in_(emails)), None
    if mode == "organization":
        if audience.organization_id is None:
            raise ValidationError("Choose the organization.", "organization_id")
        org = get_in_scope(session, Organization, audience.organization_id, scope)
        return base.where(CustomerUser.organization_id == org.id), org.id
    if mode == "everyone":
        return base, None
    paid = select(Transaction.customer_account_id).where(scope.transaction_filter(),
                                                         Transaction.customer_account_id.is_not(None))
    if mode == "site":
        if audience.charger_id is None:
            raise ValidationError("Choose a charger of the site.", "charger_id")
        charger = get_in_scope(session, Charger, audience.charger_id, scope)
        site = select(Charger.id).where(Charger.organization_id == charger.organization_id,
                                        Charger.address == charger.address)
        return base.where(CustomerUser.account_id.in_(paid.where(Transaction.charger_id.in_(site)))), \
            charger.organization_id
    days = audience.days
    if days is None or not 1 <= days <= MAX_DAYS:
        raise ValidationError(f"Days must be between 1 and {MAX_DAYS}.", "days")
    recent = paid.where(Transaction.started_at >= now - timedelta(days=days))
    return base.where(CustomerUser.account_id.in_(recent)), None


def _text(title: str, body: str) -> tuple[str, str]:
    title = check_text((title or "").strip(), "title") or "Message"
    body = check_text((body or "").strip(), "body")
    if not body:
        raise ValidationError("Write the message.", "body")
    if len(body) > BODY_MAX:
        raise ValidationError(f"The message is {len(body)} characters; at most {BODY_MAX}.", "body")
    if len(title) > TITLE_MAX:
        raise ValidationError(f"The title is at most {TITLE_MAX} characters.", "title")
    return title, body


def preview(*, session: Session, scope: Scope, audience: Audience, title: str, body: str,
            now: datetime) -> Preview:
    """What the recipients will see and how many they are; refuses what `send` would refuse but the count."""
    return _preview(session, scope, audience, title, body, now, count_devices=True)


def _preview(session: Session, scope: Scope, audience: Audience, title: str, body: str, now: datetime, *,
             count_devices: bool) -> Preview:
    scope.require(Cap.SEND_CUSTOMER_MESSAGES)
    title, body = _text(title, body)
    users, _ = _users(session, scope, audience, now)
    ids = users.subquery()
    count = session.execute(select(func.count()).select_from(ids)).scalar_one()
    devices = session.execute(select(func.count()).select_from(PushDevice).where(
        PushDevice.customer_user_id.in_(select(ids.c.id)))).scalar_one() if count_devices else 0
    return Preview(title, body, count, devices, count > get_settings().broadcast_confirm_above)


def send(*, session: Session, scope: Scope, audience: Audience, title: str, body: str, now: datetime,
         send_at: datetime | None = None, confirm: bool = False) -> Sent:
    """Queue the message (module docstring). Nothing is written when anything is refused."""
    # The send counts the people (the confirmation needs it), not their devices: one query less on a click
    # that must answer at once.
    p = _preview(session, scope, audience, title, body, now, count_devices=False)
    if p.recipients == 0:
        raise ValidationError("Nobody in this audience can receive the message.", "mode")
    if p.needs_confirmation and not confirm:
        raise ValidationError(f"This message goes to {p.recipients} app users. Confirm to send it to all of "
                              "them.", "confirm")
    if send_at is not None and (send_at.tzinfo is None or send_at > now + timedelta(days=366)):
        raise ValidationError("Schedule the message within the next year.", "send_at")
    when = max(send_at or now, now)
    _, org_id = _users(session, scope, audience, now)
    if org_id is None and scope.org_ids is not None and len(scope.org_ids) == 1:
        org_id = next(iter(scope.org_ids))
    note = Notification(organization_id=org_id, kind="message", title=p.title, body=p.body,
                        created_by_id=scope.user_id, created_at=now,
                        data={"audience": asdict(audience), "fanout": "pending", "send_at": when.isoformat(),
                              "recipients": p.recipients, "org_choice": sorted(scope.org_ids or [])})
    session.add(note)
    session.flush()
    return Sent(note.id, p.recipients, when)


def _scope_of(session: Session, note: Notification) -> Scope | None:
    """The sender's scope at send time (narrowed as when they wrote it); None if the sender is gone."""
    user = session.get(User, note.created_by_id) if note.created_by_id else None
    if user is None or user.status != "active":
        return None
    scope = scope_for(session, user)
    chosen = note.data.get("org_choice") or []
    if len(chosen) == 1 and scope.multi_org:
        try:
            scope = scope.narrowed(chosen[0])
        except NotFound:
            return None
    return scope


def expand_due(*, session: Session, now: datetime) -> int:
    """Turn composed messages whose time has come into delivery rows, one per device of each recipient
    (a kind the user switched off is logged as skipped). Returns how many rows were written."""
    notes = session.execute(select(Notification).where(
        Notification.kind == "message", text("notification.data->>'fanout' = 'pending'"),
        text("(notification.data->>'send_at')::timestamptz <= :now").bindparams(now=now))
        .with_for_update(skip_locked=True)).scalars().all()
    written = 0
    for note in notes:
        scope = _scope_of(session, note)
        rows = 0
        if scope is not None:
            aud: dict[str, Any] = note.data["audience"]
            users, _ = _users(session, scope, Audience(**aud), now)
            muted = exists().where(NotificationPreference.customer_user_id == PushDevice.customer_user_id,
                                   NotificationPreference.muted_kinds.contains(["message"]))
            status = case((muted, literal(DeliveryStatus.SKIPPED.value)), else_=literal(DeliveryStatus.QUEUED.value))
            insert = NotificationDelivery.__table__.insert().from_select(
                ["notification_id", "channel", "customer_user_id", "device_id", "status", "next_attempt_at",
                 "created_at"],
                select(literal(note.id), PushDevice.kind, PushDevice.customer_user_id, PushDevice.id, status,
                       literal(now), literal(now))
                .where(PushDevice.customer_user_id.in_(users)).order_by(PushDevice.id))
            session.execute(insert)
            rows = session.execute(select(func.count()).select_from(NotificationDelivery)
                                   .where(NotificationDelivery.notification_id == note.id)).scalar_one()
        note.data = {**note.data, "fanout": "done" if scope is not None else "sender_gone", "deliveries": rows}
        session.add(note)
        written += rows
    return written

