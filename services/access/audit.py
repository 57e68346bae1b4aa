"""The audit log: who changed what, when, old value → new value."""
from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from core.db import SYSTEM, session_scope
from models import AuditLog, Charger, LocationOwner, Organization, Tariff, User
from services.access.scope import Scope


def plain(value: Any) -> Any:
    """JSON-safe, exact: decimals and dates become strings."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    return value


def diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """{field: {"old": ..., "new": ...}} for the fields whose value changed."""
    return {k: {"old": plain(old.get(k)), "new": plain(v)} for k, v in new.items() if old.get(k) != v}


def record(*, session: Session, user_id: int | None, organization_id: int | None, entity: str, entity_id: Any,
           action: str, changes: dict[str, Any]) -> AuditLog:
    entry = AuditLog(user_id=user_id, organization_id=organization_id, entity=entity, entity_id=str(entity_id),
                     action=action, changes=plain(changes))
    session.add(entry)
    return entry


def record_system_scope(*, process: str) -> None:
    """A process without a user starts working in system scope (docs/adr/0010): that is itself on the record,
    with the host and process id, as an operator-wide entry."""
    with session_scope(SYSTEM) as session:
        record(session=session, user_id=None, organization_id=None, entity="system_scope",
               entity_id=f"{process}@{socket.gethostname()}:{os.getpid()}"[:64], action="start", changes={})


@dataclass(frozen=True)
class AuditRow:
    id: int
    created_at: datetime
    user_id: int | None
    user_email: str | None
    organization_id: int | None
    entity: str
    entity_id: str
    action: str
    changes: dict[str, Any]
    # "field:id" → the row's name, for the id fields of `changes` (the log stores ids; people read names).
    names: dict[str, str] = field(default_factory=dict)


# Id fields in changes, and the name column that labels them.
NAMED_IDS = {"organization_id": (Organization, Organization.name), "tariff_id": (Tariff, Tariff.name),
             "location_owner_id": (LocationOwner, LocationOwner.name), "charger_id": (Charger, Charger.ocpp_id)}


def _names(session: Session, entries: list[AuditLog]) -> dict[str, str]:
    wanted: dict[str, set[int]] = {}
    for e in entries:
        for key, change in (e.changes or {}).items():
            if key in NAMED_IDS:
                values = change.values() if isinstance(change, dict) else [change]
                wanted.setdefault(key, set()).update(v for v in values if isinstance(v, int))
    out = {}
    for key, ids in wanted.items():
        model, column = NAMED_IDS[key]
        for row_id, name in session.execute(select(model.id, column).where(model.id.in_(ids))):
            out[f"{key}:{row_id}"] = name
    return out


def list_entries(*, session: Session, scope: Scope, organization_id: int | None = None, entity: str | None = None,
                 entity_id: Any = None, limit: int = 100, offset: int = 0) -> list[AuditRow]:
    """Newest first, only entries of organizations in scope."""
    stmt = (select(AuditLog, User.email).outerjoin(User, User.id == AuditLog.user_id)
            .where(scope.org_filter(AuditLog.organization_id)))
    if organization_id is not None:
        stmt = stmt.where(AuditLog.organization_id == organization_id)
    if entity:
        stmt = stmt.where(AuditLog.entity == entity)
    if entity_id is not None:
        stmt = stmt.where(AuditLog.entity_id == str(entity_id))
    rows = session.execute(stmt.order_by(AuditLog.created_at.desc(), AuditLog.id.desc()).limit(limit)
                           .offset(offset)).all()
    names = _names(session, [a for a, _ in rows])
    return [AuditRow(a.id, a.created_at, a.user_id, email, a.organization_id, a.entity, a.entity_id, a.action,
                     a.changes, {k: v for k, v in names.items() if k.split(":")[0] in (a.changes or {})})
            for a, email in rows]
