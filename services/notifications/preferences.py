"""A person's notification preferences: per-kind switches and quiet hours, for staff users and app users
alike (one NotificationPreference row each, absent means everything on and no quiet hours).

Quiet hours are read in the person's time zone (a staff user's own zone, else their organization's; an app
user's organization's). A message inside them waits for their end; a critical alert never waits. A kind
switched off is logged as skipped. Staff in-app notices are always written: the inbox is their history.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session

from core.errors import ValidationError
from models import NotificationPreference
from services.notifications.customer_messages import KINDS as CUSTOMER_MESSAGE_KINDS

# What staff can switch off, and which notification kinds each switch covers.
STAFF_KINDS = {"charger_alerts": "Charger alerts (opened, updated, escalated)",
               "alert_resolved": "Resolved notices", "charger_events": "Charger security events"}
_STAFF_KIND_OF = {"alert_opened": "charger_alerts", "alert_update": "charger_alerts",
                  "alert_escalated": "charger_alerts", "alert_resolved": "alert_resolved",
                  "charger_event": "charger_events"}
CUSTOMER_KINDS = dict(CUSTOMER_MESSAGE_KINDS)
_HHMM = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")


@dataclass(frozen=True)
class Preferences:
    switches: dict[str, bool]  # kind -> on
    quiet_start: str           # "HH:MM" or "" (no quiet hours)
    quiet_end: str


def staff_kind(notification_kind: str) -> str:
    """The staff switch that covers a notification kind."""
    return _STAFF_KIND_OF.get(notification_kind, notification_kind)


def _owner(user_id: int | None, customer_user_id: int | None) -> tuple[dict[str, str], object]:
    if (user_id is None) == (customer_user_id is None):
        raise ValueError("exactly one of user_id and customer_user_id")
    if user_id is not None:
        return STAFF_KINDS, NotificationPreference.user_id == user_id
    return CUSTOMER_KINDS, NotificationPreference.customer_user_id == customer_user_id


def _row(session: Session, where, lock: bool = False) -> NotificationPreference | None:
    query = select(NotificationPreference).where(where)
    return session.execute(query.with_for_update() if lock else query).scalar_one_or_none()


def get_preferences(*, session: Session, user_id: int | None = None,
                    customer_user_id: int | None = None) -> Preferences:
    kinds, where = _owner(user_id, customer_user_id)
    row = _row(session, where)
    muted = set(row.muted_kinds) if row else set()
    return Preferences({k: k not in muted for k in kinds}, (row.quiet_start or "") if row else "",
                       (row.quiet_end or "") if row else "")


def _quiet(value: str | None, field: str) -> str:
    value = (value or "").strip()
    if value and not _HHMM.match(value):
        raise ValidationError("Write the time as HH:MM, from 00:00 to 23:59.", field)
    return value


def set_preferences(*, session: Session, user_id: int | None = None, customer_user_id: int | None = None,
                    switches: dict[str, bool], quiet_start: str | None, quiet_end: str | None) -> Preferences:
    """Save the switches (kinds not named keep their setting) and the quiet hours (both or neither), in the
    caller's transaction. Refused input changes nothing."""
    kinds, where = _owner(user_id, customer_user_id)
    unknown = sorted(set(switches) - set(kinds))
    if unknown:
        raise ValidationError(f"Unknown notification kind: {unknown[0][:40]}.", "switches")
    start, end = _quiet(quiet_start, "quiet_start"), _quiet(quiet_end, "quiet_end")
    if bool(start) != bool(end):
        raise ValidationError("Give both the start and the end of the quiet hours, or neither.",
                              "quiet_end" if start else "quiet_start")
    if start and start == end:
        raise ValidationError("Quiet hours must end at another time than they start.", "quiet_end")
    row = _row(session, where, lock=True) or NotificationPreference(user_id=user_id,
                                                                    customer_user_id=customer_user_id)
    muted = set(row.muted_kinds or []) - set(switches)
    muted |= {k for k, on in switches.items() if not on}
    row.muted_kinds = sorted(muted)
    row.quiet_start, row.quiet_end = start or None, end or None
    session.add(row)
    session.flush()
    return get_preferences(session=session, user_id=user_id, customer_user_id=customer_user_id)
