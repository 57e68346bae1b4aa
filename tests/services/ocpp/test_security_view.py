"""What the charger page and the firmware page read: the firmware library in scope, a charger's security
history, its reported CA roots and upload statuses, and the demo data that makes them visible."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from core.errors import NotFound
from core.events import EventType
from demo.security import seed_security
from models import ChargerCommand, ChargerUpload, FirmwareImage, FirmwareRollout
from models.ops import CommandStatus
from services.access.permissions import PermissionDenied
from services.access.scope import scope_for, system_scope
from services.ocpp import certificates, firmware_library, security_events, uploads
from services.ocpp.security_view import charger_security
from services.ocpp.status import firmware_status
from tests.utils.factories import make_charger, make_org, make_user

NOW = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


@pytest.fixture
def two_orgs(session):
    a, b = make_org(session, slug="alpha"), make_org(session, slug="bravo")
    ca, cb = make_charger(session, a, ocpp_id="ALPHA-1"), make_charger(session, b, ocpp_id="BRAVO-1")
    session.commit()
    return a, b, ca, cb


def _image(session, org, version: str) -> FirmwareImage:
    row = FirmwareImage(organization_id=org.id, version=version, filename=f"fw-{version}.bin", size=10,
                        sha256="0" * 64, signing_certificate="not a pem", signature="c2ln", token=f"tok-{version}")
    session.add(row)
    session.flush()
    return row


def test_firmware_library_lists_only_the_images_in_scope_with_their_rollout_counts(session, two_orgs):
    a, b, ca, cb = two_orgs
    mine = _image(session, a, "1.0")
    _image(session, b, "9.9")
    session.add_all([FirmwareRollout(firmware_id=mine.id, charger_id=ca.id, status="Installed"),
                     FirmwareRollout(firmware_id=mine.id, charger_id=ca.id, status="Downloading")])
    session.commit()
    manager = scope_for(session, make_user(session, role="network_manager", orgs=[a]))
    rows = firmware_library.list_firmware(session=session, scope=manager)
    assert [(r.version, r.chargers, r.installed, r.signed_by) for r in rows] == [("1.0", 2, 1, "")]
    admin = scope_for(session, make_user(session, role="admin"))
    assert sorted(r.version for r in firmware_library.list_firmware(session=session, scope=admin)) == ["1.0", "9.9"]


def test_roles_without_the_firmware_capability_cannot_read_or_roll_out(session, two_orgs):
    a, _, ca, _ = two_orgs
    image = _image(session, a, "1.0")
    session.commit()
    cpo = scope_for(session, make_user(session, role="cpo", orgs=[a]))
    with pytest.raises(PermissionDenied):
        firmware_library.list_firmware(session=session, scope=cpo)
    with pytest.raises(PermissionDenied):
        firmware_library.start_rollout(session=session, scope=cpo, firmware_id=image.id, charger_ids=[ca.id])
    assert session.execute(select(FirmwareRollout)).first() is None


def test_security_history_shows_events_newest_first_and_only_to_the_chargers_organization(session, two_orgs):
    a, b, ca, _ = two_orgs
    security_events.security_event(session=session, charger_id=ca.id, event_type="SettingSystemTime",
                                   timestamp="2026-12-03T08:00:00Z", tech_info=None, now=NOW.replace(hour=8))
    security_events.security_event(session=session, charger_id=ca.id, event_type="InvalidFirmwareSignature",
                                   timestamp="2026-12-03T09:00:00Z", tech_info="bad sig", now=NOW.replace(hour=9))
    security_events.log_status(session=session, charger_id=ca.id, status="Uploaded", request_id=7, now=NOW)
    session.commit()
    scope = scope_for(session, make_user(session, role="cpo", orgs=[a]))
    rows = security_events.security_history(session=session, scope=scope, charger_id=ca.id)
    assert [(r.what, r.detail, r.critical) for r in rows] == [
        ("Uploaded", "request 7", False), ("InvalidFirmwareSignature", "bad sig", False),
        ("SettingSystemTime", "", True)]
    other = scope_for(session, make_user(session, role="cpo", orgs=[b]))
    with pytest.raises(NotFound):
        security_events.security_history(session=session, scope=other, charger_id=ca.id)


def test_uploads_carry_the_chargers_reported_status(session, two_orgs):
    a, _, ca, _ = two_orgs
    log = ChargerUpload(charger_id=ca.id, kind="SecurityLog", token_hash="a" * 64, created_at=NOW)
    diag = ChargerUpload(charger_id=ca.id, kind="Diagnostics", token_hash="b" * 64, created_at=NOW)
    session.add_all([log, diag])
    session.flush()
    security_events.log_status(session=session, charger_id=ca.id, status="Uploading", request_id=log.id, now=NOW)
    security_events.log_status(session=session, charger_id=ca.id, status="UploadFailure", request_id=log.id,
                               now=NOW)
    firmware_status(session=session, charger_id=ca.id, kind=EventType.DIAGNOSTICS_STATUS, status="UploadFailed",
                    now=NOW.replace(minute=5))
    session.commit()
    scope = scope_for(session, make_user(session, role="cpo", orgs=[a]))
    rows = {r.kind: r.reported for r in uploads.list_uploads(session=session, scope=scope, charger_id=ca.id)}
    assert rows == {"SecurityLog": "UploadFailure", "Diagnostics": "UploadFailed"}


def test_installed_ca_roots_come_from_the_last_answer_per_type_and_delete_needs_a_reported_one(session, engine,
                                                                                           two_orgs):
    a, _, ca, _ = two_orgs
    digest = {"hashAlgorithm": "SHA256", "issuerNameHash": "n" * 64, "issuerKeyHash": "k" * 64}
    for serial in ("01", "02"):  # the later answer replaces the earlier one
        session.add(ChargerCommand(charger_id=ca.id, action="GetInstalledCertificateIds",
                                   payload={"certificateType": "CentralSystemRootCertificate"},
                                   status=CommandStatus.DONE, completed_at=NOW,
                                   result={"status": "Accepted", "certificateHashData": [
                                       {**digest, "serialNumber": serial}]}))
        session.flush()
    session.commit()
    scope = scope_for(session, make_user(session, role="network_manager", orgs=[a]))
    rows = certificates.installed_certificates(session=session, scope=scope, charger_id=ca.id)
    assert [(r.certificate_type, r.serial_number) for r in rows] == [("CentralSystemRootCertificate", "02")]
    with pytest.raises(NotFound):
        certificates.delete_installed(engine=engine, scope=scope, charger_id=ca.id,
                                      certificate_type="CentralSystemRootCertificate", serial_number="01")
    assert session.execute(select(ChargerCommand).where(ChargerCommand.action == "DeleteCertificate")).first() is None


def test_charger_security_view_offers_only_higher_profiles(session, two_orgs):
    a, _, ca, _ = two_orgs
    scope = scope_for(session, make_user(session, role="admin"))
    view = charger_security(session=session, scope=scope, charger_id=ca.id, now=NOW)
    assert view.security_profile == ca.security_profile
    assert view.higher_profiles == [p for p in (0, 1, 2, 3) if p > ca.security_profile]


def test_demo_seed_adds_verifiable_firmware_and_security_events_once(session):
    org = make_org(session, slug="berlin-emobility")
    charger = make_charger(session, org, ocpp_id="DE-BER-001")
    session.commit()
    assert seed_security(session=session) == 4  # one image, three events at DE-BER-001
    session.commit()
    assert seed_security(session=session) == 0
    image = session.execute(select(FirmwareImage)).scalar_one()
    path, _ = firmware_library.file_for_token(session=session, token=image.token)
    firmware_library.verify_signature(path.read_bytes(), image.signing_certificate, image.signature)
    history = security_events.security_history(session=session, scope=system_scope(org.id), charger_id=charger.id)
    assert [h.what for h in history] == ["InvalidCentralSystemCertificate", "TamperDetectionActivated",
                                         "StartupOfTheDevice"]
