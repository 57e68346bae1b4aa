"""Focused OCPP fixtures: a real `ChargerConnection` on a fake websocket, a real database, a set clock.

Unlike tests/ocpp (a real socket, the `ocpp` library as the charger), these feed one frame at a time and
assert the exact text the central system sends back, as mobilityhouse/ocpp's own tests do.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from core.clock import clock
from core.config import get_settings
from models import Tariff
from ocpp_server.connection import ChargerConnection
from ocpp_server.server import OcppServer
from services.charging import idtags as idtag_svc
from services.ocpp import presence
from tests.utils.certs import csms_ca  # noqa: F401  (the CSMS CA fixture, security extension)
from tests.utils.factories import make_charger, make_org
from tests.utils.fake_ws import FakeWebSocket

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
NOW_TEXT = "2026-11-21T10:00:00Z"  # NOW as the central system writes it
HEARTBEAT_INTERVAL = 600  # not the default, so the BootNotification answer shows it comes from the settings


@dataclass
class Wire:
    """One charger's connection as the test sees it: send a frame, get the exact frame answered."""

    conn: ChargerConnection
    ws: FakeWebSocket

    async def send(self, frame: str | bytes) -> str:
        """Feed one frame from the charger and return the one frame the central system sent in reply."""
        before = len(self.ws.sent)
        self.ws.feed(frame)
        await self.conn.serve()
        replies = self.ws.sent[before:]
        assert len(replies) == 1, replies
        return replies[0]


@pytest.fixture
async def server(session, engine):
    """The gateway's shared parts (database access, batch writers) without a listening socket."""
    settings = get_settings().model_copy(update={"ocpp_heartbeat_interval": HEARTBEAT_INTERVAL})
    srv = OcppServer(settings=settings, engine=engine)
    yield srv
    await srv.stop()  # writes what is still queued and closes the writer connection


@pytest.fixture
def org(session):
    return make_org(session, slug="lanka", currency="LKR", timezone="Asia/Colombo")


@pytest.fixture
def charger(session, org):
    return make_charger(session, org, ocpp_id="CP-1", connectors=2)


@pytest.fixture
async def wire(server, charger) -> Wire:
    """CP-1 connected as the gateway leaves it before the first frame, with the clock at NOW."""
    clock.set(NOW)  # the `session` fixture sets it back
    identity = presence.ChargerIdentity(charger.id, charger.ocpp_id, charger.organization_id,
                                        charger.security_profile)
    ws = FakeWebSocket()
    conn = ChargerConnection(server, ws, identity)
    server.connections[charger.id] = conn
    await server.db(presence.mark_connected, charger_id=charger.id, token=conn.token, now=NOW)
    return Wire(conn, ws)


@pytest.fixture
def tag(session, org):
    """An accepted idTag of the charger's organization, and a tariff of 120 LKR per kWh."""
    session.add(Tariff(organization_id=org.id, name="Std", is_default=True, price_per_kwh=Decimal(120)))
    row = idtag_svc.create_id_tag(session=session, tag="LANKA-0001", organization=org)
    session.commit()
    return row
