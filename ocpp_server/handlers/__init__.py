"""Handlers for the CALLs a charger sends, one module per message family.

A handler is `async def handler(conn, payload) -> dict`: it reads the (schema-checked) payload, calls a
service through `conn.db(...)` (a worker thread, so the event loop never blocks) and returns the
CALLRESULT payload.
"""
from __future__ import annotations

from ocpp_server.handlers import core, firmware, security, transactions  # noqa: F401  (registers the handlers)
from ocpp_server.handlers.registry import HANDLERS, Handler, handles

__all__ = ["HANDLERS", "Handler", "handles"]
