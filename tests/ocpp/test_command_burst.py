"""A burst of commands from the API's event loop (`send_command_async`, what POST /chargers/{id}/commands calls)
must not take the threads the rest of the API's blocking calls run on: the command rows are created and re-read
on threads of their own."""
from __future__ import annotations

import asyncio

import psycopg
import pytest
from sqlmodel import Session

from core.db import libpq_url
from services.access.scope import scope_for
from services.network.chargers import list_chargers
from services.ocpp.commands import send_command_async
from tests.ocpp.conftest import connect
from tests.ocpp.test_messages import ObedientCharger
from tests.utils.factories import make_user

BURST = 50  # more than the loop's default executor has threads (min(32, CPUs + 4))


@pytest.fixture
def admin_scope(session, org):
    return scope_for(session, make_user(session, role="admin"))


def _creations_blocked(url: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM pg_locks WHERE NOT granted"
                            " AND relation = 'charger_command'::regclass").fetchone()[0]


async def test_a_burst_of_commands_being_created_leaves_an_api_read_served(server, session, engine, charger,
                                                                           admin_scope):
    url = libpq_url(engine)
    async with connect(server, "CP-1", cls=ObedientCharger) as cp:
        cp.received = []
        with psycopg.connect(url) as lock:
            # Every creation blocks on its INSERT until we commit: the burst holds all the threads it can get.
            lock.execute("LOCK TABLE charger_command IN EXCLUSIVE MODE")
            burst = [asyncio.create_task(send_command_async(
                engine=engine, scope=admin_scope, charger_id=charger.id, action="Reset", payload={"type": "Soft"},
                timeout=60)) for _ in range(BURST)]
            try:
                # Checked on this thread: the default executor may be the one the burst has taken.
                for _ in range(600):
                    if _creations_blocked(url):
                        break
                    await asyncio.sleep(0.05)

                def read():
                    with Session(engine) as s:
                        return list_chargers(session=s, scope=admin_scope)

                # The charger list runs on the default executor while the burst is stuck: it is served.
                reading = asyncio.ensure_future(asyncio.to_thread(read))
                await asyncio.wait([reading], timeout=60)  # a hang guard, not a timing
                assert reading.done(), "the API read queued behind the burst of command creations"
                rows, total = reading.result()
                assert (total, [r.ocpp_id for r in rows]) == (1, ["CP-1"])
                assert not any(t.done() for t in burst)  # the burst was still waiting when the read answered
            finally:
                lock.commit()
        results = await asyncio.gather(*burst)
    assert [r.status for r in results] == ["done"] * BURST
    assert cp.received == [("Reset", "Soft")] * BURST
