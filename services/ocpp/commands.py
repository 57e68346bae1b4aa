"""The command channel (docs/adr/0003-command-channel.md).

The web app or API inserts a ChargerCommand (pending) and sends NOTIFY on `voltdesk_commands`; the OCPP
process holding the charger's websocket claims it atomically, sends the call and writes the result, then
NOTIFYs `voltdesk_command_results`. `send_command` does all of that from the caller's side and waits.

A command's timeout runs from its creation and covers everything: waiting to be claimed, queueing behind
the charger's other calls, and the charger's answer. A command not sent by then is `expired` and is never
sent, so a command reported failed cannot still reach the charger later. The outcome is the row's: the
caller settles only a command nobody claimed by its deadline; a claimed one is settled by the OCPP process
that claimed it, or by a survivor's sweep when that process dies (services/ocpp/registry.py). Payloads are
checked against the OCPP 1.6 request schema (formats included) before they are queued, and answers against the
response schema.
"""
from __future__ import annotations

import asyncio
import decimal
import functools
import json
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlparse

import psycopg
from jsonschema import Draft4Validator, FormatChecker
from ocpp.messages import get_validator
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from core.clock import utcnow
from core.config import get_settings
from core.db import libpq_url
from core.errors import NotFound, ValidationError
from core.events import COMMAND_CHANNEL, EventType, notify
from models import Charger, ChargerCommand
from models.ops import CommandStatus
from services.access.permissions import Cap
from services.access.scope import Scope, get_in_scope
from services.ocpp import auth_key, security_profile
from services.ocpp.common import parse_ts

RESULT_CHANNEL = "voltdesk_command_results"

# Central-system-initiated OCPP 1.6 messages (Core, Firmware, Local auth list, Reservation, Remote trigger,
# Smart charging).
ACTIONS = (
    "CancelReservation", "ChangeAvailability", "ChangeConfiguration", "ClearCache", "ClearChargingProfile",
    "DataTransfer", "GetCompositeSchedule", "GetConfiguration", "GetDiagnostics", "GetLocalListVersion",
    "RemoteStartTransaction", "RemoteStopTransaction", "ReserveNow", "Reset", "SendLocalList",
    "SetChargingProfile", "TriggerMessage", "UnlockConnector", "UpdateFirmware",
) + (
    # The security extension (OCPP 1.6 security whitepaper, edition 3).
    "CertificateSigned", "DeleteCertificate", "ExtendedTriggerMessage", "GetInstalledCertificateIds", "GetLog",
    "InstallCertificate", "SignedUpdateFirmware",
)
# Answers meaning "the charger said no": the command failed, with the status as the error.
NEGATIVE = {"Rejected", "Failed", "UnlockFailed", "NotSupported", "Occupied", "Faulted", "Unavailable",
            "VersionMismatch", "UnknownMessageId", "UnknownVendorId", "NotImplemented",
            "InvalidCertificate", "RevokedCertificate"}
OFFLINE = "Charger is offline"
EXPIRED = "Not sent: the command expired after {wait:g} s while waiting for the charger"
MAX_TIMEOUT = 300.0
# jsonschema checks "date-time" only with an optional package we do not install: the OCPP schemas' two
# formats are checked here, as the charger will read them.
FORMATS = FormatChecker([])


RFC3339 = re.compile(r"\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)?")


@FORMATS.checks("date-time")
def _date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True  # a wrong type is the "type" keyword's error
    if not RFC3339.fullmatch(value):
        return False
    try:
        parse_ts(value)
    except ValidationError:
        return False  # the right shape, an impossible date (2026-02-30)
    return True


@FORMATS.checks("uri", raises=ValueError)
def _uri(value: object) -> bool:
    if isinstance(value, str) and not urlparse(value).scheme:
        raise ValueError("not an absolute URI")
    return True


def _validator(action: str, result: bool = False) -> Draft4Validator:
    # SetChargingProfile/RemoteStart carry decimals with a multipleOf: parse them exactly, as the ocpp lib does.
    exact = action in ("SetChargingProfile", "RemoteStartTransaction", "GetCompositeSchedule")
    lib = get_validator(3 if result else 2, action, "1.6", parse_float=decimal.Decimal if exact else float)
    return Draft4Validator(lib.schema, format_checker=FORMATS)


