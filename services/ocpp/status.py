"""BootNotification, StatusNotification and firmware/diagnostics status reports."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from core.events import EventType, notify
from models import AuditLog, Charger, Connector
from services.ocpp.common import FUTURE_TOLERANCE, require_connector, status_event
from services.ocpp.transactions import close_open_sessions

# Which connector status best describes the charger as a whole, most telling first.
# A connector in one of these has no session running: one still open lost its StopTransaction.
ENDED_STATUSES = ("Available", "Finishing")
_AGGREGATE_ORDER = ("Charging", "SuspendedEV", "SuspendedEVSE", "Finishing", "Preparing", "Reserved", "Available",
                    "Unavailable", "Faulted")


@dataclass(frozen=True)
class BootResult:
    status: str
    interval: int


def boot_notification(*, session: Session, charger_id: int, vendor: str, model: str, serial_number: str | None,
                      firmware_version: str | None, heartbeat_interval: int, now: datetime) -> BootResult:
    charger = session.get(Charger, charger_id, with_for_update=True)
    charger.vendor = vendor
    charger.model = model
    charger.serial_number = serial_number
    charger.firmware_version = firmware_version
    charger.last_boot_at = now
    charger.last_heartbeat_at = now
    session.add(charger)
    return BootResult("Accepted", heartbeat_interval)


def aggregate_status(statuses: list[str]) -> str | None:
    for status in _AGGREGATE_ORDER:
        if status in statuses:
            return status
    return None


def status_notification(*, session: Session, charger_id: int, connector_id: int, status: str, error_code: str,
                        info: str | None, vendor_error_code: str | None, timestamp: datetime | None,
                        now: datetime) -> bool:
    """Record the status event; update the live status unless a newer one is already known (a late message).

    The live status is ordered by receipt where the charger's clock runs ahead: a timestamp in the future
    counts as the moment it arrived (and its event is flagged `future_timestamp`), so one message stamped a
    day ahead cannot freeze the connector until that day.

    Connector 0 is the charger itself; other connectors set their own row and the charger's aggregate status.
    A connector the charger was not registered with is refused (PropertyConstraintViolation), not created.
    Available or Finishing closes the connector's sessions still open from before that status
    (services.ocpp.transactions: their StopTransaction was lost).
    Returns whether the live status changed.
    """
    conn = require_connector(session, charger_id=charger_id, connector_id=connector_id, zero=True)
    charger = session.get(Charger, charger_id, with_for_update=True)
    when = min(timestamp or now, now)
    err = None if error_code == "NoError" else error_code
    flags = ["future_timestamp"] if timestamp is not None and timestamp > now + FUTURE_TOLERANCE else []
    status_event(session, charger_id=charger_id, organization_id=charger.organization_id, connector_id=connector_id,
                 status=status, error_code=error_code, info=info, vendor_error_code=vendor_error_code,
                 occurred_at=timestamp, received_at=now, flags=flags)
    if connector_id != 0 and status in ENDED_STATUSES:
        close_open_sessions(session=session, charger_id=charger_id, connector_id=connector_id, until=when)
    if connector_id == 0:
        if charger.status_changed_at and when < charger.status_changed_at:
            return False
        charger.status = status
        charger.status_changed_at = when
        session.add(charger)
        return True
    if conn.status_at and when < conn.status_at:
        return False
    conn.status, conn.error_code, conn.info, conn.status_at = status, err, info, when
    session.add(conn)
    session.flush()
    statuses = list(session.execute(select(Connector.status).where(Connector.charger_id == charger_id)).scalars())
    aggregate = aggregate_status(statuses)
    if aggregate and aggregate != charger.status:
        charger.status = aggregate
        charger.status_changed_at = when
        session.add(charger)
    return True


def firmware_status(*, session: Session, charger_id: int, kind: EventType, status: str, now: datetime) -> None:
    """DiagnosticsStatusNotification / FirmwareStatusNotification: kept in the charger's audit trail."""
    charger = session.get(Charger, charger_id)
    session.add(AuditLog(organization_id=charger.organization_id, entity="charger", entity_id=str(charger_id),
                         action=kind, changes={"status": status}, created_at=now))
    notify(session, {"type": kind, "charger_id": charger_id, "organization_id": charger.organization_id,
                     "status": status})
