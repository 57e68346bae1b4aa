"""Small helpers shared by the OCPP services."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from core.errors import ValidationError
from core.events import EventType, notify
from models import ChargerStatusEvent

# A timestamp this far ahead of our clock is flagged as suspect (chargers drift a little).
FUTURE_TOLERANCE = timedelta(minutes=5)
# A message whose timestamp is older than this when it arrives was queued offline by the charger.
LATE_AFTER = timedelta(minutes=10)


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
                 occurred_at: datetime | None = None, received_at: datetime) -> None:
    """Record a status change and tell the web app (same transaction, so only committed changes are heard)."""
    session.add(ChargerStatusEvent(charger_id=charger_id, connector_id=connector_id, status=status,
                                   error_code=error_code, info=info, vendor_error_code=vendor_error_code,
                                   occurred_at=occurred_at, received_at=received_at))
    notify(session, {"type": EventType.CHARGER_STATUS, "charger_id": charger_id, "organization_id": organization_id,
                     "connector_id": connector_id, "status": status, "error_code": error_code})
