"""Security extension (OCPP 1.6 security whitepaper): SecurityEventNotification, LogStatusNotification,
SignedFirmwareStatusNotification and SignCertificate."""
from __future__ import annotations

from core.clock import utcnow
from ocpp_server.handlers.registry import handles
from services.ocpp import certificates as cert_svc
from services.ocpp import security_events as sec_svc


@handles("SecurityEventNotification")
async def security_event_notification(conn, payload: dict) -> dict:
    await conn.db(sec_svc.security_event, charger_id=conn.charger.id, event_type=payload["type"],
                  timestamp=payload["timestamp"], tech_info=payload.get("techInfo"), now=utcnow())
    return {}


@handles("LogStatusNotification")
async def log_status_notification(conn, payload: dict) -> dict:
    await conn.db(sec_svc.log_status, charger_id=conn.charger.id, status=payload["status"],
                  request_id=payload.get("requestId"), now=utcnow())
    return {}


@handles("SignedFirmwareStatusNotification")
async def signed_firmware_status_notification(conn, payload: dict) -> dict:
    await conn.db(sec_svc.signed_firmware_status, charger_id=conn.charger.id, status=payload["status"],
                  request_id=payload.get("requestId"), now=utcnow())
    return {}


@handles("SignCertificate")
async def sign_certificate(conn, payload: dict) -> dict:
    """Accepted means the CSR was signed: CertificateSigned follows through the command channel."""
    status = await conn.db(cert_svc.sign_certificate_request, charger_id=conn.charger.id, csr_pem=payload["csr"],
                           now=utcnow())
    return {"status": status}
