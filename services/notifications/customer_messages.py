"""Messages to app users (customers), by push to each of their devices.

`notify_customer(session=, account_id=, kind=, title=, body=, ...)` is the one entry point other domains
use (payments: "wallet_low", "payment_failed"; customers: "invitation_reminder"). It writes the
notification and one outbox row per device of every user of the account, in the caller's transaction:
nothing is sent unless the caller commits. A kind the user switched off is logged as skipped; inside the
user's quiet hours the send waits for their end, unless the message is critical.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlmodel import Session

from core.clock import utcnow
from core.db import among
from core.errors import ValidationError
from core.money import format_money
from models import (
    CustomerAccount,
    CustomerUser,
    Notification,
    NotificationDelivery,
    NotificationPreference,
    Organization,
    PushDevice,
    Transaction,
)
from models.customer import CustomerUserStatus
from models.notification import Channel
from services.notifications.outbox import Recipient, queue

KINDS = {
    "session_started": "Charging started",
    "session_ended": "Charging session ended",
    "wallet_low": "Wallet balance low",
    "payment_failed": "Payment failed",
    "invitation_reminder": "Invitation reminder",
    "message": "Message",  # written by staff in the composer
}
TITLE_MAX, BODY_MAX = 200, 1000
_REACHABLE = (CustomerUserStatus.ACTIVE, CustomerUserStatus.UNVERIFIED)


def _hhmm(value: str) -> time:
    return time(int(value[:2]), int(value[3:5]))


def quiet_until(pref: NotificationPreference | None, tz: str, now: datetime) -> datetime | None:
    """The end of the quiet hours `now` falls in (UTC), or None outside them. 22:00–07:00 spans midnight."""
    if pref is None or not pref.quiet_start or not pref.quiet_end or pref.quiet_start == pref.quiet_end:
        return None
    local = now.astimezone(ZoneInfo(tz))
    start, end, t = _hhmm(pref.quiet_start), _hhmm(pref.quiet_end), local.time()
    inside = start <= t < end if start < end else (t >= start or t < end)
    if not inside:
        return None
    until = datetime.combine(local.date(), end, local.tzinfo)
    if until <= local:
        until += timedelta(days=1)
    return until.astimezone(now.tzinfo)


def device_recipients(*, session: Session, users: list[CustomerUser], kind: str, critical: bool,
                      now: datetime) -> list[Recipient]:
    """One recipient per device of each user, with the user's switches and quiet hours applied."""
    if not users:
        return []
    ids = [u.id for u in users]
    prefs = {p.customer_user_id: p for p in session.execute(
        select(NotificationPreference).where(NotificationPreference.customer_user_id.in_(ids))).scalars()}
    tz = {o.id: o.timezone for o in session.execute(
        select(Organization).where(Organization.id.in_({u.organization_id for u in users}))).scalars()}
    org_of = {u.id: u.organization_id for u in users}
    out = []
    for d in session.execute(select(PushDevice).where(PushDevice.customer_user_id.in_(ids))
                             .order_by(PushDevice.id)).scalars():
        pref = prefs.get(d.customer_user_id)
        muted = pref is not None and kind in pref.muted_kinds and not critical
        wait = None if critical else quiet_until(pref, tz[org_of[d.customer_user_id]], now)
        out.append(Recipient(Channel.FCM if d.kind == "fcm" else Channel.WEB_PUSH,
                             customer_user_id=d.customer_user_id, device_id=d.id, skipped=muted, not_before=wait))
    return out


def notify_customer(*, session: Session, account_id: int, kind: str, title: str | None = None,
                    body: str, data: dict[str, Any] | None = None, critical: bool = False,
                    now: datetime | None = None) -> Notification:
    """Push a message to every device of the account's users, in the caller's transaction (module doc)."""
    if kind not in KINDS:
        raise ValidationError(f"Unknown message kind {kind!r}.", "kind")
    title = (title or KINDS[kind]).strip()
    if not body.strip() or len(body) > BODY_MAX or len(title) > TITLE_MAX:
        raise ValidationError(f"A message needs a body of at most {BODY_MAX} characters.", "body")
    now = now or utcnow()
    account = session.get(CustomerAccount, account_id)
    if account is None:
        raise ValidationError("Unknown customer account.", "account_id")
    users = list(session.execute(select(CustomerUser).where(CustomerUser.account_id == account_id,
                                                            CustomerUser.status.in_(_REACHABLE))).scalars())
    note = Notification(organization_id=account.organization_id, kind=kind, title=title, body=body,
                        critical=critical, created_at=now,
                        data={k: str(v) for k, v in (data or {}).items()} | {"account_id": str(account_id)})
    return queue(session=session, notification=note,
                 recipients=device_recipients(session=session, users=users, kind=kind, critical=critical, now=now),
                 now=now)


def session_started(*, session: Session, tx: Transaction, charger_name: str, now: datetime) -> None:
    """An automatic message when a customer's session starts (no-op without a paying account)."""
    if tx.customer_account_id is None:
        return
    notify_customer(session=session, account_id=tx.customer_account_id, kind="session_started",
                    body=f"Your session at {charger_name} started (connector {tx.connector_id}).",
                    data={"session_id": tx.id}, now=now)


def session_ended(*, session: Session, tx: Transaction, charger_name: str, now: datetime) -> None:
    """An automatic message with the energy and the cost when a customer's session ends and is priced."""
    if tx.customer_account_id is None:
        return
    kwh = f"{(tx.energy_wh or 0) / 1000:.2f} kWh"
    cost = format_money(tx.amount_gross, tx.currency) if tx.amount_gross is not None else None
    body = f"Your session at {charger_name} ended: {kwh}" + (f", {cost}." if cost else ".")
    notify_customer(session=session, account_id=tx.customer_account_id, kind="session_ended", body=body,
                    data={"session_id": tx.id, "energy_wh": tx.energy_wh or 0,
                          "amount": tx.amount_gross if tx.amount_gross is not None else "",
                          "currency": tx.currency}, now=now)


def quiet_hold(session: Session, rows: list[NotificationDelivery], notes: dict[int, Notification],
               now: datetime) -> dict[int, datetime]:
    """At send time: app-user rows that fall in their user's quiet hours wait for the end (critical ones
    never wait). One query per batch."""
    ids = {r.customer_user_id for r in rows if r.customer_user_id is not None
           and not notes[r.notification_id].critical}
    if not ids:
        return {}
    found = session.execute(select(NotificationPreference, Organization.timezone)
                            .join(CustomerUser, CustomerUser.id == NotificationPreference.customer_user_id)
                            .join(Organization, Organization.id == CustomerUser.organization_id)
                            .where(among(NotificationPreference.customer_user_id, ids),
                                   NotificationPreference.quiet_start.is_not(None))).all()
    until = {p.customer_user_id: quiet_until(p, tz, now) for p, tz in found}
    return {r.id: until[r.customer_user_id] for r in rows
            if until.get(r.customer_user_id) is not None and not notes[r.notification_id].critical}
