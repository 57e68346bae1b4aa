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
                 interval: float = 0.1, max_backlog: int = 200_000) -> None:
        self.name = name
        # A log, not acknowledged data: during an outage its oldest rows give way rather than exhaust memory.
        self.max_backlog = max_backlog
        self.dropped = 0
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
            self._trim()

    def extend(self, rows: list[Any]) -> None:
        self._rows.extend(rows)
        if len(self._rows) >= self.max_rows:
            self._wake.set()
            self._trim()

    def _trim(self) -> None:
        excess = len(self._rows) - self.max_backlog
        if excess > 0:
            if not self.dropped:
                log.warning("%s: backlog over %d rows, dropping the oldest", self.name, self.max_backlog)
            del self._rows[:excess]
            self.dropped += excess

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


class _Gathering:
    """The wait both group runners share: a batch is what has queued since the last one; an idle runner waits
    `window` seconds for company. None once stopping and nothing is left."""

    _queue: list
    _wake: asyncio.Event | None
    _stopping: bool
    window: float

    def _take(self) -> list:
        raise NotImplementedError

    async def _next_batch(self) -> list | None:
        if not self._queue:
            if self._stopping:
                return None
            self._wake.clear()
            await self._wake.wait()
            if self.window and not self._stopping:
                await asyncio.sleep(self.window)
        return self._take()


class GroupCommit(_Gathering):
    """Durable acknowledgement: each caller's rows are committed before `submit` returns, and the rows of every
    caller that arrives while a commit runs (or within `window` seconds of an idle writer) share the next COPY
    and commit.

    `submit` raises DatabaseUnavailable when the database cannot be reached (the handler answers InternalError
    and the charger keeps the message). At most `max_pending` rows wait: past that, `submit` waits for room
    (back-pressure; the charger's next frame waits in its socket) instead of growing an unbounded backlog.
    """

    def __init__(self, name: str, flush: Callable[[list[Any]], Awaitable[Any]], *, max_rows: int = 4000,
                 window: float = 0.002, max_pending: int = 20000) -> None:
        self.name = name
        self._flush = flush
        self.max_rows = max_rows
        self.window = window
        self.max_pending = max_pending
        self._queue: list[tuple[list[Any], asyncio.Future]] = []
        self._pending = 0
        self._wake: asyncio.Event | None = None
        self._room: asyncio.Condition | None = None
        self._task: asyncio.Task | None = None
        self._stopping = False
        self.written = 0

    def _ensure_started(self) -> None:
        if self._task is None:
            self._wake, self._room = asyncio.Event(), asyncio.Condition()
            self._task = asyncio.create_task(self._run(), name=f"group-commit-{self.name}")

    def start(self) -> None:
        self._ensure_started()

    async def submit(self, rows: list[Any]) -> None:
        if not rows:
            return
        if self._stopping:
            raise DatabaseUnavailable("the server is stopping")
        self._ensure_started()
        if self._pending >= self.max_pending:
            async with self._room:
                await self._room.wait_for(lambda: self._pending < self.max_pending or self._stopping)
        future = asyncio.get_running_loop().create_future()
        self._queue.append((rows, future))
        self._pending += len(rows)
        self._wake.set()
        await future

    async def flush(self) -> None:
        """Wait until everything submitted so far is committed (or refused)."""
        if self._queue:
            marker = asyncio.get_running_loop().create_future()
            self._queue.append(([], marker))
            self._wake.set()
            await asyncio.shield(marker)

    def _take(self) -> list[tuple[list[Any], asyncio.Future]]:
        taken, count = [], 0
        while self._queue and (not taken or count + len(self._queue[0][0]) <= self.max_rows):
            entry = self._queue.pop(0)
            taken.append(entry)
            count += len(entry[0])
        return taken

    async def _run(self) -> None:
        while (batch := await self._next_batch()) is not None:
            await self._commit(batch)
            self._pending -= sum(len(rows) for rows, _ in batch)
            async with self._room:
                self._room.notify_all()

    async def _commit(self, batch: list[tuple[list[Any], asyncio.Future]]) -> None:
        rows = [row for entry_rows, _ in batch for row in entry_rows]
        try:
            if rows:
                await self._flush(rows)
            self.written += len(rows)
            _settle(batch, None)
        except (DatabaseUnavailable, OperationalError, psycopg.OperationalError) as exc:
            _settle(batch, exc if isinstance(exc, DatabaseUnavailable) else DatabaseUnavailable(str(exc)))
        except Exception:
            # A bad message must not sink the others: commit each caller's rows on their own.
            log.exception("%s: batch of %d rows failed, writing each message on its own", self.name, len(rows))
            for entry in batch:
                await self._commit_one(entry)

    async def _commit_one(self, entry: tuple[list[Any], asyncio.Future]) -> None:
        rows, future = entry
        try:
            await self._flush(rows)
            self.written += len(rows)
            _settle([entry], None)
        except Exception as exc:  # noqa: BLE001 (handed to the waiting handler, which answers InternalError)
            _settle([entry], exc)

    async def stop(self) -> None:
        """Commit what is queued; the writer ends once the queue is empty."""
        self._stopping = True
        if self._task is None:
            return
        self._wake.set()
        async with self._room:
            self._room.notify_all()
        await self._task


