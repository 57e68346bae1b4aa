"""An in-memory websocket for the OCPP server's focused tests: the charger's side of the wire, no socket."""
from __future__ import annotations

from collections import deque


class FakeWebSocket:
    """What `ChargerConnection` needs of a websocket: iterate over received frames, send, close.

    Frames fed with `feed()` are what the charger sends; iteration ends when none are left (the charger has
    nothing more to say for now), so `await conn.serve()` handles exactly the frames fed. Every frame the
    central system sends is recorded in `sent`, as the text that would go on the wire.
    """

    def __init__(self) -> None:
        self.incoming: deque[str | bytes] = deque()
        self.sent: list[str] = []
        self.closed: tuple[int, str] | None = None

    def feed(self, *frames: str | bytes) -> None:
        self.incoming.extend(frames)

    async def send(self, frame: str) -> None:
        if not isinstance(frame, str):
            raise TypeError("OCPP-J frames are text frames")
        self.sent.append(frame)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        self.closed = (code, reason)

    def __aiter__(self) -> FakeWebSocket:
        return self

    async def __anext__(self) -> str | bytes:
        if not self.incoming:
            raise StopAsyncIteration
        return self.incoming.popleft()