def _first_error(action: str, payload: Any, result: bool) -> tuple[str, str] | None:
    """(where, message) of the first schema error, or None."""
    exact = json.loads(json.dumps(payload), parse_float=decimal.Decimal)
    errors = sorted(_validator(action, result).iter_errors(exact), key=lambda e: list(e.path))
    if not errors:
        return None
    e = errors[0]
    return ".".join(str(p) for p in e.path), e.message


def validate_command(action: str, payload: Any) -> dict:
    """Check the action name and its payload against the OCPP 1.6 JSON schema; a clear message otherwise."""
    if action not in ACTIONS:
        raise ValidationError(f"Unknown command '{action}'. Use one of: {', '.join(ACTIONS)}.", "action")
    if not isinstance(payload, dict):
        raise ValidationError("The payload must be a JSON object.", "payload")
    error = _first_error(action, payload, result=False)
    if error is not None:
        where, message = error
        raise ValidationError(f"{action} payload{'.' + where if where else ''}: {message}",
                              "payload" + ("." + where if where else ""))
    return payload


def answer_error(action: str, answer: Any) -> str | None:
    """Why the charger's answer does not conform to the OCPP 1.6 response schema, or None."""
    if not isinstance(answer, dict):
        return "Invalid answer from the charger: the payload is not a JSON object"
    error = _first_error(action, answer, result=True)
    if error is None:
        return None
    where, message = error
    return f"Invalid answer from the charger: {where + ': ' if where else ''}{message}"


@dataclass(frozen=True)
class CommandResult:
    id: int
    charger_id: int
    action: str
    status: str  # pending, sent, done, failed, expired
    result: dict | None
    error: str | None
    created_at: datetime
    completed_at: datetime | None


def _result(cmd: ChargerCommand) -> CommandResult:
    return CommandResult(cmd.id, cmd.charger_id, cmd.action, cmd.status, cmd.result, cmd.error, cmd.created_at,
                         cmd.completed_at)


def create_command(*, session: Session, scope: Scope, charger_id: int, action: str, payload: dict,
                   requested_by: int | None = None, timeout: float | None = None) -> ChargerCommand:
    """Queue a command for the OCPP process holding the charger. Fails at once when the charger is offline."""
    scope.require(Cap.COMMAND_CHARGERS)
    charger = get_in_scope(session, Charger, charger_id, scope)
    payload = validate_command(action, payload)
    security_profile.check_change(charger, action, payload)
    auth_key.refuse_plain_key(action, payload)
    if timeout is not None and not 0 < timeout <= MAX_TIMEOUT:
        raise ValidationError(f"Timeout must be between 0 and {MAX_TIMEOUT:.0f} seconds.", "timeout")
    now = utcnow()
    cmd = ChargerCommand(charger_id=charger.id, action=action, payload=payload, requested_by_id=requested_by,
                         timeout_seconds=timeout, created_at=now)
    if not charger.connected:
        cmd.status, cmd.error, cmd.completed_at = CommandStatus.FAILED, OFFLINE, now
    session.add(cmd)
    session.flush()
    if cmd.status == CommandStatus.PENDING:
        notify(session, {"id": cmd.id, "charger_id": charger.id}, COMMAND_CHANNEL)
    return cmd


def get_command(*, session: Session, scope: Scope, command_id: int) -> CommandResult:
    cmd = session.get(ChargerCommand, command_id)
    if cmd is None:
        raise NotFound("Command not found.")
    get_in_scope(session, Charger, cmd.charger_id, scope)  # NotFound outside the scope
    return _result(cmd)


# --- the OCPP process's side -------------------------------------------------------------------------------

@dataclass(frozen=True)
class ClaimedCommand:
    id: int
    charger_id: int
    action: str
    payload: dict
    timeout: float
    remaining: float  # seconds left of the timeout when it was claimed; it counts from the command's creation


def _claimed(rows) -> list[ClaimedCommand]:
    default = get_settings().ocpp_command_timeout_seconds
    now = utcnow()
    claimed = []
    for r in rows:
        timeout = r.timeout_seconds or default
        age = max(0.0, (now - r.created_at).total_seconds())
        claimed.append(ClaimedCommand(r.id, r.charger_id, r.action, r.payload, timeout, timeout - age))
    return claimed


_RETURNING = " RETURNING c.id, c.charger_id, c.action, c.payload, c.timeout_seconds, c.created_at"


# The claimant is the process holding the charger's current connection (the token matched).
_CLAIM = "UPDATE charger_command c SET status = 'sent', claimed_by_process_id = ch.connection_process_id"


