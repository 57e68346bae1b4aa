"""Log and diagnostics uploads to Voltdesk's own file endpoint, so GetLog and GetDiagnostics need no outside
FTP server. Each request gets an upload URL with a random token (only its hash is stored) that admits one
upload of at most CHARGER_UPLOAD_MAX_BYTES; a larger one is cut off, refused, and nothing is kept."""
from __future__ import annotations

import hashlib
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from core.clock import utcnow
from core.config import get_settings
from core.errors import NotFound, ValidationError
from core.events import EventType
from models import AuditLog, Charger, ChargerUpload
from services.access.permissions import Cap
from services.access.scope import Scope, get_in_scope
from services.ocpp.commands import CommandResult, send_command

LOG_TYPES = ("DiagnosticsLog", "SecurityLog")


class TooLarge(Exception):
    pass


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def upload_dir() -> Path:
    return get_settings().upload_dir / "chargers"


def _new_upload(engine: Engine, scope: Scope, charger_id: int, kind: str) -> tuple[int, str]:
    token = secrets.token_urlsafe(24)
    with Session(engine) as session:
        scope.enter(session)
        get_in_scope(session, Charger, charger_id, scope)
        row = ChargerUpload(charger_id=charger_id, kind=kind, token_hash=_hash(token))
        session.add(row)
        session.commit()
        return row.id, f"{get_settings().file_endpoint_url.rstrip('/')}/upload/{token}"


def request_log(*, engine: Engine, scope: Scope, charger_id: int, log_type: str,
                requested_by: int | None = None) -> CommandResult:
    """GetLog (security extension) with an upload URL on Voltdesk's file endpoint; requestId = the upload."""
    scope.require(Cap.COMMAND_CHARGERS)
    if log_type not in LOG_TYPES:
        raise ValidationError("Log type must be DiagnosticsLog or SecurityLog.", "log_type")
    upload_id, url = _new_upload(engine, scope, charger_id, log_type)
    return send_command(engine=engine, scope=scope, charger_id=charger_id, action="GetLog", requested_by=requested_by,
                        payload={"logType": log_type, "requestId": upload_id, "log": {"remoteLocation": url}})


def request_diagnostics(*, engine: Engine, scope: Scope, charger_id: int,
                        requested_by: int | None = None) -> CommandResult:
    """GetDiagnostics uploading to the same endpoint: no outside FTP server needed."""
    scope.require(Cap.COMMAND_CHARGERS)
    _, url = _new_upload(engine, scope, charger_id, "Diagnostics")
    return send_command(engine=engine, scope=scope, charger_id=charger_id, action="GetDiagnostics",
                        payload={"location": url}, requested_by=requested_by)


async def receive(*, engine: Engine, token: str, filename: str | None, chunks: AsyncIterator[bytes]) -> ChargerUpload:
    """The file endpoint's side: find the waiting upload by its token, stream the body to disk under the size
    limit. Raises NotFound (unknown or used token) or TooLarge (the partial file is removed)."""
    with Session(engine, expire_on_commit=False) as session:
        row = session.execute(select(ChargerUpload).where(ChargerUpload.token_hash == _hash(token),
                                                          ChargerUpload.status == "waiting")).scalar_one_or_none()
        if row is None:
            raise NotFound("No upload is expected at this address.")
    limit = get_settings().charger_upload_max_bytes
    upload_dir().mkdir(parents=True, exist_ok=True)
    path = upload_dir() / f"{row.id}"
    size = 0
    try:
        with path.open("wb") as out:
            async for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise TooLarge(f"The upload is larger than {limit} bytes.")
                out.write(chunk)
    except TooLarge as exc:
        path.unlink(missing_ok=True)
        _finish(engine, row.id, status="refused", error=str(exc), size=None, filename=filename)
        raise
    return _finish(engine, row.id, status="received", error=None, size=size, filename=filename)


def _finish(engine: Engine, upload_id: int, *, status: str, error: str | None, size: int | None,
            filename: str | None) -> ChargerUpload:
    with Session(engine, expire_on_commit=False) as session:
        row = session.get(ChargerUpload, upload_id)
        row.status, row.error, row.size, row.received_at = status, error, size, utcnow()
        row.filename = (Path(filename).name[:255] if filename else None) or f"{row.kind}-{row.id}.bin"
        session.commit()
        return row


@dataclass(frozen=True)
class UploadRow:
    id: int
    kind: str
    status: str
    filename: str | None
    size: int | None
    error: str | None
    created_at: datetime
    received_at: datetime | None
    reported: str | None  # the charger's last LogStatusNotification / DiagnosticsStatusNotification for it


def _reported(session: Session, charger_id: int) -> tuple[dict[int, str], list[tuple[datetime, str]]]:
    """The charger's log statuses by requestId, and its diagnostics statuses in order (they carry no id)."""
    rows = session.execute(select(AuditLog.action, AuditLog.changes, AuditLog.created_at)
                           .where(AuditLog.entity == "charger", AuditLog.entity_id == str(charger_id),
                                  AuditLog.action.in_([EventType.LOG_STATUS, EventType.DIAGNOSTICS_STATUS]))
                           .order_by(AuditLog.created_at, AuditLog.id)).all()
    logs, diagnostics = {}, []
    for action, changes, at in rows:
        if action == EventType.LOG_STATUS and changes.get("requestId") is not None:
            logs[changes["requestId"]] = changes.get("status")
        elif action == EventType.DIAGNOSTICS_STATUS:
            diagnostics.append((at, changes.get("status")))
    return logs, diagnostics


def list_uploads(*, session: Session, scope: Scope, charger_id: int) -> list[UploadRow]:
    scope.require(Cap.VIEW_CHARGERS)
    get_in_scope(session, Charger, charger_id, scope)
    rows = list(session.execute(select(ChargerUpload).where(ChargerUpload.charger_id == charger_id)
                                .order_by(ChargerUpload.id.desc())).scalars())
    logs, diagnostics = _reported(session, charger_id)
    out, later = [], None  # newest first: a diagnostics status belongs to the newest request before it
    for r in rows:
        if r.kind == "Diagnostics":
            mine = [status for at, status in diagnostics if at >= r.created_at and (later is None or at < later)]
            reported = mine[-1] if mine else None
            later = r.created_at
        else:
            reported = logs.get(r.id)
        out.append(UploadRow(r.id, r.kind, r.status, r.filename, r.size, r.error, r.created_at, r.received_at,
                             reported))
    return out


def upload_file(*, session: Session, scope: Scope, charger_id: int, upload_id: int) -> tuple[Path, str]:
    """The stored file and its name, for the charger page's download link."""
    scope.require(Cap.VIEW_CHARGERS)
    get_in_scope(session, Charger, charger_id, scope)
    row = session.get(ChargerUpload, upload_id)
    if row is None or row.charger_id != charger_id or row.status != "received":
        raise NotFound("Upload not found.")
    return upload_dir() / str(row.id), row.filename
