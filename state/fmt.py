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