def claim_command(*, session: Session, command_id: int, charger_id: int, token: str) -> ClaimedCommand | None:
    """Take one pending command for a charger whose current connection is ours (`token`, the connection
    registry of docs/adr/0008): a process holding an older socket never claims. Atomic: two processes never
    both win."""
    rows = session.execute(text(
        _CLAIM + " FROM charger ch WHERE c.id = :id AND c.status = 'pending'"
        " AND c.charger_id = :cid AND ch.id = c.charger_id AND ch.connection_token = :token" + _RETURNING),
        {"id": command_id, "cid": charger_id, "token": token}).all()
    claimed = _claimed(rows)
    return claimed[0] if claimed else None


def claim_pending(*, session: Session, held: dict[int, str], limit: int = 100) -> list[ClaimedCommand]:
    """The sweep for missed notifications: pending commands of the chargers whose current connection is ours
    (charger id -> connection token)."""
    if not held:
        return []
    rows = session.execute(text(
        _CLAIM + " FROM charger ch WHERE ch.id = c.charger_id AND c.id IN ("
        " SELECT p.id FROM charger_command p JOIN charger ch ON ch.id = p.charger_id"
        " JOIN unnest(CAST(:ids AS integer[]), CAST(:tokens AS text[])) AS h(id, token)"
        "   ON h.id = ch.id AND h.token = ch.connection_token"
        " WHERE p.status = 'pending' ORDER BY p.id LIMIT :limit FOR UPDATE OF p SKIP LOCKED)" + _RETURNING),
        {"ids": list(held), "tokens": list(held.values()), "limit": limit}).all()
    return _claimed(rows)


def complete_command(*, session: Session, command_id: int, action: str, result: Any, error: str | None,
                     expired: bool = False) -> None:
    """Write the charger's answer (or the error) and wake the waiting caller.

    `expired`: the command was never sent. An answer that breaks the 1.6 response schema is a failure."""
    if error is None and not expired:
        error = answer_error(action, result)
    if error is None and isinstance(result, dict) and result.get("status") in NEGATIVE:
        error = str(result["status"])
    status = CommandStatus.EXPIRED if expired else CommandStatus.FAILED if error else CommandStatus.DONE
    if status == CommandStatus.DONE:
        security_profile.on_answer(session, command_id, action, result)
    session.execute(text(
        "UPDATE charger_command SET status = :status, result = CAST(:result AS jsonb), error = :error,"
        " completed_at = :now WHERE id = :id AND status IN ('pending', 'sent')"),
        {"status": status,
         "result": json.dumps(auth_key.redact(result)) if result is not None else None, "error": error,
         "now": utcnow(), "id": command_id})
    notify(session, {"id": command_id}, RESULT_CHANNEL)
    # API clients' event streams get the result too (services/clients/events.py).
    done = session.execute(text(
        "SELECT c.charger_id, ch.organization_id, c.action, c.status FROM charger_command c"
        " JOIN charger ch ON ch.id = c.charger_id WHERE c.id = :id"), {"id": command_id}).first()
    if done is not None:
        notify(session, {"type": EventType.COMMAND_RESULT, "command_id": command_id, "charger_id": done[0],
                         "organization_id": done[1], "action": done[2], "status": done[3], "error": error})


PROCESS_DIED = "Outcome unknown: the OCPP process holding the charger stopped responding"


def fail_commands_of(session: Session, process_ids: list[int]) -> list[int]:
    """Sent commands claimed by processes found dead: nobody will write their outcome, so write it here and wake
    their callers. Whether the charger got the call is unknown; after its deadline it can no longer get it."""
    ids = session.execute(text(
        "UPDATE charger_command SET status = 'failed', error = :error, completed_at = :now"
        " WHERE status = 'sent' AND claimed_by_process_id = ANY(CAST(:pids AS integer[])) RETURNING id"),
        {"error": PROCESS_DIED, "now": utcnow(), "pids": list(process_ids)}).scalars().all()
    for command_id in ids:
        notify(session, {"id": command_id}, RESULT_CHANNEL)
    return list(ids)


# --- the caller's side -------------------------------------------------------------------------------------

