"""The security extension over the API: a firmware upload whose signature does not verify is a 422 and keeps
nothing; a certificate near expiry is flagged for renewal."""
from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import func, select

from core.ca import new_authority
from core.clock import clock
from core.config import get_settings
from models import ChargerCertificate, FirmwareImage
from tests.utils.factories import make_charger, make_org, make_user

IMAGE = b"firmware 2.0\n" * 50


@pytest.fixture
def upload_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("UPLOAD_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield tmp_path
    monkeypatch.undo()
    get_settings.cache_clear()


def _body(org_id: int, signed: bytes) -> dict:
    signer = new_authority("Signer", now=datetime.now(UTC))
    return {"organization_id": org_id, "version": "2.0", "filename": "fw-2.0.bin",
            "content_base64": base64.b64encode(IMAGE).decode(), "signing_certificate": signer.pem,
            "signature": base64.b64encode(signer.key.sign(signed, ec.ECDSA(hashes.SHA256()))).decode()}


def test_firmware_upload_is_verified_before_it_is_kept(session, client, auth_header, upload_dir):
    org = make_org(session, slug="fw-org")
    headers = auth_header(make_user(session, role="technical"))
    r = client.post("/api/v1/firmware", json=_body(org.id, b"something else"), headers=headers)
    assert r.status_code == 422 and "does not verify" in r.json()["message"]
    assert session.scalar(select(func.count()).select_from(FirmwareImage)) == 0
    r = client.post("/api/v1/firmware", json=_body(org.id, IMAGE), headers=headers)
    assert r.status_code == 201 and r.json()["size"] == len(IMAGE)
    assert r.json()["download_url"].startswith(get_settings().file_endpoint_url + "/firmware/")


def test_a_certificate_close_to_expiry_is_flagged_for_renewal(session, client, auth_header):
    org = make_org(session, slug="cert-org")
    charger = make_charger(session, org, ocpp_id="CERT-1")
    now = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
    clock.set(now)
    for serial, days in (("a1", 400), ("b2", 10)):
        session.add(ChargerCertificate(charger_id=charger.id, serial=serial, subject="CERT-1",
                                       not_before=now - timedelta(days=1), not_after=now + timedelta(days=days),
                                       issued_at=now))
    session.commit()
    r = client.get(f"/api/v1/chargers/{charger.id}/certificates",
                   headers=auth_header(make_user(session, role="network_manager", orgs=[org])))
    assert r.status_code == 200
    assert [(c["serial"], c["expiring"], c["expired"]) for c in r.json()] == [("a1", False, False),
                                                                               ("b2", True, False)]
    other = auth_header(make_user(session, role="network_manager", orgs=[make_org(session, slug="else")]))
    assert client.get(f"/api/v1/chargers/{charger.id}/certificates", headers=other).status_code == 404
