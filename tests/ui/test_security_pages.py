"""The security extension as a user meets it: the charger page's security sections and the firmware library,
driven in Chromium against simulated chargers (the demo's simulator) on a real OCPP server and Voltdesk's
file endpoint over real HTTP."""
from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from playwright.sync_api import expect
from sqlalchemy import select

from core.clock import utcnow
from models import ChargerCertificate, FirmwareImage, FirmwareRollout
from services.charging import idtags as idtag_svc
from services.ocpp import security_events
from tests.ocpp.conftest import KEY
from tests.ui.helpers import log_in
from tests.ui.ocpp_helpers import file_endpoint, simulated_chargers
from tests.utils.factories import make_charger, make_org, make_user

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
WAIT = 30_000  # ms: each step waits for the charger's answer over the command channel on a shared machine


def _signing_pair(content: bytes) -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test vendor firmware signing")])
    now = utcnow()
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=365)).sign(key, hashes.SHA256()))
    return (cert.public_bytes(serialization.Encoding.PEM).decode(),
            base64.b64encode(key.sign(content, ec.ECDSA(hashes.SHA256()))).decode())


def test_charger_page_shows_security_state_and_drives_the_charger(world, engine, database_url, page, screenshot):
    org = make_org(world, slug="secure")
    charger = make_charger(world, org, ocpp_id="SEC-1", auth_key=KEY, name="Secure site")
    idtag_svc.create_id_tag(session=world, tag="CARD-0001", organization=org)
    now = utcnow()
    world.add(ChargerCertificate(charger_id=charger.id, serial="abc123", subject="SEC-1",
                                 not_before=now - timedelta(days=355), not_after=now + timedelta(days=10),
                                 issued_at=now - timedelta(days=355)))
    security_events.security_event(session=world, charger_id=charger.id, event_type="TamperDetectionActivated",
                                   timestamp=now.isoformat(), tech_info="Enclosure opened", now=now)
    admin = make_user(world, role="admin")
    world.commit()

    with file_endpoint(database_url) as files, simulated_chargers(engine, ["SEC-1"], KEY, uploads_to=files):
        log_in(page, admin.email)
        page.goto(f"/chargers/{charger.id}")
        expect(page.locator("#security-history")).to_be_visible(timeout=WAIT)
        screenshot(page, "charger-security-loaded")
        # What the charger already reported, and a certificate close to expiry with its renewal.
        events = page.locator("#security-events .security-event-row")
        expect(events.first).to_contain_text("TamperDetectionActivated", timeout=WAIT)
        expect(events.first).to_contain_text("critical", timeout=WAIT)
        expect(events.first).to_contain_text("Enclosure opened", timeout=WAIT)
        expect(page.locator("#certificate-expiring")).to_be_visible(timeout=WAIT)
        expect(page.locator("#charger-certificates .certificate-row")).to_contain_text("Expiring", timeout=WAIT)
        expect(page.locator("#security-profile")).to_have_text("Profile 1", timeout=WAIT)

        # The local list: sent from the tags' current state, then the charger's version checked against it.
        page.locator("#security-SendLocalList").click()
        expect(page.locator("#security-answer")).to_contain_text("SendLocalList: answered", timeout=WAIT)
        expect(page.locator("#local-list-version")).to_have_text("1", timeout=WAIT)
        expect(page.locator("#local-list-entries .local-list-row")).to_contain_text("CARD-0001", timeout=WAIT)
        page.locator("#security-GetLocalListVersion").click()
        expect(page.locator("#local-list-reported")).to_have_text("1", timeout=WAIT)
        expect(page.locator("#local-list-mismatch")).to_have_count(0, timeout=WAIT)

        # GetLog: the charger uploads to the file endpoint, reports Uploaded, and the file downloads here.
        page.locator("#security-GetLog").click()
        upload = page.locator("#charger-uploads .upload-row").first
        expect(upload).to_contain_text("SecurityLog", timeout=WAIT)
        expect(upload).to_contain_text("Uploaded", timeout=WAIT)
        expect(upload).to_contain_text("received", timeout=WAIT)
        with page.expect_download() as download:
            upload.get_by_text("SEC-1-SecurityLog.log").click()
        assert "SEC-1 local list version 1" in open(download.value.path()).read()

        # A CA root: install it, read it back from the charger, delete it.
        page.locator("#security-ca-pem").fill(_signing_pair(b"x")[0])
        page.locator("#security-InstallCertificate").click()
        expect(page.locator("#security-answer")).to_contain_text("InstallCertificate: answered", timeout=WAIT)
        page.locator("#security-GetInstalledCertificateIds").click()
        installed = page.locator("#installed-certificates .installed-row")
        expect(installed).to_contain_text("CentralSystemRootCertificate", timeout=WAIT)
        screenshot(page, "charger-security")
        installed.get_by_role("button", name="Delete").click()
        expect(page.locator("#security-answer")).to_contain_text("DeleteCertificate: answered", timeout=WAIT)
        expect(page.locator("#security-answer-text")).to_contain_text("Accepted", timeout=WAIT)


