"""Batch writers: rows are queued in memory and written together, so no sample costs a commit of its own."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import psycopg
from sqlalchemy.exc import OperationalError

from ocpp_server.outage import DatabaseUnavailable

log = logging.getLogger("ocpp_server.batch")


class BatchWriter:
    """Flush every `interval` seconds or at `max_rows` rows, whichever comes first; flush everything on stop."""

    def __init__(self, name: str, flush: Callable[[list[Any]], Awaitable[Any]], *, max_rows: int = 2000,
                 interval: float = 0.1) -> None:
        self.name = name
        self._flush = flush
        self.max_rows = max_rows
        self.interval = interval
        self._rows: list[Any] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._stopping = False
        self._lock = asyncio.Lock()  # one flush at a time, so batches commit in arrival order
        self.written = 0

    def put(self, row: Any) -> None:
        self._rows.append(row)
        if len(self._rows) >= self.max_rows:
            self._wake.set()

    def extend(self, rows: list[Any]) -> None:
        self._rows.extend(rows)
        if len(self._rows) >= self.max_rows:
            self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"batch-{self.name}")

    async def _run(self) -> None:
        while not self._stopping:
            try:
                await asyncio.wait_for(self._wake.wait(), self.interval)
            except TimeoutError:
                pass
            self._wake.clear()
            await self.flush()

    async def flush(self) -> None:
        async with self._lock:
            await self._flush_all()

    async def _flush_all(self) -> None:
        while self._rows:
            rows, self._rows = self._rows[:self.max_rows], self._rows[self.max_rows:]
            try:
                await self._flush(rows)
                self.written += len(rows)
            except DatabaseUnavailable:
                # Logged once by the server's availability; keep the rows and try again on the next round.
                self._rows[:0] = rows
                return
            except (OperationalError, psycopg.OperationalError):
                # The database is unreachable: keep the rows and try again on the next round.
                log.exception("%s: database unavailable, %d rows kept for retry", self.name, len(rows))
                self._rows[:0] = rows
                return
            except Exception:
                # A bad row must not sink the others: write them one by one, log what fails.
                log.exception("%s: batch of %d rows failed, writing one by one", self.name, len(rows))
                for row in rows:
                    try:
                        await self._flush([row])
                        self.written += 1
                    except Exception:
                        log.exception("%s: dropped row %r", self.name, row)

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._task:
            await self._task
        await self.flush()
