"""OCPP fixtures: the real server in-process on a free port, and real chargers (the `ocpp` library's ChargePoint)."""
from __future__ import annotations

import asyncio
import base64
import contextlib
import ssl
from collections.abc import AsyncIterator

import pytest
import websockets
from ocpp.v16 import ChargePoint as LibChargePoint
from ocpp.v16.call import Heartbeat

from tests.utils.certs import csms_ca  # noqa: F401  (the CSMS CA fixture, security extension)
from tests.utils.factories import make_charger, make_org

KEY = "test-auth-key-0123456789"


class Charger(LibChargePoint):
    """A charger for the tests. Subclasses add @on handlers for the calls the central system sends."""


def basic(ocpp_id: str, key: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{ocpp_id}:{key}".encode()).decode()}


@contextlib.asynccontextmanager
async def connect(server, ocpp_id: str, key: str | None = KEY, *, cls=Charger, scheme: str = "ws",
                  ssl_context: ssl.SSLContext | None = None, response_timeout: float = 10) -> AsyncIterator[Charger]:
    """A connected charger whose receive loop runs in the background."""
    headers = basic(ocpp_id, key) if key is not None else {}
    ws = await websockets.connect(f"{scheme}://127.0.0.1:{server.port}/ocpp/{ocpp_id}", subprotocols=["ocpp1.6"],
                                  additional_headers=headers, ssl=ssl_context, open_timeout=10)
    cp = cls(ocpp_id, ws, response_timeout=response_timeout)
    task = asyncio.create_task(cp.start())
    # The server marks the charger online before it serves the first frame: one Heartbeat makes that certain.
    await cp.call(Heartbeat())
    try:
        yield cp
    finally:
        task.cancel()
        await ws.close()
        with contextlib.suppress(BaseException):
            await task


async def until(predicate, timeout: float = 10.0, interval: float = 0.05):
    """Wait for an asynchronous effect (a batch write, a NOTIFY). Not a timing assertion: it only bounds the wait."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await asyncio.to_thread(predicate)
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met")
        await asyncio.sleep(interval)


@pytest.fixture
async def server(session, engine):
    from ocpp_server.server import OcppServer

    srv = await OcppServer(engine=engine).start(host="127.0.0.1", port=0)
    yield srv
    if not srv._stopping:
        await srv.stop()


@pytest.fixture
def org(session):
    return make_org(session, slug="lanka", currency="LKR", timezone="Asia/Colombo")


@pytest.fixture
def charger(session, org):
    return make_charger(session, org, ocpp_id="CP-1", connectors=2, auth_key=KEY)
