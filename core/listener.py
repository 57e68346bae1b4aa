"""The web backend's one listener: LISTEN voltdesk_events and fan each event out to subscribers.

Each web process runs one `EventHub`. Browser states subscribe with a filter for their scope and get the
events as they arrive; a slow subscriber drops its oldest events rather than blocking the others.
"""
from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import psycopg

from core.events import CHANNEL

log = logging.getLogger(__name__)
Event = dict[str, Any]


class EventHub:
    def __init__(self, queue_size: int = 1000) -> None:
        self._subscribers: set[asyncio.Queue[Event]] = set()
        self._queue_size = queue_size
        self.connected = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task | None = None

    def publish(self, event: Event) -> None:
        for queue in list(self._subscribers):
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(event)

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[Event]]:
        queue: asyncio.Queue[Event] = asyncio.Queue(self._queue_size)
        self._subscribers.add(queue)
        try:
            yield queue
        finally:
            self._subscribers.discard(queue)

    async def events(self, accept: Callable[[Event], bool] = lambda e: True) -> AsyncIterator[Event]:
        async with self.subscribe() as queue:
            while True:
                event = await queue.get()
                if accept(event):
                    yield event

    def ensure_running(self, dsn: str) -> None:
        """Start `run` on this event loop unless it already runs here: the REST API's event stream calls
        this, so it works when the API is served without the web app's lifespan task (tests, a bare ASGI
        server). Call from the loop."""
        loop = asyncio.get_running_loop()
        if self._loop is loop and self._task is not None and not self._task.done():
            return
        self._task = loop.create_task(self.run(dsn))

    async def run(self, dsn: str, channel: str = CHANNEL) -> None:
        """LISTEN forever, reconnecting after errors."""
        self._loop, self._task = asyncio.get_running_loop(), asyncio.current_task()
        delay = 0.5
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
                    await conn.execute(f"LISTEN {channel}")
                    self.connected.set()
                    delay = 0.5
                    async for note in conn.notifies():
                        try:
                            self.publish(json.loads(note.payload))
                        except json.JSONDecodeError:
                            log.warning("ignoring a malformed event: %r", note.payload[:200])
            except asyncio.CancelledError:
                raise
            except Exception:  # the database went away: keep trying, the UI shows stale data meanwhile
                self.connected.clear()
                log.exception("event listener lost its connection; retrying in %.1fs", delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10)


def libpq_dsn(url: str) -> str:
    """psycopg wants a libpq URL, not SQLAlchemy's `postgresql+psycopg://`."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


hub = EventHub()
