"""Handlers for the CALLs a charger sends, one module per message family.

A handler is `async def handler(conn, payload) -> dict`: it reads the (schema-checked) payload, calls a
service through `conn.db(...)` (a worker thread, so the event loop never blocks) and returns the
CALLRESULT payload.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable

Handler = Callable[..., Awaitable[dict]]
HANDLERS: dict[str, Handler] = {}


def handles(action: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        HANDLERS[action] = fn
        return fn

    return register


from ocpp_server.handlers import core, firmware, transactions  # noqa: E402,F401  (registers the handlers)
