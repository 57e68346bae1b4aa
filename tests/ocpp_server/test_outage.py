"""The database unreachable: CALLs answered InternalError (the charger retries), handshakes refused with 503,
one log line per change of state. The server is real; its database is a port where nothing listens."""
from __future__ import annotations

import logging
import socket

import pytest
import websockets
from sqlalchemy import create_engine

from core.clock import clock
from core.config import get_settings
from ocpp_server.connection import ChargerConnection
from ocpp_server.server import OcppServer
from services.ocpp import presence
from tests.ocpp_server.conftest import NOW, Wire
from tests.utils.fake_ws import FakeWebSocket

INTERNAL_ERROR = ('[4,"{uid}","InternalError","An internal error occurred and the receiver was not able to process '
                  'the requested Action successfully",{{"cause":"The central system\'s database is unavailable; '
                  'retry later"}}]')


def _status(uid: str) -> str:
    return (f'[2,"{uid}","StatusNotification",{{"connectorId":1,"errorCode":"NoError","status":"Charging",'
            '"timestamp":"2026-11-21T10:00:00Z"}]')


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens there once the socket is closed


@pytest.fixture
def dead_engine(engine):
    url = engine.url.set(host="127.0.0.1", port=_closed_port())
    dead = create_engine(url, pool_pre_ping=True)
    yield dead
    dead.dispose()


@pytest.fixture
async def down_server(dead_engine):
    srv = OcppServer(settings=get_settings(), engine=dead_engine)
    yield srv
    await srv.stop()


@pytest.fixture
def down_wire(down_server, charger) -> Wire:
    clock.set(NOW)
    identity = presence.ChargerIdentity(charger.id, charger.ocpp_id, charger.organization_id,
                                        charger.security_profile)
    ws = FakeWebSocket()
    conn = ChargerConnection(down_server, ws, identity)
    down_server.connections[charger.id] = conn
    return Wire(conn, ws)


def _outage_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "ocpp_server" and r.getMessage().startswith(
        ("database down", "database back up"))]


async def test_calls_get_internal_error_and_the_log_has_one_down_line_for_all_of_them_then_one_up_line(
        down_wire, down_server, engine, caplog):
    caplog.set_level(logging.INFO, logger="ocpp_server")
    replies = [await down_wire.send(_status(f"s{i}")) for i in range(3)]
    assert replies == [INTERNAL_ERROR.format(uid=f"s{i}") for i in range(3)]
    assert [line.split(":")[0] for line in _outage_lines(caplog)] == ["database down"]
    assert not [r for r in caplog.records if r.exc_info]  # no traceback per message
    down_server.engine = engine  # the database is back
    assert await down_wire.send(_status("s9")) == '[3,"s9",{}]'
    assert [line.split(":")[0] for line in _outage_lines(caplog)] == ["database down", "database back up"]


async def test_a_handshake_while_the_database_is_down_is_refused_with_503(down_server, charger, caplog):
    caplog.set_level(logging.INFO, logger="ocpp_server")
    await down_server.start(host="127.0.0.1", port=0)
    for _ in range(2):
        with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
            await websockets.connect(f"ws://127.0.0.1:{down_server.port}/ocpp/CP-1", subprotocols=["ocpp1.6"],
                                     open_timeout=10)
        assert refused.value.response.status_code == 503
        assert refused.value.response.headers["Retry-After"] == "30"
    assert [line.split(":")[0] for line in _outage_lines(caplog)] == ["database down"]


async def test_meter_values_while_the_database_is_down_are_answered_internal_error_and_kept_by_the_charger(
        down_wire, down_server):
    frame = ('[2,"m1","MeterValues",{"connectorId":1,"meterValue":[{"timestamp":"2026-11-21T10:00:00Z",'
             '"sampledValue":[{"value":"1500"}]}]}]')
    # Not acknowledged: nothing is held in memory for later, the charger sends it again.
    assert await down_wire.send(frame) == INTERNAL_ERROR.format(uid="m1")
    assert down_server.meters.written == 0
