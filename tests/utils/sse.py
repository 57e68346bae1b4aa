"""An event stream read straight from the ASGI app: TestClient and httpx's ASGI transport wait for the end
of a response, and an SSE response never ends. This drives the app as a server does, chunk by chunk."""
from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Stream:
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    _chunks: asyncio.Queue = field(default_factory=asyncio.Queue)
    _buffer: str = ""

    async def next_event(self, timeout: float = 15.0) -> dict[str, Any]:
        """The next event (comments such as keep-alives are skipped): {"id", "event", "data"}."""
        async with asyncio.timeout(timeout):
            while True:
                while "\n\n" in self._buffer:
                    block, self._buffer = self._buffer.split("\n\n", 1)
                    fields = dict(line.split(": ", 1) for line in block.splitlines() if not line.startswith(":"))
                    if fields:
                        return {"id": int(fields["id"]), "event": fields["event"], "data": json.loads(fields["data"])}
                self._buffer += (await self._chunks.get()).decode()


@contextlib.asynccontextmanager
async def open_stream(app, path: str, headers: dict[str, str]) -> AsyncIterator[Stream]:
    stream, gone, started = Stream(), asyncio.Event(), asyncio.Event()
    scope = {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}, "http_version": "1.1",
             "method": "GET", "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
             "root_path": "", "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
             "client": ("127.0.0.1", 50000), "server": ("testserver", 80)}
    sent_request = False

    async def receive():
        nonlocal sent_request
        if not sent_request:
            sent_request = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message):
        if message["type"] == "http.response.start":
            stream.status = message["status"]
            stream.headers = {k.decode(): v.decode() for k, v in message["headers"]}
            started.set()
        elif message["type"] == "http.response.body":
            stream._chunks.put_nowait(message.get("body", b""))

    task = asyncio.create_task(app(scope, receive, send))
    await started.wait()
    try:
        yield stream
    finally:
        gone.set()
        with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(task, 10)
