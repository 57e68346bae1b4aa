"""Two real OCPP server processes on one database: one owner per charger connection (docs/adr/0008).

The newest connection wins across processes: the process holding the older socket closes it when told, only
the owner of the current connection claims the charger's commands, the old socket closing never marks the
charger Offline, and a dead process's chargers go Offline within seconds, not heartbeat interval + grace.
"""
from __future__ import annotations

import asyncio
import json
import signal
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import pytest
from sqlalchemy import select

from models import Charger, ChargerCommand, ChargerStatusEvent
from services.access.scope import scope_for
from services.ocpp.commands import PROCESS_DIED, send_command
from tests.ocpp.conftest import connect, until
from tests.ocpp.test_messages import ObedientCharger
from tests.utils.factories import make_user
from tests.utils.ocpp_process import OcppProcess

pytestmark = pytest.mark.xdist_group("ocpp_processes")
FAST_LIVENESS = {"OCPP_PROCESS_RENEW_SECONDS": "1", "OCPP_PROCESS_DEAD_AFTER_SECONDS": "3"}


@pytest.fixture
def two_processes(database_url, session):
    processes = [OcppProcess(database_url, **FAST_LIVENESS), OcppProcess(database_url, **FAST_LIVENESS)]
    yield processes
    for p in processes:
        if p.proc.poll() is None:
            p.proc.send_signal(signal.SIGCONT)
        p.stop()


@pytest.fixture
def admin_scope(session, org):
    return scope_for(session, make_user(session, role="admin"))


def _charger(session, charger_id) -> Charger:
    session.expire_all()
    return session.get(Charger, charger_id)


async def _commands(engine, scope, charger_id, count):
    """`count` concurrent callers, each on its own thread (the loop's default executor stays free for the
    `ocpp` library's charger, which validates messages there)."""
    loop = asyncio.get_running_loop()
    with ThreadPoolExecutor(count) as callers:
        return await asyncio.gather(*(loop.run_in_executor(callers, partial(
            send_command, engine=engine, scope=scope, charger_id=charger_id, action="Reset",
            payload={"type": "Soft"}, timeout=5)) for _ in range(count)))


async def test_reconnecting_to_the_other_process_closes_the_old_socket_and_every_command_goes_to_the_new_one(
        two_processes, session, engine, charger, admin_scope):
    first, second = two_processes
    async with connect(first, "CP-1", cls=ObedientCharger) as old:
        old.received = []
        async with connect(second, "CP-1", cls=ObedientCharger) as new:
            new.received = []
            await until(lambda: old._connection.state.name == "CLOSED")  # the first process was told to close it
            results = await _commands(engine, admin_scope, charger.id, 8)
            row = _charger(session, charger.id)
            assert row.connected and row.status == "Available"  # the old socket closing left it online
    assert [r.status for r in results] == ["done"] * 8, [(r.status, r.error) for r in results]
    assert (len(new.received), old.received) == (8, [])


class _Dead(ObedientCharger):
    """A socket that still looks open to the server but on which nothing answers any more."""

    async def route_message(self, raw):
        if json.loads(raw)[0] != 2:
            await super().route_message(raw)


async def test_commands_never_wait_on_an_old_socket_that_stopped_answering(two_processes, session, engine, charger,
                                                                          admin_scope):
    first, second = two_processes
    async with connect(first, "CP-1", cls=_Dead):
        async with connect(second, "CP-1", cls=ObedientCharger) as new:
            new.received = []
            results = await _commands(engine, admin_scope, charger.id, 6)
    assert [r.status for r in results] == ["done"] * 6  # none sent to the old socket to time out there
    assert len(new.received) == 6


async def test_a_killed_process_s_chargers_go_offline_within_seconds_and_reconnect_to_the_other(
        two_processes, session, engine, charger, admin_scope):
    first, second = two_processes
    async with connect(first, "CP-1", cls=ObedientCharger):
        first.kill()
        # Heartbeat interval + grace is minutes; the other process sees the missing liveness renewals.
        await until(lambda: not _charger(session, charger.id).connected, timeout=15)
    assert _charger(session, charger.id).status == "Offline"
    offline = session.scalars(select(ChargerStatusEvent.info).where(ChargerStatusEvent.status == "Offline",
                                                                    ChargerStatusEvent.connector_id == 0)).all()
    assert offline == ["OCPP process stopped responding"]
    async with connect(second, "CP-1", cls=ObedientCharger) as cp:
        cp.received = []
        results = await _commands(engine, admin_scope, charger.id, 1)
    assert results[0].status == "done" and cp.received == [("Reset", "Soft")]


async def test_a_command_claimed_by_a_process_that_dies_is_failed_by_the_survivor_s_sweep(
        two_processes, session, engine, charger, admin_scope):
    first, _survivor = two_processes
    async with connect(first, "CP-1", cls=_Dead):
        loop = asyncio.get_running_loop()
        with ThreadPoolExecutor(1) as caller:
            waiting = loop.run_in_executor(caller, partial(
                send_command, engine=engine, scope=admin_scope, charger_id=charger.id, action="Reset",
                payload={"type": "Soft"}, timeout=120))
            await until(lambda: session.scalars(select(ChargerCommand.status)).all() == ["sent"], timeout=15)
            first.kill()
            result = await waiting
    # Not a guess by the caller at its deadline: the row's outcome, written by the process that found the
    # claimant dead. The caller returns it long before the 120 s deadline.
    assert (result.status, result.error) == ("failed", PROCESS_DIED)
    session.expire_all()
    assert session.scalars(select(ChargerCommand.status)).all() == ["failed"]
