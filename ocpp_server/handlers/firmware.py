"""Firmware management: DiagnosticsStatusNotification and FirmwareStatusNotification."""
from __future__ import annotations

from core.clock import utcnow
from core.events import EventType
from ocpp_server.handlers.registry import handles
from services.ocpp import status as status_svc


@handles("DiagnosticsStatusNotification")
async def diagnostics_status(conn, payload: dict) -> dict:
    await conn.db(status_svc.firmware_status, charger_id=conn.charger.id, kind=EventType.DIAGNOSTICS_STATUS,
                  status=payload["status"], now=utcnow())
    return {}


@handles("FirmwareStatusNotification")
async def firmware_status(conn, payload: dict) -> dict:
    await conn.db(status_svc.firmware_status, charger_id=conn.charger.id, kind=EventType.FIRMWARE_STATUS,
                  status=payload["status"], now=utcnow())
    return {}
