"""The signed firmware library: a file whose signature does not verify is refused; a rollout to two simulated
chargers reports Installed for both; chargers fetch the file from Voltdesk's own file endpoint."""
from __future__ import annotations

import asyncio
import base64
import sys
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import func, select
from starlette.testclient import TestClient

from core.ca import new_authority
from core.config import get_settings
from core.errors import ValidationError
from models import Charger, FirmwareImage
from ocpp_server import files
from services.access.scope import scope_for
from services.ocpp import firmware_library as fw
from tests.ocpp.conftest import KEY, until
from tests.utils.factories import make_charger, make_user

IMAGE = b"VS-22 firmware 1.5.0\n" * 100


@pytest.fixture
def upload_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("UPLOAD_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield tmp_path
    monkeypatch.undo()
    get_settings.cache_clear()


def _signed(content: bytes) -> tuple[str, str]:
    signer = new_authority("Firmware Signer", now=datetime.now(UTC))
    return signer.pem, base64.b64encode(signer.key.sign(content, ec.ECDSA(hashes.SHA256()))).decode()


def test_a_firmware_file_whose_signature_does_not_verify_is_refused_and_nothing_is_kept(session, org, upload_dir):
    scope = scope_for(session, make_user(session, role="admin"))
    cert, signature = _signed(b"another file")
    with pytest.raises(ValidationError, match="does not verify"):
        fw.add_firmware(session=session, scope=scope, organization_id=org.id, version="1.5.0", filename="fw.bin",
                        content=IMAGE, signing_certificate=cert, signature=signature)
    with pytest.raises(ValidationError, match="not a PEM"):
        fw.add_firmware(session=session, scope=scope, organization_id=org.id, version="1.5.0", filename="fw.bin",
                        content=IMAGE, signing_certificate="junk", signature=signature)
    assert session.scalar(select(func.count()).select_from(FirmwareImage)) == 0
    assert not list(upload_dir.rglob("*"))


def test_chargers_download_the_file_by_its_token_and_nothing_else(session, org, upload_dir):
    scope = scope_for(session, make_user(session, role="admin"))
    cert, signature = _signed(IMAGE)
    image = fw.add_firmware(session=session, scope=scope, organization_id=org.id, version="1.5.0",
                            filename="vs22-1.5.0.bin", content=IMAGE, signing_certificate=cert, signature=signature)
    session.commit()
    client = TestClient(files.create_app())
    path = fw.download_url(image).split("/", 3)[3]
    got = client.get("/" + path)
    assert got.status_code == 200 and got.content == IMAGE
    assert client.get(f"/firmware/not-the-token/{image.filename}").status_code == 404


async def test_a_signed_firmware_rollout_to_two_simulated_chargers_reports_installed_for_both(
        server, session, engine, org, upload_dir):
    ids = []
    for ocpp_id in ("SIM-0001", "SIM-0002"):
        ids.append(make_charger(session, org, ocpp_id=ocpp_id, auth_key=KEY).id)
    scope = scope_for(session, make_user(session, role="admin"))
    cert, signature = _signed(IMAGE)
    image = fw.add_firmware(session=session, scope=scope, organization_id=org.id, version="1.5.0",
                            filename="vs22-1.5.0.bin", content=IMAGE, signing_certificate=cert, signature=signature)
    session.commit()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ocpp_server.simulator", "--url", f"ws://127.0.0.1:{server.port}/ocpp",
        "--chargers", "2", "--auth-key", KEY, "--id-tags", "NONE", "--pace", "0.005", "--duration", "90",
        "--wait-for-server", "5", "--steady", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        def connected():
            session.expire_all()
            return session.scalar(select(func.count()).select_from(Charger).where(Charger.id.in_(ids),
                                                                                  Charger.connected)) == 2
        await until(connected, timeout=20)
        fw.start_rollout(session=session, scope=scope, firmware_id=image.id, charger_ids=ids)
        session.commit()

        def statuses():
            session.expire_all()
            return {r.ocpp_id: r.status for r in fw.rollout_status(session=session, scope=scope,
                                                                   firmware_id=image.id)}
        await until(lambda: set(statuses().values()) == {"Installed"}, timeout=60)
    finally:
        if proc.returncode is None:
            proc.terminate()
        output = (await proc.communicate())[0].decode()
    assert statuses() == {"SIM-0001": "Installed", "SIM-0002": "Installed"}, output[-3000:]
