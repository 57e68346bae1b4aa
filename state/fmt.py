"""Turning service data into the plain strings the pages show."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def when(value: datetime | None, tz: str = "UTC") -> str:
    """A moment in the timezone of the organization it belongs to, with the zone's abbreviation.

    The database holds UTC; people read their own local time ("2026-11-21 11:05 +0530" in Colombo,
    "2026-11-21 06:35 CET" in Berlin). Records without an organization pass no zone and show UTC.
    """
    if value is None:
        return "Never"
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def pages(total: int, per_page: int) -> int:
    return max(1, -(-total // per_page))


def page_range(total: int, page: int, per_page: int, noun: str, empty: str) -> str:
    """'21–40 of 1,234 sessions' under a paged table, or `empty` when there is nothing."""
    if not total:
        return empty
    first = (page - 1) * per_page + 1
    return f"{first}–{min(total, first + per_page - 1)} of {total:,} {noun}".rstrip()