def _settle(batch: list[tuple[list[Any], asyncio.Future]], exc: BaseException | None) -> None:
    for _, future in batch:
        if not future.done():
            if exc is None:
                future.set_result(None)
            else:
                future.set_exception(exc)


class GroupCall(_Gathering):
    """Callers that arrive together share one call of `run` (one transaction): each `submit` gets its own answer.

    `run(items)` returns one answer per item, in order. Items with the same `key` never share a batch (a later
    one waits for the next), so a batch can treat its items as independent. While a batch runs, new arrivals
    queue for the next; an idle runner waits `window` seconds for company. A failed batch raises
    DatabaseUnavailable in every caller of it (the caller answers 503: the charger retries).
    """

    def __init__(self, name: str, run: Callable[[list[Any]], Awaitable[list[Any]]], *,
                 key: Callable[[Any], Any] = id, max_items: int = 500, window: float = 0.002) -> None:
        self.name = name
        self._run_batch = run
        self._key = key
        self.max_items = max_items
        self.window = window
        self._queue: list[tuple[Any, asyncio.Future]] = []
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task | None = None
        self._stopping = False
        self.batches = 0
        self.items = 0

    def start(self) -> None:
        if self._task is None:
            self._wake = asyncio.Event()
            self._task = asyncio.create_task(self._run(), name=f"group-call-{self.name}")

    def submit(self, item: Any) -> asyncio.Future:
        """Queue `item`; the future resolves to its answer once its batch has committed."""
        if self._stopping:
            raise DatabaseUnavailable("the server is stopping")
        self.start()
        future = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        self._wake.set()
        return future

    def _take(self) -> list[tuple[Any, asyncio.Future]]:
        taken, keys, left = [], set(), []
        for entry in self._queue:
            key = self._key(entry[0])
            if len(taken) < self.max_items and key not in keys:
                keys.add(key)
                taken.append(entry)
            else:
                left.append(entry)
        self._queue = left
        return taken

    async def _run(self) -> None:
        while (batch := await self._next_batch()) is not None:
            if batch:
                await self._call(batch)

    async def _call(self, batch: list[tuple[Any, asyncio.Future]]) -> None:
        try:
            answers = await self._run_batch([item for item, _ in batch])
        except Exception as exc:
            if not isinstance(exc, DatabaseUnavailable | OperationalError | psycopg.OperationalError):
                log.exception("%s: batch of %d failed", self.name, len(batch))
            failure = exc if isinstance(exc, DatabaseUnavailable) else DatabaseUnavailable(str(exc))
            for _, future in batch:
                if not future.done():
                    future.set_exception(failure)
            return
        self.batches += 1
        self.items += len(batch)
        for (_, future), answer in zip(batch, answers, strict=True):
            if not future.done():
                future.set_result(answer)

    async def stop(self) -> None:
        """Run what is queued; the runner ends once the queue is empty."""
        self._stopping = True
        if self._task is None:
            return
        self._wake.set()
        await self._task