FINAL = (CommandStatus.DONE, CommandStatus.FAILED, CommandStatus.EXPIRED)
# After the deadline, how long the caller waits for the outcome of a claimed command. The claiming process
# writes it at the deadline at the latest, or a survivor's sweep does within seconds of that process dying;
# this is the backstop for neither happening (a lone process killed). No command is sent after its deadline
# (ocpp_server/connection.py), so settling it then never reports failed a command that reaches the charger.
LATE_LIMIT = 60.0
# Command rows are created and re-read on threads of their own: a burst of commands queues here, not on the
# event loop's default executor that the rest of the API's blocking calls use.
_command_threads = ThreadPoolExecutor(max_workers=4, thread_name_prefix="commands")


class _ResultWaiter:
    """One LISTEN connection per process and database, shared by every waiting caller, so a wait holds no
    database connection of its own (a thousand waits must not exhaust the pool or the server)."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._lock = threading.Lock()
        self._events: dict[int, set[Any]] = {}
        self.listening = threading.Event()
        threading.Thread(target=self._run, name="command-results", daemon=True).start()

    def register(self, command_id: int, event: Any) -> None:
        """`event.set()` is called (on the listener's thread) when the command's result is announced."""
        with self._lock:
            self._events.setdefault(command_id, set()).add(event)

    def unregister(self, command_id: int, event: Any) -> None:
        with self._lock:
            events = self._events.get(command_id)
            if events is not None:
                events.discard(event)
                if not events:
                    del self._events[command_id]

    def _wake(self, command_id: int | None) -> None:
        with self._lock:
            if command_id is None:
                events = [e for es in self._events.values() for e in es]
            else:
                events = list(self._events.get(command_id, ()))
        for event in events:
            event.set()

    def _run(self) -> None:
        while True:
            try:
                with psycopg.connect(self._url, autocommit=True) as conn:
                    conn.execute(f"LISTEN {RESULT_CHANNEL}")
                    self.listening.set()
                    for note in conn.notifies():
                        try:
                            self._wake(int(json.loads(note.payload)["id"]))
                        except (ValueError, KeyError, TypeError):
                            continue
            except Exception:  # noqa: BLE001 (the waiters fall back to reading the row; retry shortly)
                self.listening.clear()
                self._wake(None)
                time.sleep(1.0)


_waiters: dict[str, _ResultWaiter] = {}
_waiters_lock = threading.Lock()


def _waiter(engine: Engine) -> _ResultWaiter:
    url = libpq_url(engine)
    with _waiters_lock:
        if url not in _waiters:
            _waiters[url] = _ResultWaiter(url)
        return _waiters[url]


def _finish_late(session: Session, command_id: int, status: str, final: str, error: str) -> None:
    session.execute(text("UPDATE charger_command SET status = :final, error = :error, completed_at = :now"
                         " WHERE id = :id AND status = :status"),
                    {"final": final, "error": error, "now": utcnow(), "id": command_id, "status": status})


def _poll(engine: Engine, scope: Scope, command_id: int, wait: float, late: float | None) -> CommandResult:
    """Read the command (a pooled connection for one statement). Past the deadline (`late` is the monotonic
    time of the backstop): settle it if still pending, or if still sent once the backstop has passed."""
    with Session(engine, expire_on_commit=False) as session:
        scope.enter(session)
        cmd = session.get(ChargerCommand, command_id)
        if late and cmd.status == CommandStatus.PENDING:
            # Unclaimed by its deadline: no OCPP process holds the charger, and the command will never be sent
            # (a claim needs it pending; a claim after the deadline expires it unsent).
            _finish_late(session, command_id, CommandStatus.PENDING, CommandStatus.EXPIRED, OFFLINE)
        elif late and cmd.status == CommandStatus.SENT and time.monotonic() >= late:
            _finish_late(session, command_id, CommandStatus.SENT, CommandStatus.FAILED,
                         f"No outcome from the OCPP process within {LATE_LIMIT:g} s of the {wait:g} s deadline")
        else:
            return _result(cmd)
        session.commit()  # whoever wrote first wins: re-read what the row says now
        session.refresh(cmd)
        return _result(cmd)


def _create(engine: Engine, **kwargs: Any) -> CommandResult:
    with Session(engine, expire_on_commit=False) as session:
        kwargs["scope"].enter(session)
        cmd = create_command(session=session, **kwargs)
        session.commit()
        return _result(cmd)


def _pause(status: str, deadline: float, listening: bool) -> float | None:
    """How long to wait for news of a command, or None when it is time to read it as late: at the deadline
    for an unclaimed command, then every few seconds until its outcome is written (LATE_LIMIT at most)."""
    now = time.monotonic()
    if now >= deadline + LATE_LIMIT or (status == CommandStatus.PENDING and now >= deadline):
        return None
    until = deadline if status == CommandStatus.PENDING else deadline + LATE_LIMIT
    return min(until - now, 5.0 if listening else 1.0)


def _late(deadline: float) -> float | None:
    return deadline + LATE_LIMIT if time.monotonic() >= deadline else None


def send_command(*, engine: Engine, scope: Scope, charger_id: int, action: str, payload: dict,
                 requested_by: int | None = None, timeout: float | None = None) -> CommandResult:
    """Queue a command and wait for the charger's answer.

    Returns the final command: `done` with the charger's payload, `failed` with a clear error ("Charger did
    not answer within N s", the charger's negative status such as "Rejected", an invalid answer, PROCESS_DIED
    when the OCPP process that sent it died), or `expired` when it was never sent. The wait holds no database
    connection: callers release their own session's connection (commit or close) before calling.
    """
    wait = timeout or get_settings().ocpp_command_timeout_seconds
    waiter = _waiter(engine)
    waiter.listening.wait(5.0)  # without the listener the loop below still reads the row every second
    cmd = _create(engine, scope=scope, charger_id=charger_id, action=action, payload=payload,
                  requested_by=requested_by, timeout=timeout)
    deadline = time.monotonic() + wait
    event = threading.Event()
    waiter.register(cmd.id, event)
    try:
        while cmd.status not in FINAL:
            pause = _pause(cmd.status, deadline, waiter.listening.is_set())
            if pause is not None:
                event.wait(pause)
                event.clear()
            cmd = _poll(engine, scope, cmd.id, wait, _late(deadline))
        return cmd
    finally:
        waiter.unregister(cmd.id, event)


class _LoopEvent:
    """An asyncio.Event the listener thread can set."""

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.event = asyncio.Event()

    def set(self) -> None:
        self.loop.call_soon_threadsafe(self.event.set)


async def send_command_async(*, engine: Engine, scope: Scope, charger_id: int, action: str, payload: dict,
                             requested_by: int | None = None, timeout: float | None = None) -> CommandResult:
    """`send_command` for an event loop (the REST API): the wait holds no database connection and no
    thread, so a thousand waiting commands leave the rest of the API its threads and its pool."""
    wait = timeout or get_settings().ocpp_command_timeout_seconds
    waiter = _waiter(engine)
    loop = asyncio.get_running_loop()

    def on_command_threads(fn, *args, **kwargs):
        return loop.run_in_executor(_command_threads, functools.partial(fn, *args, **kwargs))

    if not waiter.listening.is_set():
        await on_command_threads(waiter.listening.wait, 5.0)
    cmd = await on_command_threads(_create, engine, scope=scope, charger_id=charger_id, action=action,
                                   payload=payload, requested_by=requested_by, timeout=timeout)
    deadline = time.monotonic() + wait
    woken = _LoopEvent()
    waiter.register(cmd.id, woken)
    try:
        while cmd.status not in FINAL:
            pause = _pause(cmd.status, deadline, waiter.listening.is_set())
            if pause is not None:
                try:
                    await asyncio.wait_for(woken.event.wait(), pause)
                except TimeoutError:
                    pass
                woken.event.clear()
            cmd = await on_command_threads(_poll, engine, scope, cmd.id, wait, _late(deadline))
        return cmd
    finally:
        waiter.unregister(cmd.id, woken)


async def rotate_auth_key_async(*, engine: Engine, scope: Scope, charger_id: int, requested_by: int | None = None,
                                timeout: float | None = None) -> CommandResult:
    """Give the charger a new AuthorizationKey (services/ocpp/auth_key.py): generated and sent by the OCPP
    process holding it, stored only as a keyed hash, never shown."""
    return await send_command_async(engine=engine, scope=scope, charger_id=charger_id, action="ChangeConfiguration",
                                    payload=dict(auth_key.ROTATION), requested_by=requested_by, timeout=timeout)


def rotate_auth_key(*, engine: Engine, scope: Scope, charger_id: int, requested_by: int | None = None,
                    timeout: float | None = None) -> CommandResult:
    return send_command(engine=engine, scope=scope, charger_id=charger_id, action="ChangeConfiguration",
                        payload=dict(auth_key.ROTATION), requested_by=requested_by, timeout=timeout)
