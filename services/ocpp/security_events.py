"""SecurityEventNotification, LogStatusNotification and SignedFirmwareStatusNotification (OCPP 1.6 security
whitepaper, edition 3). Each is kept in the charger's audit trail, which the charger page shows as history."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from core.events import EventType, notify
from models import AuditLog, Charger
from services.access.permissions import Cap
from services.access.scope import Scope, get_in_scope
from services.ocpp import firmware_library
from services.ocpp.common import parse_ts

# Whitepaper appendix "Security events": the types marked critical. Unknown (vendor) types are not critical.
CRITICAL = frozenset({
    "FirmwareUpdated", "SettingSystemTime", "StartupOfTheDevice", "ResetOrReboot", "SecurityLogWasCleared",
    "MemoryExhaustion", "TamperDetectionActivated",
})


def _trail(session: Session, charger: Charger, kind: EventType, changes: dict, now: datetime) -> None:
    session.add(AuditLog(organization_id=charger.organization_id, entity="charger", entity_id=str(charger.id),
                         action=kind, changes=changes, created_at=now))
    notify(session, {"type": kind, "charger_id": charger.id, "organization_id": charger.organization_id,
                     **{k: v for k, v in changes.items() if k != "techInfo"}})


def raise_alert(session: Session, charger: Charger, event_type: str, now: datetime) -> None:
    """The one place a critical security event becomes an alert. Until the notifications issue lands it is a
    live event (the browsers and any listener hear it); swap this body for its alert call then."""
    notify(session, {"type": EventType.SECURITY_ALERT, "charger_id": charger.id,
                     "organization_id": charger.organization_id, "event": event_type, "at": now.isoformat()})


def security_event(*, session: Session, charger_id: int, event_type: str, timestamp: str, tech_info: str | None,
                   now: datetime) -> None:
    charger = session.get(Charger, charger_id)
    when = parse_ts(timestamp)
    critical = event_type in CRITICAL
    changes = {"type": event_type, "timestamp": when.isoformat(), "critical": critical}
    if tech_info:
        changes["techInfo"] = tech_info
    _trail(session, charger, EventType.SECURITY_EVENT, changes, now)
    if critical:
        raise_alert(session, charger, event_type, now)


def log_status(*, session: Session, charger_id: int, status: str, request_id: int | None, now: datetime) -> None:
    changes = {"status": status} if request_id is None else {"status": status, "requestId": request_id}
    _trail(session, session.get(Charger, charger_id), EventType.LOG_STATUS, changes, now)


def signed_firmware_status(*, session: Session, charger_id: int, status: str, request_id: int | None,
                           now: datetime) -> None:
    changes = {"status": status} if request_id is None else {"status": status, "requestId": request_id}
    _trail(session, session.get(Charger, charger_id), EventType.SIGNED_FIRMWARE_STATUS, changes, now)
    firmware_library.record_status(session, charger_id=charger_id, request_id=request_id, status=status, now=now)


# What the charger page's security history shows: the charger's own reports and our refusals of its CSRs.
HISTORY_ACTIONS = (EventType.SECURITY_EVENT, EventType.LOG_STATUS, EventType.SIGNED_FIRMWARE_STATUS, "csr_refused")


@dataclass(frozen=True)
class SecurityRow:
    at: datetime  # when Voltdesk received it
    kind: str  # one of HISTORY_ACTIONS
    what: str  # the event type, or the reported status
    detail: str  # techInfo, the requestId, or why a CSR was refused
    critical: bool


def _row(log: AuditLog) -> SecurityRow:
    c = log.changes or {}
    if log.action == EventType.SECURITY_EVENT:
        return SecurityRow(log.created_at, log.action, c.get("type", ""), c.get("techInfo", ""),
                           bool(c.get("critical")))
    if log.action == "csr_refused":
        return SecurityRow(log.created_at, log.action, "Rejected", c.get("reason", ""), False)
    request = c.get("requestId")
    return SecurityRow(log.created_at, log.action, c.get("status", ""),
                       "" if request is None else f"request {request}", False)


def security_history(*, session: Session, scope: Scope, charger_id: int, limit: int = 50) -> list[SecurityRow]:
    """The charger's security events, log and signed-firmware progress and refused CSRs, newest first."""
    scope.require(Cap.VIEW_CHARGERS)
    get_in_scope(session, Charger, charger_id, scope)
    rows = session.execute(select(AuditLog).where(AuditLog.entity == "charger",
                                                  AuditLog.entity_id == str(charger_id),
                                                  AuditLog.action.in_([str(a) for a in HISTORY_ACTIONS]))
                           .order_by(AuditLog.created_at.desc(), AuditLog.id.desc()).limit(limit)).scalars()
    return [_row(r) for r in rows]
