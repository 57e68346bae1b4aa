"""Billing period arithmetic: which local dates a weekly, monthly or quarterly period covers, and its UTC bounds.

A period runs from its billing day to the day before the next one (both dates inclusive, local time).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from core.clock import utcnow
from core.config import get_settings


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive

    def __str__(self) -> str:
        return f"{self.start.isoformat()} – {self.end.isoformat()}"


def _add_months(d: date, months: int, day: int) -> date:
    index = d.year * 12 + (d.month - 1) + months
    return date(index // 12, index % 12 + 1, day)


def period_start_on_or_before(cycle: str, billing_day: int, d: date) -> date:
    """The start of the billing period that contains local date `d`."""
    if cycle == "weekly":
        return d - timedelta(days=(d.isoweekday() - billing_day) % 7)
    if cycle == "monthly":
        start = date(d.year, d.month, billing_day)
        return start if start <= d else _add_months(start, -1, billing_day)
    if cycle == "quarterly":
        quarter_month = (d.month - 1) // 3 * 3 + 1
        start = date(d.year, quarter_month, billing_day)
        return start if start <= d else _add_months(start, -3, billing_day)
    raise ValueError(f"unknown billing cycle {cycle!r}")


def next_period_start(cycle: str, billing_day: int, start: date) -> date:
    if cycle == "weekly":
        return start + timedelta(days=7)
    return _add_months(start, 1 if cycle == "monthly" else 3, billing_day)


def period_containing(cycle: str, billing_day: int, d: date) -> Period:
    start = period_start_on_or_before(cycle, billing_day, d)
    return Period(start, next_period_start(cycle, billing_day, start) - timedelta(days=1))


def local_today(tz: str, now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(ZoneInfo(tz)).date()


def period_bounds_utc(period_start: date, period_end: date, tz: str) -> tuple[datetime, datetime]:
    """[start, end) in UTC for local dates start..end inclusive."""
    zone = ZoneInfo(tz)
    lo = datetime.combine(period_start, time(0), tzinfo=zone)
    hi = datetime.combine(period_end + timedelta(days=1), time(0), tzinfo=zone)
    return lo.astimezone(UTC), hi.astimezone(UTC)


def invoiceable_from(period_end: date, tz: str) -> datetime:
    """When a period ending on local date `period_end` may be invoiced: local midnight after it, plus the grace
    period (BILLING_GRACE_MINUTES) for late StopTransactions (UTC)."""
    _, closes = period_bounds_utc(period_end, period_end, tz)
    return closes + timedelta(minutes=get_settings().billing_grace_minutes)
