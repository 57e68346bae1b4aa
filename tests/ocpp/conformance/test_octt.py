"""Every OCTT 1.6 central-system case with a recorded replay (docs/CONFORMANCE.md maps all 77 ids).

Each case connects a real charger over a websocket with HTTP Basic auth (security profile 1, as the OCTT
tool's CP16_SP1), replays the charger's frames and asserts the exact text of every frame we send.
"""
from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import websockets
from cryptography import x509
from sqlmodel import select
from websockets.exceptions import InvalidStatus

from core.clock import clock
from models import AuditLog, ChargerCertificate, ChargerCommand, IdTag, Organization, Tariff, Transaction
from services.access.scope import scope_for
from services.charging import idtags as idtag_svc
from services.ocpp import certificates, local_list
from services.ocpp.commands import send_command
from tests.ocpp.conformance import harness
from tests.ocpp.conftest import KEY, basic
from tests.utils.factories import make_charger, make_user

CASES = sorted((Path(__file__).parent / "cases").glob("TC_*.json"))
NOW = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
CP = "CP16_SP1"


@pytest.fixture
def octt_site(session, org):
    """What the OCTT tool expects configured (its pytest.ini): the charger and the id tags of each status."""
    session.add(Tariff(organization_id=org.id, name="Std", is_default=True, price_per_kwh=Decimal(120)))
    charger = make_charger(session, org, ocpp_id=CP, connectors=2, auth_key=KEY)
    for tag, status, expires in (("TAG-001", "Accepted", None), ("100000C01", "Accepted", None),
                                 ("100000C39B", "Accepted", None), ("100000C06", "Blocked", None),
                                 ("100000C07", "Accepted", datetime(2026, 1, 1, tzinfo=UTC)),
                                 ("GROUP001", "Accepted", None), ("MASTERC47", "Accepted", None),
                                 ("D001001", "Accepted", None), ("D001002", "Accepted", None)):
        idtag_svc.create_id_tag(session=session, tag=tag, organization=org, status=status, expires_at=expires)
    session.execute(select(IdTag).where(IdTag.tag == "MASTERC47")).scalar_one().parent_tag = "GROUP001"
    session.commit()
    return charger


def _stopped_with(reason: str):
    def check(session, charger, server) -> None:
        session.expire_all()
        tx = session.execute(select(Transaction).where(Transaction.charger_id == charger.id)
                             .order_by(Transaction.id.desc())).scalars().first()
        assert tx is not None and tx.stop_reason == reason, tx and tx.stop_reason
    return check


def _add_tag(tag: str):
    def add(session, charger, server) -> None:
        idtag_svc.create_id_tag(session=session, tag=tag, organization=session.get(Organization,
                                                                                   charger.organization_id))
    return add


def _list_matches(session, charger, server) -> None:
    view = local_list.get_local_list(session=session, scope=_admin(session), charger_id=charger.id)
    assert view.reported_version == view.version and not view.mismatch and view.pending == 0, view


async def _refuses_plain_basic_auth(session, charger, server) -> None:
    """After the upgrade to profile 2, the same charger connecting without TLS is refused at the handshake."""
    with pytest.raises(InvalidStatus) as refused:
        await websockets.connect(f"ws://127.0.0.1:{server.port}/ocpp/{CP}", subprotocols=["ocpp1.6"],
                                 additional_headers=basic(CP, KEY), open_timeout=10)
    assert refused.value.response.status_code == 403


async def _certificate_signed(session, charger, server) -> None:
    """The certificate sent in CertificateSigned was issued by the CSMS CA to this charger and recorded."""
    from_ca = session.execute(select(ChargerCommand).where(ChargerCommand.action == "CertificateSigned")
                              ).scalar_one()
    cert = x509.load_pem_x509_certificate(from_ca.payload["certificateChain"].encode())
    cert.verify_directly_issued_by(certificates.authority().cert)
    assert cert.subject.rfc4514_string() == f"CN={CP}"
    row = session.execute(select(ChargerCertificate)).scalar_one()
    assert row.serial == format(cert.serial_number, "x") and row.charger_id == charger.id


def _security_event(event_type: str):
    def check(session, charger, server) -> None:
        rows = session.execute(select(AuditLog.changes).where(AuditLog.action == "security_event")).scalars()
        assert event_type in [r["type"] for r in rows]
    return check


