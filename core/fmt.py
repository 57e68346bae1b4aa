"""How Voltdesk writes times, dates, energy, rates and counts for people: the pages, the PDF and mail.

One spelling for a value that is missing (`MISSING`), whatever its kind. Money is `core.money.format_money`.
Machine formats (CSV, the API) keep ISO 8601 and plain numbers; they do not come through here.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MISSING = "—"


def _zone(tz: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(tz or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def when(value: datetime | None, tz: str | None = "UTC") -> str:
    """A moment in the timezone of the organization it belongs to, with the zone's abbreviation.

    The database holds UTC; people read their own local time ("2026-11-21 11:05 +0530" in Colombo,
    "2026-11-21 06:35 CET" in Berlin). Records without an organization pass no zone and show UTC.
    """
    if value is None:
        return MISSING
    return value.astimezone(_zone(tz)).strftime("%Y-%m-%d %H:%M %Z")


def clock(value: datetime | None, tz: str | None = "UTC", *, seconds: bool = False) -> str:
    """The local time of day only ("14:05", or "14:05:09"), for a page that names the zone once."""
    if value is None:
        return MISSING
    return value.astimezone(_zone(tz)).strftime("%H:%M:%S" if seconds else "%H:%M")


def day(value: date | None) -> str:
    """A calendar day as people write it: '1 Oct 2026'."""
    if value is None:
        return MISSING
    return f"{value.day} {value:%b %Y}"


def period(start: date, end: date) -> str:
    """A billing period, compact: '1–31 Oct 2026', '1 Oct – 31 Dec 2026', '15 Dec 2025 – 14 Jan 2026'."""
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.day}–{day(end)}"
    if start.year == end.year:
        return f"{start.day} {start:%b} – {day(end)}"
    return f"{day(start)} – {day(end)}"


def chart_label(value: date | datetime, *, hourly: bool = False) -> str:
    """A chart's axis label: '05 Nov', or '05 Nov 14:00' for hours."""
    return value.strftime("%d %b %H:00" if hourly else "%d %b")


def kwh(value: Decimal | float | None, places: int = 2, *, unit: bool = True) -> str:
    """Energy with thousands separators: '1,234.50 kWh'; `unit=False` where the column names it."""
    if value is None:
        return MISSING
    return f"{Decimal(str(value)):,.{places}f}" + (" kWh" if unit else "")


def plain(value: Any) -> str:
    """A decimal as typed, without trailing zeros: '0.5', '18', '1250'."""
    if value is None or value == "":
        return MISSING
    return f"{Decimal(str(value)).normalize():f}"


def percent(rate: Any) -> str:
    """A rate given in percent: '18 %', '2.5 %'."""
    return MISSING if rate is None or rate == "" else f"{plain(rate)} %"


def duration(seconds: int | None) -> str:
    """'45 min', '2 h 05 min'."""
    if seconds is None:
        return MISSING
    minutes = round(seconds / 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


def count(n: int, noun: str) -> str:
    """'1 session', '1,234 sessions'."""
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def pages(total: int, per_page: int) -> int:
    return max(1, -(-total // per_page))


def page_range(total: int, page: int, per_page: int, noun: str, empty: str) -> str:
    """'21–40 of 1,234 sessions' under a paged table, or `empty` when there is nothing."""
    if not total:
        return empty
    first = (page - 1) * per_page + 1
    return f"{first}–{min(total, first + per_page - 1)} of {total:,} {noun}".rstrip()


# --- grid monitor ---------------------------------------------------------------------------------------------

def hz(value: Decimal | float | None) -> str:
    return MISSING if value is None else f"{Decimal(value):.3f} Hz"


def mw(value: Decimal | float | None) -> str:
    return MISSING if value is None else f"{Decimal(value):,.0f} MW"


def kw(value: Decimal | float | None, places: int = 1) -> str:
    return MISSING if value is None else f"{Decimal(value):,.{places}f} kW"
