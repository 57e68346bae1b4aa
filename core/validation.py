"""Small validators shared by the services. Each raises ValidationError with a clear message."""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo, available_timezones

from core.errors import ValidationError

_TIMEZONES = frozenset(available_timezones())
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
EMAIL_MAX = 254
# PostgreSQL integer columns (ids, offsets, connector ids, counts) are 32-bit.
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
# Dates the app accepts: far enough either side for any real period, and a day's arithmetic
# (the next midnight, a timezone shift) never leaves Python's or PostgreSQL's date range.
FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(2999, 12, 31)
# A NUL, which PostgreSQL text cannot hold, or a lone surrogate, which UTF-8 cannot encode.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def shown(value: str, limit: int = 60) -> str:
    """`value` as a message quotes it: at most `limit` characters, so pasted pages never fill a toast."""
    return value if len(value) <= limit else value[:limit] + "…"


def _title(field: str) -> str:
    label = field.replace("_", " ")
    return label[:1].upper() + label[1:]


def check_text(value: str, field: str) -> str:
    """`value`, unless it holds a character that cannot be stored (a NUL byte, a lone surrogate)."""
    if _UNSTORABLE.search(value):
        raise ValidationError(f"{_title(field)} contains a character that is not allowed (a NUL byte or an "
                              "unpaired surrogate).", field)
    return value


def fits_int32(value: int) -> bool:
    return INT32_MIN <= value <= INT32_MAX


def check_int32(value: int, field: str) -> int:
    if not fits_int32(value):
        raise ValidationError(f"{_title(field)} must be between {INT32_MIN} and {INT32_MAX}.", field)
    return value


def check_day(value: date, field: str) -> date:
    if not FIRST_DAY <= value <= LAST_DAY:
        raise ValidationError(f"{_title(field)} must be between {FIRST_DAY} and {LAST_DAY}.", field)
    return value


def validate_timezone(name: str) -> str:
    name = (name or "").strip()
    if name not in _TIMEZONES:
        raise ValidationError(f"Unknown timezone '{shown(name)}'. Use an IANA name such as Europe/Berlin.",
                              "timezone")
    ZoneInfo(name)
    return name


def validate_slug(slug: str) -> str:
    slug = (slug or "").strip().lower()
    if not SLUG_RE.match(slug):
        raise ValidationError("Slug must be 2-63 characters: lowercase letters, digits and dashes.", "slug")
    return slug


def validate_email(email: str) -> str:
    email = check_text((email or "").strip().lower(), "email")
    if not EMAIL_RE.match(email) or len(email) > EMAIL_MAX:
        raise ValidationError(f"'{shown(email)}' is not a valid email address.", "email")
    return email


def decimal_in_range(value: object, field: str, *, low: Decimal, high: Decimal, places: int,
                     label: str | None = None) -> Decimal:
    """A number from `low` to `high` with at most `places` decimals: what its column stores. More
    precision is refused, never rounded away (the audit log would record a value that was not kept)."""
    title = _title(label or field)  # keeps "VAT", "kWh" as written
    try:
        dec = Decimal(check_text(str(value).strip(), field))
    except (InvalidOperation, ValueError):
        raise ValidationError(f"{title} must be a number.", field) from None
    if not dec.is_finite():
        raise ValidationError(f"{title} must be a number.", field)
    if dec < low or dec > high:
        raise ValidationError(f"{title} must be between {low} and {high}.", field)
    _, digits, exponent = dec.as_tuple()
    trailing_zeros = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    if dec and -(exponent + trailing_zeros) > places:  # "19.000" is fine, "0.00001" is not
        raise ValidationError(f"{title} may have at most {places} decimal places.", field)
    return dec


def required_text(value: str | None, field: str, *, max_len: int = 200) -> str:
    text = check_text((value or "").strip(), field)
    if not text:
        raise ValidationError(f"{field.replace('_', ' ').capitalize()} is required.", field)
    if len(text) > max_len:
        raise ValidationError(f"{field.replace('_', ' ').capitalize()} must be at most {max_len} characters.", field)
    return text


# Reasons (void, correction) are printed on invoices and PDFs: a paragraph, not a document.
REASON_MAX = 500


def optional_text(value: str | None, field: str, *, max_len: int) -> str | None:
    """Stripped free text, None when empty; refused when it is longer than `max_len` or unstorable."""
    text = check_text((value or "").strip(), field)
    if len(text) > max_len:
        raise ValidationError(f"{_title(field)} must be at most {max_len} characters (it has {len(text):,}).", field)
    return text or None
