"""The command channel (docs/adr/0003-command-channel.md).

The web app or API inserts a ChargerCommand (pending) and sends NOTIFY on `voltdesk_commands`; the OCPP
process holding the charger's websocket claims it atomically, sends the call and writes the result, then
NOTIFYs `voltdesk_command_results`. `send_command` does all of that from the caller's side and waits.
"""
from __future__ import annotations

import decimal
import json
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from jsonschema import Draft4Validator
from ocpp.messages import get_validator
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from core.clock import utcnow
from core.config import get_settings
from core.errors import NotFound, ValidationError
from core.events import COMMAND_CHANNEL, notify
from models import Charger, ChargerCommand
from models.ops import CommandStatus
from services.access.permissions import Cap
from services.access.scope import Scope, get_in_scope

RESULT_CHANNEL = "voltdesk_command_results"

# Central-system-initiated OCPP 1.6 messages (Core, Firmware, Local auth list, Reservation, Remote trigger,
# Smart charging).
ACTIONS = (
    "CancelReservation", "ChangeAvailability", "ChangeConfiguration", "ClearCache", "ClearChargingProfile",
    "DataTransfer", "GetCompositeSchedule", "GetConfiguration", "GetDiagnostics", "GetLocalListVersion",
    "RemoteStartTransaction", "RemoteStopTransaction", "ReserveNow", "Reset", "SendLocalList",
    "SetChargingProfile", "TriggerMessage", "UnlockConnector", "UpdateFirmware",
)
# Answers meaning "the charger said no": the command failed, with the status as the error.
NEGATIVE = {"Rejected", "Failed", "UnlockFailed", "NotSupported", "Occupied", "Faulted", "Unavailable",
            "VersionMismatch", "UnknownMessageId", "UnknownVendorId", "NotImplemented"}
OFFLINE = "Charger is offline"
MAX_TIMEOUT = 300.0


def _validator(action: str, result: bool = False) -> Draft4Validator:
    # SetChargingProfile/RemoteStart carry decimals with a multipleOf: parse them exactly, as the ocpp lib does.
    exact = action in ("SetChargingProfile", "RemoteStartTransaction", "GetCompositeSchedule")
    return get_validator(3 if result else 2, action, "1.6", parse_float=decimal.Decimal if exact else float)


def validate_command(action: str, payload: Any) -> dict:
    """Check the action name and its payload against the OCPP 1.6 JSON schema; a clear message otherwise."""
    if action not in ACTIONS:
        raise ValidationError(f"Unknown command '{action}'. Use one of: {', '.join(ACTIONS)}.", "action")
    if not isinstance(payload, dict):
        raise ValidationError("The payload must be a JSON object.", "payload")
    exact = json.loads(json.dumps(payload), parse_float=decimal.Decimal)
    errors = sorted(_validator(action).iter_errors(exact), key=lambda e: list(e.path))
    if errors:
        e = errors[0]
        where = ".".join(str(p) for p in e.path)
        raise ValidationError(f"{action} payload{'.' + where if where else ''}: {e.message}",
                              "payload" + ("." + where if where else ""))
    return payload


@dataclass(frozen=True)
class CommandResult:
    id: int
    charger_id: int
    action: str
    status: str  # pending, sent, done, failed
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


def _claimed(rows) -> list[ClaimedCommand]:
    default = get_settings().ocpp_command_timeout_seconds
    return [ClaimedCommand(r.id, r.charger_id, r.action, r.payload, r.timeout_seconds or default) for r in rows]


def claim_command(*, session: Session, command_id: int, charger_ids: list[int]) -> ClaimedCommand | None:
    """Take one pending command for a charger this process holds. Atomic: two processes never both win."""
    rows = session.execute(text(
        "UPDATE charger_command SET status = 'sent' WHERE id = :id AND status = 'pending'"
        " AND charger_id = ANY(:chargers) RETURNING id, charger_id, action, payload, timeout_seconds"),
        {"id": command_id, "chargers": charger_ids}).all()
    claimed = _claimed(rows)
    return claimed[0] if claimed else None


