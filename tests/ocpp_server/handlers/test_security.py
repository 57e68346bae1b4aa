"""Security-extension handlers: the exact frame answered and what each leaves behind (audit trail, alert,
signed certificate, queued CertificateSigned)."""
from __future__ import annotations

import json

import psycopg
from cryptography import x509
from sqlalchemy import func, select

from core.db import libpq_url
from core.events import CHANNEL
from models import AuditLog, ChargerCertificate, ChargerCommand
from tests.ocpp_server.conftest import NOW
from tests.utils.certs import make_csr, weak_rsa_key


def _trail(session, charger) -> list[tuple]:
    rows = session.execute(select(AuditLog.action, AuditLog.changes)
                           .where(AuditLog.entity == "charger", AuditLog.entity_id == str(charger.id))
                           .order_by(AuditLog.id)).all()
    return [tuple(r) for r in rows]


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


async def test_security_event_notification_is_kept_on_the_charger_history(wire, session, charger):
    reply = await wire.send('[2,"s1","SecurityEventNotification",{"type":"InvalidChargePointCertificate",'
                            '"timestamp":"2026-11-21T09:59:00Z","techInfo":"chain does not verify"}]')
    assert reply == '[3,"s1",{}]'
    assert _trail(session, charger) == [("security_event", {
        "type": "InvalidChargePointCertificate", "timestamp": "2026-11-21T09:59:00+00:00", "critical": False,
        "techInfo": "chain does not verify"})]


async def test_security_event_notification_of_a_critical_type_raises_an_alert(wire, session, charger, engine):
    with psycopg.connect(libpq_url(engine), autocommit=True) as listener:
        listener.execute(f"LISTEN {CHANNEL}")
        reply = await wire.send('[2,"s2","SecurityEventNotification",{"type":"TamperDetectionActivated",'
                                '"timestamp":"2026-11-21T09:59:00Z"}]')
        events = [json.loads(n.payload) for n in listener.notifies(timeout=2)]
    assert reply == '[3,"s2",{}]'
    alert = {"type": "security_alert", "charger_id": charger.id, "organization_id": charger.organization_id,
             "event": "TamperDetectionActivated", "at": NOW.isoformat()}
    # Each live event also carries its event_log id (for the API's event stream, issue 15).
    assert any({k: e.get(k) for k in alert} == alert for e in events)
    assert _trail(session, charger)[0][1]["critical"] is True


async def test_security_event_notification_without_a_timestamp_is_refused_and_keeps_nothing(wire, session):
    reply = await wire.send('[2,"s3","SecurityEventNotification",{"type":"ResetOrReboot"}]')
    assert reply.startswith('[4,"s3","OccurenceConstraintViolation"')
    assert _count(session, AuditLog) == 0


async def test_log_status_notification_is_answered_empty_and_kept(wire, session, charger):
    reply = await wire.send('[2,"l1","LogStatusNotification",{"status":"Uploaded","requestId":4}]')
    assert reply == '[3,"l1",{}]'
    assert _trail(session, charger) == [("log_status", {"status": "Uploaded", "requestId": 4})]


async def test_signed_firmware_status_notification_is_answered_empty_and_kept(wire, session, charger):
    reply = await wire.send('[2,"f1","SignedFirmwareStatusNotification",{"status":"InvalidSignature",'
                            '"requestId":7}]')
    assert reply == '[3,"f1",{}]'
    assert _trail(session, charger) == [("signed_firmware_status", {"status": "InvalidSignature", "requestId": 7})]


async def test_sign_certificate_with_the_chargers_own_id_is_signed_recorded_and_sent(wire, session, charger,
                                                                                     csms_ca):
    csr, key = make_csr("CP-1")
    reply = await wire.send(json.dumps([2, "c1", "SignCertificate", {"csr": csr}], separators=(",", ":")))
    assert reply == '[3,"c1",{"status":"Accepted"}]'
    cmd = session.execute(select(ChargerCommand)).scalar_one()
    assert (cmd.action, cmd.status) == ("CertificateSigned", "pending")
    cert = x509.load_pem_x509_certificate(cmd.payload["certificateChain"].encode())
    cert.verify_directly_issued_by(csms_ca.cert)
    assert cert.subject.rfc4514_string() == "CN=CP-1" and cert.public_key() == key.public_key()
    row = session.execute(select(ChargerCertificate)).scalar_one()
    assert (row.serial, row.not_after) == (format(cert.serial_number, "x"), cert.not_valid_after_utc)


async def test_sign_certificate_for_another_id_or_with_a_weak_key_signs_nothing(wire, session, charger, csms_ca):
    other, _ = make_csr("CP-2")
    weak, _ = make_csr("CP-1", weak_rsa_key())
    for uid, csr in (("c2", other), ("c3", weak), ("c4", "not a csr")):
        reply = await wire.send(json.dumps([2, uid, "SignCertificate", {"csr": csr}], separators=(",", ":")))
        assert reply == f'[3,"{uid}",{{"status":"Rejected"}}]'
    assert _count(session, ChargerCertificate) == 0 and _count(session, ChargerCommand) == 0
    assert [c["reason"] for _, c in _trail(session, charger)] == [
        "The CSR names 'CP-2', not this charger's id.", "RSA key of 1024 bits: at least 2048 are required.",
        "The CSR is not a PEM-encoded PKCS#10 request."]
