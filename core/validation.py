"""Small validators shared by the services. Each raises ValidationError with a clear message."""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo, available_timezones

from core.errors import ValidationError

_TIMEZONES = frozenset(available_timezones())
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def validate_timezone(name: str) -> str:
    name = (name or "").strip()
    if name not in _TIMEZONES:
        raise ValidationError(f"Unknown timezone '{name}'. Use an IANA name such as Europe/Berlin.", "timezone")
    ZoneInfo(name)
    return name


def validate_slug(slug: str) -> str:
    slug = (slug or "").strip().lower()
    if not SLUG_RE.match(slug):
        raise ValidationError("Slug must be 2-63 characters: lowercase letters, digits and dashes.", "slug")
    return slug


def validate_email(email: str) -> str:
    email = (email or "").strip().lower()
    if not EMAIL_RE.match(email) or len(email) > 254:
        raise ValidationError(f"'{email}' is not a valid email address.", "email")
    return email


def decimal_in_range(value: object, field: str, *, low: Decimal, high: Decimal | None = None,
                     label: str | None = None) -> Decimal:
    label = label or field.replace("_", " ")
    try:
        dec = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError(f"{label.capitalize()} must be a number.", field) from None
    if not dec.is_finite():
        raise ValidationError(f"{label.capitalize()} must be a number.", field)
    if dec < low or (high is not None and dec > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ValidationError(f"{label.capitalize()} must be {bound}.", field)
    return dec


def required_text(value: str | None, field: str, *, max_len: int = 200) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationError(f"{field.replace('_', ' ').capitalize()} is required.", field)
    if len(text) > max_len:
        raise ValidationError(f"{field.replace('_', ' ').capitalize()} must be at most {max_len} characters.", field)
    return text