def claim_pending(*, session: Session, charger_ids: list[int], limit: int = 100) -> list[ClaimedCommand]:
    """The sweep for missed notifications: pending commands of the chargers this process holds."""
    if not charger_ids:
        return []
    rows = session.execute(text(
        "UPDATE charger_command SET status = 'sent' WHERE id IN ("
        " SELECT id FROM charger_command WHERE status = 'pending' AND charger_id = ANY(:chargers)"
        " ORDER BY id LIMIT :limit FOR UPDATE SKIP LOCKED)"
        " RETURNING id, charger_id, action, payload, timeout_seconds"),
        {"chargers": charger_ids, "limit": limit}).all()
    return _claimed(rows)


def complete_command(*, session: Session, command_id: int, result: dict | None, error: str | None) -> None:
    """Write the charger's answer (or the error) and wake the waiting caller."""
    if error is None and isinstance(result, dict) and result.get("status") in NEGATIVE:
        error = str(result["status"])
    session.execute(text(
        "UPDATE charger_command SET status = :status, result = CAST(:result AS jsonb), error = :error,"
        " completed_at = :now WHERE id = :id AND status IN ('pending', 'sent')"),
        {"status": CommandStatus.FAILED if error else CommandStatus.DONE,
         "result": json.dumps(result) if result is not None else None, "error": error,
         "now": utcnow(), "id": command_id})
    notify(session, {"id": command_id}, RESULT_CHANNEL)


# --- the caller's side -------------------------------------------------------------------------------------

def _libpq_url(engine: Engine) -> str:
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def _fail_if(session: Session, command_id: int, status: str, error: str) -> None:
    session.execute(text("UPDATE charger_command SET status = 'failed', error = :error, completed_at = :now"
                         " WHERE id = :id AND status = :status"),
                    {"error": error, "now": utcnow(), "id": command_id, "status": status})


def send_command(*, engine: Engine, scope: Scope, charger_id: int, action: str, payload: dict,
                 requested_by: int | None = None, timeout: float | None = None) -> CommandResult:
    """Queue a command and wait for the charger's answer.

    Returns the final command: `done` with the charger's payload, or `failed` with a clear error:
    "Charger is offline", "Charger did not answer within N s", or the charger's negative status ("Rejected").
    """
    wait = timeout or get_settings().ocpp_command_timeout_seconds
    with psycopg.connect(_libpq_url(engine), autocommit=True) as listener:
        listener.execute(f"LISTEN {RESULT_CHANNEL}")
        with Session(engine, expire_on_commit=False) as session:
            cmd = create_command(session=session, scope=scope, charger_id=charger_id, action=action,
                                 payload=payload, requested_by=requested_by, timeout=timeout)
            session.commit()
            command_id = cmd.id
        # The OCPP process answers within `wait`; a little extra covers the round trips around it.
        deadline = time.monotonic() + wait + 5
        while True:
            with Session(engine, expire_on_commit=False) as session:
                cmd = session.get(ChargerCommand, command_id)
                if cmd.status in (CommandStatus.DONE, CommandStatus.FAILED):
                    return _result(cmd)
                remaining = deadline - time.monotonic()
                if remaining <= 0 or (cmd.status == CommandStatus.PENDING and remaining <= 5):
                    # Nobody claimed it in time: no OCPP process holds the charger.
                    _fail_if(session, command_id, CommandStatus.PENDING, OFFLINE)
                    _fail_if(session, command_id, CommandStatus.SENT, f"Charger did not answer within {wait:g} s")
                    session.commit()
                    session.refresh(cmd)
                    return _result(cmd)
            for _ in listener.notifies(timeout=min(remaining, 1.0), stop_after=1):
                pass