def _diagnostics_failed(session, charger, server) -> None:
    """The failed upload is on the charger's history, last, so the charger page says so."""
    rows = session.execute(select(AuditLog.changes).where(AuditLog.action == "diagnostics_status",
                                                          AuditLog.entity_id == str(charger.id))
                           .order_by(AuditLog.id)).scalars().all()
    assert [r["status"] for r in rows] == ["Uploading", "UploadFailed"]


def _admin(session):
    return scope_for(session, make_user(session, role="admin"))


# What a case expects the central system to have recorded, beyond the frames it sent.
CHECKS = {
    "stopped_with_unlock_command": _stopped_with("UnlockCommand"),
    "stopped_with_remote": _stopped_with("Remote"),
    "stopped_with_power_loss": _stopped_with("PowerLoss"),
    "add_tag_D001003": _add_tag("D001003"),
    "local_list_matches_the_charger": _list_matches,
    "profile_2_recorded": _refuses_plain_basic_auth,
    "certificate_signed_by_our_ca": _certificate_signed,
    "security_event_invalid_charge_point_certificate": _security_event("InvalidChargePointCertificate"),
    "security_event_invalid_central_system_certificate": _security_event("InvalidCentralSystemCertificate"),
    "security_event_invalid_firmware_signature": _security_event("InvalidFirmwareSignature"),
    "diagnostics_upload_failed_recorded": _diagnostics_failed,
}


def _trigger(step: dict, bindings: harness.Bindings, engine, scope, charger_id: int):
    """What makes the central system send its CALL: a command as the UI and API queue it, or a service that
    builds the payload itself (the local list)."""
    if "local_list" in step:
        return local_list.send_local_list(engine=engine, scope=scope, charger_id=charger_id,
                                          update_type=step["local_list"])
    if "list_version" in step:
        return local_list.check_version(engine=engine, scope=scope, charger_id=charger_id)
    return send_command(engine=engine, scope=scope, charger_id=charger_id, action=step["command"],
                        payload=bindings.fill(step["payload"]), timeout=10)


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
async def test_octt_case(path, server, session, engine, octt_site, csms_ca):
    case = harness.load(path)
    clock.set(NOW)
    scope = scope_for(session, make_user(session, role="admin"))
    session.commit()
    bindings = harness.Bindings()
    changed = False
    ws = await websockets.connect(f"ws://127.0.0.1:{server.port}/ocpp/{CP}", subprotocols=["ocpp1.6"],
                                  additional_headers=basic(CP, KEY), open_timeout=10)
    try:
        for step in case["steps"]:
            if "cp" in step:
                frame = bindings.fill(step["cp"])
                await ws.send(harness.dumps(frame))
                got = await harness.receive(ws)
                if "then" in step:
                    # Our answer and the CALL that follows it: answers first, whichever the socket gave first.
                    got, call = sorted([got, await harness.receive(ws)], key=lambda f: -json.loads(f)[0])
                    call_uid = json.loads(call)[1]
                    await ws.send(harness.dumps([3, call_uid, step["then"]["reply"]]))
                    if harness.RECORD:
                        text = bindings.recorded(call, call_uid)
                        changed |= step.get("then_cs") != text
                        step["then_cs"] = text
                    else:
                        assert call == bindings.expected(step["then_cs"], call_uid, call), step
                if frame[2] == "StartTransaction":
                    bindings.learn(got)
                uid = None
            elif "command" in step or "local_list" in step or "list_version" in step:
                waiting = asyncio.create_task(asyncio.to_thread(_trigger, step, bindings, engine, scope,
                                                                octt_site.id))
                got = await harness.receive(ws)
                uid = json.loads(got)[1]
                await ws.send(harness.dumps([3, uid, step["reply"]]))
                result = await waiting
                assert result.status == step.get("outcome", "done"), (result.status, result.error)
            else:
                done = CHECKS[step["check"]](session, octt_site, server)
                if asyncio.iscoroutine(done):
                    await done
                session.commit()
                continue
            if harness.RECORD:
                text = bindings.recorded(got, uid)
                changed |= step.get("cs") != text
                step["cs"] = text
            else:
                assert got == bindings.expected(step["cs"], uid, got), step
    finally:
        await ws.close()
    if harness.RECORD and changed:
        harness.save(path, case)


def test_every_case_file_is_listed_in_conformance_md():
    doc = (Path(__file__).parents[3] / "docs" / "CONFORMANCE.md").read_text()
    for path in CASES:
        assert f"tests/ocpp/conformance/cases/{path.name}" in doc, path.name
