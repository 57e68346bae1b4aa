"""Security profile 3: TLS with a client certificate issued by Voltdesk's CA to the charger's own id (OCTT
TC_087). A certificate of another charger, of another CA, or none at all is refused at the handshake."""
from __future__ import annotations

import ssl
from datetime import UTC, datetime

import pytest
import websockets
from cryptography.hazmat.primitives import serialization
from ocpp.v16 import call
from websockets.exceptions import InvalidStatus

from core.ca import load_csr, new_authority
from models import Charger
from ocpp_server.server import OcppServer, tls_context
from tests.ocpp.conftest import KEY, basic, connect
from tests.ocpp.test_security import _self_signed
from tests.utils.certs import make_csr
from tests.utils.factories import make_charger


def _client(tmp_path, ca, cn: str, server_cert) -> ssl.SSLContext:
    """A charger's TLS context: trusts the server, presents a certificate `ca` issued for `cn`."""
    csr, key = make_csr(cn)
    cert = ca.sign(load_csr(csr), now=datetime.now(UTC), days=30)
    cert_path, key_path = tmp_path / f"{cn}-{id(ca)}.pem", tmp_path / f"{cn}-{id(ca)}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    ctx = ssl.create_default_context(cafile=str(server_cert))
    ctx.load_cert_chain(str(cert_path), str(key_path))
    return ctx


async def _refused(server, ocpp_id: str, ctx: ssl.SSLContext) -> int:
    with pytest.raises(InvalidStatus) as exc:
        await websockets.connect(f"wss://127.0.0.1:{server.port}/ocpp/{ocpp_id}", subprotocols=["ocpp1.6"],
                                 ssl=ctx, open_timeout=10)
    return exc.value.response.status_code


@pytest.fixture
async def tls_server(engine, tmp_path, csms_ca):
    cert, key = _self_signed(tmp_path)
    srv = await OcppServer(engine=engine).start(host="127.0.0.1", port=0,
                                                ssl=tls_context(str(cert), str(key), str(tmp_path / "ca.pem")))
    yield srv, cert
    await srv.stop()


async def test_profile_3_charger_connects_with_its_certificate_from_our_ca_without_a_password(
        session, org, tls_server, csms_ca, tmp_path):
    srv, server_cert = tls_server
    charger = make_charger(session, org, ocpp_id="P3-1", security_profile=2)
    session.get(Charger, charger.id).security_profile = 3
    session.commit()
    async with connect(srv, "P3-1", key=None, scheme="wss",
                       ssl_context=_client(tmp_path, csms_ca, "P3-1", server_cert)) as cp:
        conf = await cp.call(call.BootNotification(charge_point_vendor="V", charge_point_model="M"))
        assert conf.status == "Accepted"


async def test_profile_3_charger_is_refused_with_another_chargers_certificate_or_none(
        session, org, tls_server, csms_ca, tmp_path):
    srv, server_cert = tls_server
    for ocpp_id in ("P3-1", "P3-2"):
        make_charger(session, org, ocpp_id=ocpp_id, security_profile=2)
        session.execute(Charger.__table__.update().where(Charger.ocpp_id == ocpp_id).values(security_profile=3))
    session.commit()
    assert await _refused(srv, "P3-1", _client(tmp_path, csms_ca, "P3-2", server_cert)) == 403
    assert await _refused(srv, "P3-1", ssl.create_default_context(cafile=str(server_cert))) == 403


async def test_a_certificate_from_another_ca_fails_the_tls_handshake(session, org, tls_server, tmp_path):
    srv, server_cert = tls_server
    make_charger(session, org, ocpp_id="P3-1", security_profile=2)
    rogue = new_authority("Rogue CA", now=datetime.now(UTC))
    with pytest.raises((ssl.SSLError, ConnectionError, OSError, websockets.exceptions.InvalidMessage)):
        await websockets.connect(f"wss://127.0.0.1:{srv.port}/ocpp/P3-1", subprotocols=["ocpp1.6"],
                                 ssl=_client(tmp_path, rogue, "P3-1", server_cert), open_timeout=10)


async def test_a_profile_2_charger_presenting_another_chargers_certificate_is_refused(
        session, org, tls_server, csms_ca, tmp_path):
    srv, server_cert = tls_server
    make_charger(session, org, ocpp_id="P2-1", security_profile=2)
    ctx = _client(tmp_path, csms_ca, "P2-9", server_cert)
    with pytest.raises(InvalidStatus) as exc:
        await websockets.connect(f"wss://127.0.0.1:{srv.port}/ocpp/P2-1", subprotocols=["ocpp1.6"], ssl=ctx,
                                 additional_headers=basic("P2-1", KEY),
                                 open_timeout=10)
    assert exc.value.response.status_code == 403
