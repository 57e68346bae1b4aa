"""Small helpers shared by the OCPP services."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlmodel import Session

from core.errors import ValidationError
from core.events import EventType, notify
from models import ChargerStatusEvent, Connector

# A timestamp this far ahead of our clock is flagged as suspect (chargers drift a little).
FUTURE_TOLERANCE = timedelta(minutes=5)
# A message whose timestamp is older than this when it arrives was queued offline by the charger.
LATE_AFTER = timedelta(minutes=10)
# OCPP's "integer" has no bound; our ids are 32-bit columns, and a meter register (Wh) beyond 10^15 is no meter.
INT32_MAX = 2**31 - 1
METER_MAX = 10**15


def bounded(value: int, field: str, *, low: int = 0, high: int = INT32_MAX) -> int:
    """Refuse (PropertyConstraintViolation) a number the database would refuse, before it gets there."""
    if not low <= value <= high:
        raise ValidationError(f"{value} is out of range ({low} to {high}).", field)
    return value


def meter_reading(value: int, field: str) -> int:
    return bounded(value, field, high=METER_MAX)


def require_connector(session: Session, *, charger_id: int, connector_id: int, zero: bool) -> Connector | None:
    """The charger's registered connector `connector_id` (None for 0, the charger itself, where `zero` allows
    it). A connector the charger was not registered with is refused, never created."""
    if zero and connector_id == 0:
        return None
    bounded(connector_id, "connectorId", low=0 if zero else 1)
    conn = session.execute(select(Connector).where(Connector.charger_id == charger_id,
                                                   Connector.connector_id == connector_id)).scalar_one_or_none()
    if conn is None:
        raise ValidationError(f"This charger has no connector {connector_id}.", "connectorId")
    return conn


def parse_ts(value: str | None, field: str = "timestamp") -> datetime | None:
    """An OCPP dateTime (RFC 3339). Without a zone it is read as UTC, which is what chargers mean."""
    if value is None:
        return None
    try:
        ts = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"'{value}' is not a valid dateTime.", field) from exc
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def status_event(session: Session, *, charger_id: int, organization_id: int, connector_id: int, status: str,
                 error_code: str | None = None, info: str | None = None, vendor_error_code: str | None = None,
                 occurred_at: datetime | None = None, received_at: datetime, flags: list[str] | None = None) -> None:
    """Record a status change and tell the web app (same transaction, so only committed changes are heard)."""
    session.add(ChargerStatusEvent(charger_id=charger_id, connector_id=connector_id, status=status,
                                   error_code=error_code, info=info, vendor_error_code=vendor_error_code,
                                   occurred_at=occurred_at, received_at=received_at, flags=flags or []))
    notify(session, {"type": EventType.CHARGER_STATUS, "charger_id": charger_id, "organization_id": organization_id,
                     "connector_id": connector_id, "status": status, "error_code": error_code})
