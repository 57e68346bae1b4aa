"""A clock that tests can set. Everything that asks 'what time is it' asks this."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta


class Clock:
    def __init__(self) -> None:
        self._fixed: datetime | None = None

    def now(self) -> datetime:
        return self._fixed if self._fixed is not None else datetime.now(UTC)

    def set(self, when: datetime | None) -> None:
        if when is not None and when.tzinfo is None:
            raise ValueError("Clock needs a timezone-aware datetime")
        self._fixed = when

    def advance(self, delta: timedelta) -> None:
        self._fixed = self.now() + delta


clock = Clock()


def utcnow() -> datetime:
    return clock.now()
