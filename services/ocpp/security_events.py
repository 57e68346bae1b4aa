"""SecurityEventNotification, LogStatusNotification and SignedFirmwareStatusNotification (OCPP 1.6 security
whitepaper, edition 3). Each is kept in the charger's audit trail, which the charger page shows as history."""
from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from core.events import EventType, notify
from models import AuditLog, Charger
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
