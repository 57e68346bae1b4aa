"""Self-service settings: a user's name, time zone, date format and notification switches.

The e-mail address changes through a verification link (services/access/invitations.request_email_change)
and the password through services/access/auth.change_password.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session

from core.errors import ValidationError
from core.validation import optional_text, validate_timezone
from models import User, UserNotificationSwitch

# How dates read (the time of day always reads 24-hour, HH:MM).
DATE_FORMATS = {"iso": "%Y-%m-%d", "dmy": "%d/%m/%Y", "mdy": "%m/%d/%Y"}
DATE_FORMAT_LABELS = {"iso": "2026-12-31", "dmy": "31/12/2026", "mdy": "12/31/2026"}
# The notifications a user can switch off here. Absent means on. (The notifications work may replace this
# small table with its own preferences model.)
NOTIFICATION_KINDS = {"charger_faults": "Charger faults and offline chargers", "invoices": "Invoices issued",
                      "billing_runs": "Billing run results"}
NAME_MAX = 200


@dataclass(frozen=True)
class UserSettings:
    full_name: str
    email: str
    timezone: str  # "" means each organization's own zone
    date_format: str
    notifications: dict[str, bool]


def get_user_settings(*, session: Session, user: User) -> UserSettings:
    switches = dict(session.execute(select(UserNotificationSwitch.kind, UserNotificationSwitch.enabled)
                                    .where(UserNotificationSwitch.user_id == user.id)).all())
    return UserSettings(user.full_name or "", user.email, user.timezone or "", user.date_format or "iso",
                        {k: switches.get(k, True) for k in NOTIFICATION_KINDS})


def update_user_settings(*, session: Session, user: User, full_name: str, timezone: str, date_format: str,
                         notifications: dict[str, bool]) -> UserSettings:
    """Save the settings form; refused input changes nothing. Commits."""
    name = optional_text(full_name, "full_name", max_len=NAME_MAX) or ""
    zone = validate_timezone(timezone) if (timezone or "").strip() else None
    if date_format not in DATE_FORMATS:
        raise ValidationError(f"Date format must be one of: {', '.join(DATE_FORMAT_LABELS.values())}.",
                              "date_format")
    unknown = set(notifications) - set(NOTIFICATION_KINDS)
    if unknown:
        raise ValidationError(f"Unknown notification: {sorted(unknown)[0]}.", "notifications")
    row = session.get(User, user.id, with_for_update=True)
    row.full_name, row.timezone, row.date_format = name, zone, date_format
    session.add(row)
    for kind, enabled in notifications.items():
        switch = session.get(UserNotificationSwitch, (user.id, kind))
        if switch is None:
            session.add(UserNotificationSwitch(user_id=user.id, kind=kind, enabled=bool(enabled)))
        else:
            switch.enabled = bool(enabled)
            session.add(switch)
    session.commit()
    return get_user_settings(session=session, user=row)


def notification_enabled(*, session: Session, user_id: int, kind: str) -> bool:
    """Whether a user wants this kind of notification (on unless switched off)."""
    switch = session.get(UserNotificationSwitch, (user_id, kind))
    return True if switch is None else switch.enabled
