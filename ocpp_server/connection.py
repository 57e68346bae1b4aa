"""One charger's websocket: reads frames in order, dispatches CALLs, answers, and sends our own CALLs."""
from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any, Protocol

from core.clock import utcnow
from core.errors import NotFound, ValidationError
from ocpp_server.handlers import HANDLERS
from ocpp_server.outage import DatabaseUnavailable
from ocpp_server.protocol import (
    CALL,
    CALLERROR,
    CALLRESULT,
    V16_ACTIONS,
    OcppError,
    dumps,
    parse_frame,
    validate_call,
)
from services.ocpp.auth_key import redact_frame
from services.ocpp.frames import FrameRow
from services.ocpp.presence import ChargerIdentity

log = logging.getLogger("ocpp_server")


class Host(Protocol):
    """What a connection needs from the gateway that accepted it (OcppServer): no import of the server."""

    frames: Any  # BatchWriter of raw frames
    meters: Any  # GroupCommit of meter values (durable before the answer)
    settings: Any

    def db(self, fn: Any, **kwargs: Any) -> Any: ...

    def seen(self, conn: ChargerConnection, when: Any) -> None: ...


class CallFailed(Exception):
    """The charger answered our CALL with a CALLERROR."""

    def __init__(self, code: str, description: str) -> None:
        super().__init__(f"{code}: {description}" if description else code)
        self.code = code


class NotSent(Exception):
    """Our CALL's deadline passed while it queued behind the charger's other calls: it was never sent."""


def _tx_id(payload: Any) -> int | None:
    if isinstance(payload, dict):
        tx = payload.get("transactionId")
        return tx if type(tx) is int else None
    return None


class ChargerConnection:
    # Thousands of these live at once: slots keep each one small.
    __slots__ = ("_call_lock", "_pending", "charger", "generation", "server", "token", "touched_at", "ws")

    def __init__(self, server: Host, ws: Any, charger: ChargerIdentity, token: str | None = None) -> None:
        self.server = server
        self.ws = ws
        self.charger = charger
        self.token = token or uuid.uuid4().hex
        self.generation = 0  # the connection registry's generation, once the connection is registered
        self._pending: dict[str, asyncio.Future] | None = None
        self._call_lock: asyncio.Lock | None = None
        self.touched_at = None  # when liveness was last queued for the database

    def db(self, fn, **kwargs):
        return self.server.db(fn, **kwargs)

    def _log(self, direction: str, action: str | None, frame: str, tx: int | None, when=None) -> None:
        # Secrets (an AuthorizationKey being set) never reach the log.
        self.server.frames.put(FrameRow(self.charger.id, tx, direction, action, redact_frame(frame), when or utcnow()))

    async def send(self, frame: str, action: str | None = None, tx: int | None = None) -> None:
        self._log("out", action, frame, tx)
        await self.ws.send(frame)

    async def serve(self) -> None:
        """Frames are handled one after the other: a charger's queued messages are processed in order."""
        async for raw in self.ws:
            await self.on_frame(raw)

    async def on_frame(self, raw: str | bytes) -> None:
        received = utcnow()
        self.server.seen(self, received)
        text = raw if isinstance(raw, str) else raw.decode("utf-8", "replace")
        try:
            frame = parse_frame(raw)
        except OcppError as err:
            self._log("in", None, text, None, received)
            await self.send(err.frame())
            return
        if frame.type == CALL:
            result_tx = None
            try:
                result = await self._dispatch(frame)
                result_tx = _tx_id(result)
                reply = dumps([CALLRESULT, frame.unique_id, result])
            except OcppError as err:
                reply = err.frame(frame.unique_id)
            self._log("in", frame.action, text, _tx_id(frame.payload) or result_tx, received)
            await self.send(reply, frame.action, _tx_id(frame.payload) or result_tx)
            return
        # An answer to one of our CALLs.
        self._log("in", None, text, _tx_id(frame.payload), received)
        future = (self._pending or {}).pop(frame.unique_id, None)
        if future is None or future.done():
            log.warning("%s: answer to an unknown call %s ignored", self.charger.ocpp_id, frame.unique_id)
        elif frame.type == CALLRESULT:
            future.set_result(frame.payload)
        elif frame.type == CALLERROR:
            future.set_exception(CallFailed(frame.error_code or "GenericError", frame.error_description or ""))

    async def _dispatch(self, frame) -> dict:
        handler = HANDLERS.get(frame.action)
        if handler is None:
            if frame.action in V16_ACTIONS:
                raise OcppError("NotSupported", f"{frame.action} is not accepted from a charge point")
            raise OcppError("NotImplemented", f"Unknown action {frame.action!r}")
        validate_call(frame.action, frame.payload, frame.unique_id)
        try:
            return await handler(self, frame.payload)
        except ValidationError as exc:
            # A value the schema cannot check (a dateTime, a number in a string): nothing was written.
            raise OcppError("PropertyConstraintViolation", f"{exc.field}: {exc.message}") from exc
        except NotFound as exc:
            raise OcppError("PropertyConstraintViolation", str(exc)) from exc
        except DatabaseUnavailable as exc:
            # Nothing was written: InternalError makes the charger keep the message and retry (OCPP-J §4.8).
            raise OcppError("InternalError", "The central system's database is unavailable; retry later") from exc
        except Exception as exc:
            log.exception("%s: %s failed", self.charger.ocpp_id, frame.action)
            raise OcppError("InternalError", "The central system could not process the request") from exc

    async def call(self, action: str, payload: dict, timeout: float) -> Any:
        """Send a CALL and wait for its answer. One CALL at a time per charger, as OCPP-J requires.

        `timeout` covers queueing behind the charger's other calls as well as the answer: a CALL whose
        deadline passes before its turn raises NotSent and never goes out."""
        if self._call_lock is None:
            self._call_lock = asyncio.Lock()
            self._pending = {}
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            async with asyncio.timeout_at(deadline):
                await self._call_lock.acquire()
        except TimeoutError:
            raise NotSent(action) from None
        try:
            if loop.time() >= deadline:
                raise NotSent(action)
            unique_id = uuid.uuid4().hex
            future = loop.create_future()
            self._pending[unique_id] = future
            try:
                await self.send(dumps([CALL, unique_id, action, payload]), action, _tx_id(payload))
                return await asyncio.wait_for(future, deadline - loop.time())
            finally:
                self._pending.pop(unique_id, None)
        finally:
            self._call_lock.release()

    def close_pending(self) -> None:
        for future in (self._pending or {}).values():
            if not future.done():
                future.set_exception(ConnectionError("connection closed"))
