"""Handshakes in batches (services/ocpp/presence.connect_many_async): one transaction checks and registers
every charger of the batch, with the same rules and the same status events and live events as one by one."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from sqlalchemy import select

from core.db import libpq_url
from core.events import CHANNEL
from models import Charger, ChargerStatusEvent, Connector, EventLog
from services.network.chargers import hash_auth_key
from services.ocpp import presence, registry
from tests.utils.factories import make_charger, make_org

KEY = "test-auth-key-0123456789"
NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


@pytest.fixture
async def conn(engine):
    async with await psycopg.AsyncConnection.connect(libpq_url(engine), autocommit=True) as c:
        yield c


@pytest.fixture
def org(session):
    return make_org(session, slug="lanka", currency="LKR", timezone="Asia/Colombo")


def attempt(ocpp_id: str, password: str | None = KEY, cn: str | None = None) -> presence.Attempt:
    return presence.Attempt(ocpp_id, password, cn, f"token-{ocpp_id}")


def _row(session, ocpp_id: str) -> Charger:
    session.expire_all()
    return session.execute(select(Charger).where(Charger.ocpp_id == ocpp_id)).scalar_one()


async def test_a_batch_marks_every_charger_online_with_its_status_events_and_live_events(session, org, conn,
                                                                                         engine):
    chargers = [make_charger(session, org, ocpp_id=f"CP-{n}", connectors=2) for n in range(20)]
    # CP-0 was Charging on connector 2 and Faulted itself before it went Offline: both come back.
    for connector_id, status in ((2, "Charging"), (0, "Faulted")):
        session.add(ChargerStatusEvent(charger_id=chargers[0].id, connector_id=connector_id, status=status,
                                       received_at=NOW - timedelta(hours=1)))
    session.add(ChargerStatusEvent(charger_id=chargers[0].id, connector_id=2, status="Offline",
                                   received_at=NOW - timedelta(minutes=30)))
    session.commit()
    async with await psycopg.AsyncConnection.connect(libpq_url(engine), autocommit=True) as listener:
        await listener.execute(f"LISTEN {CHANNEL}")
        answers = await presence.connect_many_async(conn=conn, attempts=[attempt(c.ocpp_id) for c in chargers],
                                                    tls=False, process_id=None, now=NOW)
        heard = []
        async for note in listener.notifies(timeout=5, stop_after=60):
            heard.append(json.loads(note.payload))

    assert [a.charger.ocpp_id for a in answers] == [c.ocpp_id for c in chargers]
    assert all(a.generation == 1 for a in answers)
    for c in chargers:
        row = _row(session, c.ocpp_id)
        assert row.connected and row.connection_token == f"token-{c.ocpp_id}" and row.last_heartbeat_at == NOW
    assert _row(session, "CP-0").status == "Faulted"
    assert _row(session, "CP-1").status == "Available"
    statuses = dict(session.execute(select(Connector.connector_id, Connector.status)
                                    .where(Connector.charger_id == chargers[0].id)).all())
    assert statuses == {1: "Available", 2: "Charging"}
    events = session.execute(select(ChargerStatusEvent.charger_id, ChargerStatusEvent.connector_id,
                                    ChargerStatusEvent.status, ChargerStatusEvent.info)
                             .where(ChargerStatusEvent.received_at == NOW)).all()
    # Per charger: its two connectors and itself ("Connected"), as mark_connected writes them one by one.
    assert len(events) == 60
    assert (chargers[0].id, 0, "Faulted", "Connected") in events and (chargers[0].id, 2, "Charging", None) in events
    # Each status change is its own live event, kept in event_log and carrying that row's id.
    assert len(heard) == 60
    kept = {e.id: e.payload for e in session.execute(select(EventLog)).scalars()}
    for event in heard:
        assert event["type"] == "charger_status" and event["organization_id"] == org.id
        assert kept[event.pop("event_id")] == event


async def test_wrong_key_unknown_id_and_wrong_certificate_are_refused_in_a_batch_and_change_nothing(
        session, org, conn):
    make_charger(session, org, ocpp_id="GOOD")
    make_charger(session, org, ocpp_id="WRONG-KEY")
    make_charger(session, org, ocpp_id="NO-KEY")
    make_charger(session, org, ocpp_id="OTHER-CN")
    make_charger(session, org, ocpp_id="PROFILE-2")
    _row(session, "PROFILE-2").security_profile = 2
    make_charger(session, org, ocpp_id="PROFILE-3")
    _row(session, "PROFILE-3").security_profile = 3
    session.commit()
    answers = await presence.connect_many_async(conn=conn, attempts=[
        attempt("GOOD"), attempt("WRONG-KEY", "not-the-key-0123456789"), attempt("NO-KEY", None),
        attempt("GHOST"), attempt("OTHER-CN", cn="GOOD"), attempt("PROFILE-2"), attempt("PROFILE-3"),
    ], tls=False, process_id=None, now=NOW)
    assert [(a.status, a.unknown) for a in answers] == [(200, False), (401, False), (401, False), (404, True),
                                                        (403, False), (403, False), (403, False)]
    assert answers[0].charger is not None and all(a.charger is None for a in answers[1:])
    for ocpp_id in ("WRONG-KEY", "NO-KEY", "OTHER-CN", "PROFILE-2", "PROFILE-3"):
        row = _row(session, ocpp_id)
        assert not row.connected and row.status == "Offline" and row.connection_generation in (None, 0)


async def test_the_rotated_key_opens_the_connection_and_becomes_the_only_key(session, org, conn):
    make_charger(session, org, ocpp_id="CP-R")
    _row(session, "CP-R").auth_key_hash_next = hash_auth_key("rotated-key-0123456789")
    session.commit()
    [answer] = await presence.connect_many_async(conn=conn, attempts=[attempt("CP-R", "rotated-key-0123456789")],
                                                 tls=False, process_id=None, now=NOW)
    assert answer.charger is not None
    row = _row(session, "CP-R")
    assert row.auth_key_hash == hash_auth_key("rotated-key-0123456789") and row.auth_key_hash_next is None
    [old] = await presence.connect_many_async(conn=conn, attempts=[attempt("CP-R", KEY)], tls=False,
                                              process_id=None, now=NOW)
    assert old.status == 401


async def test_a_connection_held_by_another_process_is_announced_to_it(session, org, conn, engine):
    charger = make_charger(session, org, ocpp_id="CP-M")
    [first] = await presence.connect_many_async(conn=conn, attempts=[attempt("CP-M")], tls=False, process_id=None,
                                                now=NOW)
    other = registry.register_process(session=session, hostname="other", pid=1, now=NOW)
    session.execute(Charger.__table__.update().where(Charger.id == charger.id).values(connection_process_id=other))
    session.commit()
    async with await psycopg.AsyncConnection.connect(libpq_url(engine), autocommit=True) as listener:
        await listener.execute(f"LISTEN {presence.CONNECTION_CHANNEL}")
        [second] = await presence.connect_many_async(conn=conn, attempts=[attempt("CP-M")], tls=False,
                                                     process_id=None, now=NOW)
        notes = [json.loads(n.payload) async for n in listener.notifies(timeout=5, stop_after=1)]
    assert second.generation == first.generation + 1
    assert notes == [{"charger_id": charger.id, "generation": second.generation, "process_id": other}]
