"""The OCPP server's batch writers: async database connections on an event loop of their own, in one thread.

A batch is more than one round trip (a sample batch reads the sessions' highs, then writes; a frame-log batch
may read the sessions' owners, then copies). On the main loop each round trip waited for a whole loop
iteration, and under load an iteration serves thousands of frames: a 700-row batch of samples took 200 ms,
and every acknowledgement waited for it. On this loop a round trip waits only for the GIL (the server's
switch interval is 1 ms), and formatting a frame-log COPY no longer stalls the main loop for 100 ms.
"""
from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import psycopg

try:
    import uvloop
except ImportError:  # pragma: no cover (uvloop is in requirements.txt; the server runs without it too)
    uvloop = None


class Writers:
    """Named connections (one batch at a time each), opened on first use and dropped after a failure.

    `run` is awaited on the caller's loop; `fn(conn=..., **kwargs)` runs on the writers' loop and its
    exceptions (psycopg.OperationalError when the database is gone) reach the caller unchanged."""

    def __init__(self, url: str, names: tuple[str, ...], *, local: tuple[str, ...] = ()) -> None:
        self._url = url
        self._local = frozenset(local)  # run on the caller's loop: no hand-off between threads
        self._conns: dict[str, psycopg.AsyncConnection | None] = dict.fromkeys(names + local)
        self._locks: dict[str, asyncio.Lock] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def connected(self, name: str) -> bool:
        return self._conns[name] is not None

    def backend_pid(self, name: str) -> int | None:
        """The PostgreSQL backend of a writer's connection (for operators' pg_stat_activity, and tests)."""
        conn = self._conns[name]
        return conn.info.backend_pid if conn is not None else None

    def _ensure_started(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            self._loop = uvloop.new_event_loop() if uvloop else asyncio.new_event_loop()
            self._thread = threading.Thread(target=self._loop.run_forever, name="db-writers", daemon=True)
            self._thread.start()
        return self._loop

    async def run(self, name: str, fn: Callable[..., Any], kwargs: dict) -> Any:
        if name in self._local:
            return await self._run(name, fn, kwargs)
        loop = self._ensure_started()
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(self._run(name, fn, kwargs), loop))

    async def _run(self, name: str, fn: Callable[..., Any], kwargs: dict) -> Any:
        lock = self._locks.setdefault(name, asyncio.Lock())
        async with lock:
            conn = self._conns[name]
            try:
                if conn is None or conn.closed:
                    conn = self._conns[name] = await psycopg.AsyncConnection.connect(self._url, autocommit=True)
                return await fn(conn=conn, **kwargs)
            except psycopg.OperationalError:
                if conn is not None:
                    await conn.close()
                self._conns[name] = None
                raise

    async def close(self) -> None:
        """Close the connections and end the thread (after the last batch was written)."""
        await self._close(self._local)
        if self._loop is None:
            return
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(self._close(self._conns.keys() - self._local),
                                                                   self._loop))
        self._loop.call_soon_threadsafe(self._loop.stop)
        await asyncio.to_thread(self._thread.join)
        self._loop.close()
        self._loop = self._thread = None

    async def _close(self, names) -> None:
        for name in names:
            if (conn := self._conns[name]) is not None:
                await conn.close()
            self._conns[name] = None
