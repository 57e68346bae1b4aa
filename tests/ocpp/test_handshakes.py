"""Handshakes over real sockets: chargers connecting together share batches (docs/adr/0013) and each one is
checked and registered exactly as when it connects alone."""
from __future__ import annotations

import asyncio
import contextlib

import websockets
from ocpp.v16 import call
from sqlalchemy import func, select, text

from models import Charger, ChargerStatusEvent
from tests.ocpp.conftest import KEY, basic, connect
from tests.utils.factories import make_charger


async def test_chargers_connecting_together_are_all_online_with_their_status_events(server, session, org):
    ids = [make_charger(session, org, ocpp_id=f"CP-B{n}", connectors=1, auth_key=KEY).ocpp_id for n in range(25)]
    async with contextlib.AsyncExitStack() as stack:
        chargers = await asyncio.gather(*(stack.enter_async_context(connect(server, i)) for i in ids))
        answers = await asyncio.gather(*(cp.call(call.Heartbeat()) for cp in chargers))
        assert all(a.current_time for a in answers)
        session.expire_all()
        rows = session.execute(select(Charger).where(Charger.ocpp_id.in_(ids))).scalars().all()
        assert {r.ocpp_id for r in rows if r.connected and r.status == "Available"} == set(ids)
        assert {server.connections[r.id].token for r in rows} == {r.connection_token for r in rows}
        connected = session.execute(select(func.count()).select_from(ChargerStatusEvent)
                                    .where(ChargerStatusEvent.info == "Connected")).scalar_one()
        assert connected == 25
    assert server.handshakes.items == 25


async def test_a_wrong_key_among_chargers_connecting_together_is_refused_alone(server, session, org):
    ids = [make_charger(session, org, ocpp_id=f"CP-W{n}", connectors=1, auth_key=KEY).ocpp_id for n in range(5)]

    async def attempt(ocpp_id: str, key: str) -> int:
        try:
            ws = await websockets.connect(f"ws://127.0.0.1:{server.port}/ocpp/{ocpp_id}", subprotocols=["ocpp1.6"],
                                          additional_headers=basic(ocpp_id, key), open_timeout=10)
        except websockets.exceptions.InvalidStatus as refused:
            return refused.response.status_code
        await ws.close()
        return 101

    codes = await asyncio.gather(*(attempt(i, KEY if n != 2 else "wrong-key-0123456789") for n, i in enumerate(ids)))
    assert codes == [101, 101, 401, 101, 101]
    session.expire_all()
    assert not session.execute(select(Charger).where(Charger.ocpp_id == "CP-W2")).scalar_one().connection_generation


async def test_handshakes_go_on_after_the_database_drops_the_handshake_connection(server, session, charger):
    async with connect(server, "CP-1"):
        pass
    pid = server._writers.backend_pid("handshakes")
    session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    session.commit()
    async with connect(server, "CP-1") as cp:  # no pre-ping: the dead connection fails, a new one is opened
        assert (await cp.call(call.Heartbeat())).current_time
    assert server._writers.backend_pid("handshakes") not in (None, pid)
    session.expire_all()
    assert session.execute(select(Charger.connection_generation).where(Charger.ocpp_id == "CP-1")).scalar_one() >= 2
