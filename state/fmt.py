"""Turning service data into the plain strings the pages show."""
from __future__ import annotations

from datetime import UTC, datetime


def when(value: datetime | None) -> str:
    if value is None:
        return "Never"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def pages(total: int, per_page: int) -> int:
    return max(1, -(-total // per_page))
