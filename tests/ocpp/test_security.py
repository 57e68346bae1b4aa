"""Handshake: subprotocol, security profiles 0/1/2 and unknown chargers."""
from __future__ import annotations

import datetime as dt
import ssl

import pytest
import websockets
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from ocpp.v16 import call
from websockets.exceptions import InvalidStatus

from models import UnknownCharger
from tests.ocpp.conftest import KEY, basic, connect
from tests.utils.factories import make_charger


async def _status_of(server, ocpp_id, headers=None, subprotocols=("ocpp1.6",)):
    with pytest.raises(InvalidStatus) as exc:
        await websockets.connect(f"ws://127.0.0.1:{server.port}/ocpp/{ocpp_id}", subprotocols=list(subprotocols),
                                 additional_headers=headers or {})
    return exc.value.response.status_code


async def test_profile_1_accepts_the_right_key_and_refuses_a_wrong_or_missing_one(server, charger):
    async with connect(server, "CP-1") as cp:
        assert (await cp.call(call.Heartbeat())).current_time
    assert await _status_of(server, "CP-1", basic("CP-1", "wrong-key-0123456789")) == 401
    assert await _status_of(server, "CP-1") == 401
    # The username must be the charger's own id.
    assert await _status_of(server, "CP-1", basic("CP-2", KEY)) == 401


async def test_connection_without_ocpp16_subprotocol_is_refused(server, charger):
    assert await _status_of(server, "CP-1", basic("CP-1", KEY), subprotocols=()) == 400
    assert await _status_of(server, "CP-1", basic("CP-1", KEY), subprotocols=("ocpp2.0.1",)) == 400


async def test_profile_0_only_for_chargers_configured_for_it(server, session, org, charger):
    make_charger(session, org, ocpp_id="OPEN-1", security_profile=0)
    async with connect(server, "OPEN-1", key=None) as cp:
        assert (await cp.call(call.Heartbeat())).current_time
    assert await _status_of(server, "CP-1") == 401  # profile 1 charger without credentials


async def test_unknown_charger_is_refused_and_recorded_with_attempts(server, session):
    assert await _status_of(server, "GHOST-9", basic("GHOST-9", KEY)) == 404
    assert await _status_of(server, "GHOST-9", basic("GHOST-9", KEY)) == 404
    row = session.query(UnknownCharger).filter_by(ocpp_id="GHOST-9").one()
    assert row.attempts == 2 and row.remote_address == "127.0.0.1" and row.last_seen_at is not None


def _self_signed(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(__import__("ipaddress").ip_address(
                                                            "127.0.0.1"))]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


async def test_profile_2_connects_over_tls_with_basic_auth_and_is_refused_without_tls(session, engine, org,
                                                                                        server, tmp_path):
    from ocpp_server.server import OcppServer, tls_context

    make_charger(session, org, ocpp_id="TLS-1", security_profile=2)
    cert, key = _self_signed(tmp_path)
    tls_server = await OcppServer(engine=engine).start(host="127.0.0.1", port=0,
                                                       ssl=tls_context(str(cert), str(key)))
    try:
        client_ctx = ssl.create_default_context(cafile=str(cert))
        async with connect(tls_server, "TLS-1", scheme="wss", ssl_context=client_ctx) as cp:
            conf = await cp.call(call.BootNotification(charge_point_vendor="V", charge_point_model="M"))
            assert conf.status == "Accepted"
        with pytest.raises(InvalidStatus) as exc:
            await websockets.connect(f"wss://127.0.0.1:{tls_server.port}/ocpp/TLS-1", subprotocols=["ocpp1.6"],
                                     additional_headers=basic("TLS-1", "wrong-key-0123456789"), ssl=client_ctx)
        assert exc.value.response.status_code == 401
    finally:
        await tls_server.stop()
    # The same profile 2 charger on the plain listener is refused.
    assert await _status_of(server, "TLS-1", basic("TLS-1", KEY)) == 403
