"""Demo data for the security extension: a signed firmware image in each client organization's library
(signed at seed time with a throwaway demo key, so its signature verifies like a vendor's would) and a few
security events in the chargers' history. Rolling the image out from the Firmware page makes the simulated
chargers report Downloading … Installed."""
from __future__ import annotations

import base64
from datetime import timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import select
from sqlmodel import Session

from core.clock import utcnow
from models import AuditLog, Charger, FirmwareImage, Organization
from services.access.scope import system_scope
from services.ocpp import firmware_library, security_events

FIRMWARE = [("berlin-emobility", "1.5.0"), ("lanka-charge", "1.5.0"), ("gotham-power", "1.5.0")]
EVENTS = [  # ocpp_id, type, hours ago, techInfo
    ("DE-BER-001", "StartupOfTheDevice", 30, None),
    ("DE-BER-001", "TamperDetectionActivated", 6, "Enclosure door opened outside a service window"),
    ("DE-BER-001", "InvalidCentralSystemCertificate", 3, "Server certificate chain did not verify"),
    ("LK-COL-001", "FailedToAuthenticateAtCentralSystem", 20, "HTTP 401 on reconnect"),
    ("LK-COL-001", "SettingSystemTime", 2, None),
    ("US-NYC-001", "ResetOrReboot", 12, "Soft reset requested by the central system"),
]


def _signed(content: bytes) -> tuple[str, str]:
    """A throwaway vendor signing certificate and the base64 signature of `content` under its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Voltdesk Sim"),
                      x509.NameAttribute(NameOID.COMMON_NAME, "Voltdesk Sim firmware signing (demo)")])
    now = utcnow()
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=3650)).sign(key, hashes.SHA256()))
    signature = key.sign(content, ec.ECDSA(hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode(), base64.b64encode(signature).decode()


def seed_security(*, session: Session) -> int:
    created = 0
    for slug, version in FIRMWARE:
        org = session.execute(select(Organization).where(Organization.slug == slug)).scalar_one_or_none()
        if org is None or session.execute(select(FirmwareImage.id).where(
                FirmwareImage.organization_id == org.id, FirmwareImage.version == version)).first():
            continue
        content = (f"VS-22 firmware {version} for {org.name} (demo image)\n".encode() * 2048)
        certificate, signature = _signed(content)
        firmware_library.add_firmware(session=session, scope=system_scope(org.id), organization_id=org.id,
                                      version=version, filename=f"vs22-{version}.bin", content=content,
                                      signing_certificate=certificate, signature=signature)
        created += 1
    now = utcnow()
    for ocpp_id, event_type, hours, info in EVENTS:
        charger = session.execute(select(Charger).where(Charger.ocpp_id == ocpp_id)).scalar_one_or_none()
        if charger is None or session.execute(select(AuditLog.id).where(
                AuditLog.entity == "charger", AuditLog.entity_id == str(charger.id),
                AuditLog.action == "security_event", AuditLog.changes["type"].astext == event_type)).first():
            continue
        at = now - timedelta(hours=hours)
        security_events.security_event(session=session, charger_id=charger.id, event_type=event_type,
                                       timestamp=at.isoformat(), tech_info=info, now=at)
        created += 1
    session.flush()
    return created