def test_firmware_library_refuses_a_bad_signature_and_rolls_out_to_two_chargers(world, engine, page, screenshot):
    org = make_org(world, slug="fleet")
    other = make_org(world, slug="elsewhere")
    ids = []
    for ocpp_id in ("FW-1", "FW-2", "FW-3"):
        ids.append(make_charger(world, org, ocpp_id=ocpp_id, auth_key=KEY, name=f"Depot {ocpp_id[-1]}").id)
    world.add(FirmwareImage(organization_id=other.id, version="6.6.6", filename="theirs.bin", size=1,
                            sha256="0" * 64, signing_certificate="-", signature="-", token="theirs"))
    manager = make_user(world, role="network_manager", orgs=[org])
    world.commit()
    content = b"VS-22 firmware 2.0.0\n" * 500
    certificate, signature = _signing_pair(content)
    _, wrong = _signing_pair(content)  # another key's signature

    with simulated_chargers(engine, ["FW-1", "FW-2"], KEY):
        log_in(page, manager.email)
        page.goto("/firmware")
        expect(page.get_by_text("No firmware yet")).to_be_visible()  # the other organization's image is not here
        page.locator("#firmware-version").fill("2.0.0")
        page.locator("#firmware input[type=file]").set_input_files(
            files=[{"name": "vs22-2.0.0.bin", "mimeType": "application/octet-stream", "buffer": content}])
        page.locator("#firmware-certificate").fill(certificate)
        page.locator("#firmware-signature").fill(wrong)
        page.locator("#firmware-add").click()
        expect(page.locator("#firmware-error")).to_contain_text("does not verify")
        expect(page.locator("#firmware-table")).to_have_count(0)
        assert world.execute(select(FirmwareImage).where(FirmwareImage.organization_id == org.id)).first() is None

        page.locator("#firmware-signature").fill(signature)
        page.locator("#firmware-add").click()
        row = page.locator("#firmware-table .firmware-row")
        expect(row).to_have_count(1)
        expect(row).to_contain_text("2.0.0")
        expect(row).to_contain_text("Test vendor firmware signing")
        expect(row).to_contain_text("Not rolled out")

        # The rollout panel offers this organization's chargers; two are chosen.
        expect(page.locator("#rollout-chargers .rollout-charger")).to_have_count(3)
        page.locator("[data-charger=FW-1]").click()
        page.locator("[data-charger=FW-2]").click()
        page.locator("#rollout-start").click()
        statuses = page.locator("#rollout-table .rollout-row")
        expect(statuses).to_have_count(2)
        expect(statuses.nth(0)).to_contain_text("FW-1")
        expect(statuses.nth(0)).to_contain_text("Installed", timeout=30_000)
        expect(statuses.nth(1)).to_contain_text("FW-2")
        expect(statuses.nth(1)).to_contain_text("Installed", timeout=30_000)
        expect(row).to_contain_text("2 of 2 installed")
        screenshot(page, "firmware-rollout")
        # Each charger then reports the update as a security event (the simulator used to crash on sending it).
        for charger_id in ids[:2]:
            page.goto(f"/chargers/{charger_id}")
            expect(page.locator("#security-events")).to_contain_text("FirmwareUpdated", timeout=30_000)
    world.expire_all()
    assert sorted(r.charger_id for r in world.execute(select(FirmwareRollout)).scalars()) == ids[:2]
