"""The OCPP processes' liveness: what the sweep of a dead process releases, and what it must leave alone."""
from __future__ import annotations

import threading
import time
from datetime import timedelta

import psycopg
from sqlalchemy import select

from core.clock import utcnow
from core.db import libpq_url
from models import Charger, ChargerCommand
from services.access.scope import scope_for
from services.ocpp import registry
from services.ocpp.commands import PROCESS_DIED, claim_command, create_command
from tests.utils.factories import make_charger, make_org, make_user


def _connected(session, charger, process_id: int, token: str) -> None:
    charger.connected, charger.connection_process_id, charger.connection_token = True, process_id, token
    session.add(charger)
    session.commit()


def test_the_sweep_of_a_dead_process_fails_the_commands_it_claimed_and_leaves_the_others(session):
    org = make_org(session, slug="reg")
    mine, other = make_charger(session, org, ocpp_id="REG-1"), make_charger(session, org, ocpp_id="REG-2")
    now = utcnow()
    dead = registry.register_process(session=session, hostname="a", pid=1, now=now - timedelta(minutes=5))
    alive = registry.register_process(session=session, hostname="b", pid=2, now=now)
    _connected(session, mine, dead, "t-dead")
    _connected(session, other, alive, "t-alive")
    scope = scope_for(session, make_user(session, role="admin"))
    ids = []
    for charger, token in ((mine, "t-dead"), (other, "t-alive")):
        cmd = create_command(session=session, scope=scope, charger_id=charger.id, action="Reset",
                             payload={"type": "Soft"})
        session.commit()
        assert claim_command(session=session, command_id=cmd.id, charger_id=charger.id, token=token)
        session.commit()
        ids.append(cmd.id)
    assert registry.sweep_dead_processes(session=session, now=now, dead_after=timedelta(seconds=9)) == [mine.id]
    session.commit()
    session.expire_all()
    rows = {c.id: (c.status, c.error, c.claimed_by_process_id) for c in session.scalars(select(ChargerCommand))}
    assert rows == {ids[0]: ("failed", PROCESS_DIED, dead), ids[1]: ("sent", None, alive)}


def test_a_charger_that_reconnects_elsewhere_while_the_sweep_runs_stays_online(session, engine):
    org = make_org(session, slug="reg")
    charger = make_charger(session, org, ocpp_id="REG-1")
    now = utcnow()
    dead = registry.register_process(session=session, hostname="a", pid=1, now=now - timedelta(minutes=5))
    survivor = registry.register_process(session=session, hostname="b", pid=2, now=now)
    _connected(session, charger, dead, "t-dead")
    url = libpq_url(engine)
    with psycopg.connect(url) as reconnect:
        # The survivor registers the charger's new connection: its transaction holds the row when the sweep
        # reads which chargers the dead process held.
        reconnect.execute("UPDATE charger SET connection_process_id = %s, connection_token = 't-new'"
                          " WHERE id = %s", (survivor, charger.id))
        swept = []
        sweep = threading.Thread(target=lambda: swept.append(_sweep(engine, now)))
        sweep.start()
        for _ in range(600):  # until the sweep waits for the row (not a timing: it bounds the wait)
            blocked = reconnect.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                                        " AND wait_event_type = 'Lock'").fetchone()[0]
            if blocked:
                break
            time.sleep(0.05)
        reconnect.commit()
        sweep.join(60)
    assert swept == [[]]
    session.expire_all()
    row = session.get(Charger, charger.id)
    assert (row.connected, row.connection_process_id, row.connection_token) == (True, survivor, "t-new")


def _sweep(engine, now) -> list[int]:
    from sqlmodel import Session

    with Session(engine) as s:
        ids = registry.sweep_dead_processes(session=s, now=now, dead_after=timedelta(seconds=9))
        s.commit()
        return ids


def test_a_process_never_sweeps_itself_however_late_its_own_renewal(session):
    """A reconnect storm once held a process's renewal behind its database threads past the limit; its own sweep
    then found it "dead" and it closed its healthy connections. Another process's sweep still finds it."""
    org = make_org(session, slug="self")
    charger = make_charger(session, org, ocpp_id="SELF-1")
    now = utcnow()
    late = registry.register_process(session=session, hostname="a", pid=1, now=now - timedelta(seconds=30))
    _connected(session, charger, late, "t-late")
    nine = timedelta(seconds=9)
    assert registry.sweep_dead_processes(session=session, now=now, dead_after=nine, sweeper_id=late) == []
    session.commit()
    assert registry.renew_process(session=session, process_id=late)  # still registered: its renewal lands
    session.commit()
    assert registry.sweep_dead_processes(session=session, now=now + timedelta(seconds=30), dead_after=nine,
                                         sweeper_id=late + 1) == [charger.id]
