"""Self-service settings: a user's name, time zone and date format. (Their notification switches and quiet
hours are services/notifications/preferences.py; the account page saves both.)

The e-mail address changes through a verification link (services/access/invitations.request_email_change)
and the password through services/access/auth.change_password.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from core.errors import ValidationError
from core.validation import optional_text, validate_timezone
from models import User

# How dates read (the time of day always reads 24-hour, HH:MM).
DATE_FORMATS = {"iso": "%Y-%m-%d", "dmy": "%d/%m/%Y", "mdy": "%m/%d/%Y"}
DATE_FORMAT_LABELS = {"iso": "2026-12-31", "dmy": "31/12/2026", "mdy": "12/31/2026"}
NAME_MAX = 200


@dataclass(frozen=True)
class UserSettings:
    full_name: str
    email: str
    timezone: str  # "" means each organization's own zone
    date_format: str


def get_user_settings(*, session: Session, user: User) -> UserSettings:
    return UserSettings(user.full_name or "", user.email, user.timezone or "", user.date_format or "iso")


def update_user_settings(*, session: Session, user: User, full_name: str, timezone: str,
                         date_format: str) -> UserSettings:
    """Save the settings form; refused input changes nothing. Commits."""
    name = optional_text(full_name, "full_name", max_len=NAME_MAX) or ""
    zone = validate_timezone(timezone) if (timezone or "").strip() else None
    if date_format not in DATE_FORMATS:
        raise ValidationError(f"Date format must be one of: {', '.join(DATE_FORMAT_LABELS.values())}.",
                              "date_format")
    row = session.get(User, user.id, with_for_update=True)
    row.full_name, row.timezone, row.date_format = name, zone, date_format
    session.add(row)
    session.commit()
    return get_user_settings(session=session, user=row)
