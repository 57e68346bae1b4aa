"""Core profile: BootNotification, Heartbeat, StatusNotification, Authorize, DataTransfer."""
from __future__ import annotations

from core.clock import utcnow
from ocpp_server.handlers.registry import handles
from services.ocpp import authorize as auth_svc
from services.ocpp import status as status_svc
from services.ocpp.common import parse_ts


def _now_iso() -> str:
    return utcnow().isoformat().replace("+00:00", "Z")


@handles("BootNotification")
async def boot_notification(conn, payload: dict) -> dict:
    result = await conn.db(status_svc.boot_notification, charger_id=conn.charger.id,
                           vendor=payload["chargePointVendor"], model=payload["chargePointModel"],
                           serial_number=payload.get("chargePointSerialNumber") or payload.get("chargeBoxSerialNumber"),
                           firmware_version=payload.get("firmwareVersion"),
                           heartbeat_interval=conn.server.settings.ocpp_heartbeat_interval, now=utcnow())
    return {"status": result.status, "currentTime": _now_iso(), "interval": result.interval}


@handles("Heartbeat")
async def heartbeat(conn, payload: dict) -> dict:
    # Liveness is recorded for every frame (batched by the server), so a heartbeat costs no query.
    return {"currentTime": _now_iso()}


@handles("StatusNotification")
async def status_notification(conn, payload: dict) -> dict:
    timestamp = parse_ts(payload.get("timestamp"))
    await conn.db(status_svc.status_notification, charger_id=conn.charger.id, connector_id=payload["connectorId"],
                  status=payload["status"], error_code=payload["errorCode"], info=payload.get("info"),
                  vendor_error_code=payload.get("vendorErrorCode"), timestamp=timestamp, now=utcnow())
    return {}


@handles("Authorize")
async def authorize(conn, payload: dict) -> dict:
    info = await conn.db(auth_svc.authorize, charger_id=conn.charger.id, id_tag=payload["idTag"], now=utcnow())
    return {"idTagInfo": info}


@handles("DataTransfer")
async def data_transfer(conn, payload: dict) -> dict:
    # No vendor extensions are implemented; the frame itself is kept in the raw log.
    return {"status": "UnknownVendorId"}
