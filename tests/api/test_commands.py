"""POST /api/v1/chargers/{id}/commands: API → database → the OCPP process holding the charger → charger → back.

Two OCPP server processes run against the test database; the command must reach the one holding the socket.
"""
from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from app.api.main import create_api
from models import ChargerCommand
from services.access.auth import issue_token
from tests.ocpp.conftest import connect, until
from tests.ocpp.test_messages import ObedientCharger
from tests.utils.factories import make_charger, make_org, make_user
from tests.utils.ocpp_process import OcppProcess

pytestmark = pytest.mark.xdist_group("ocpp_processes")


@pytest.fixture
def two_servers(database_url, session):
    servers = [OcppProcess(database_url), OcppProcess(database_url)]
    yield servers
    for s in servers:
        s.stop()


@pytest.fixture
def setup(session):
    org = make_org(session, slug="cmd-org")
    other = make_org(session, slug="other-org")
    return {
        "org": org,
        "a": make_charger(session, org, ocpp_id="CMD-A"),
        "b": make_charger(session, org, ocpp_id="CMD-B"),
        "foreign": make_charger(session, other, ocpp_id="CMD-X"),
        "manager": make_user(session, role="network_manager", orgs=[org]),
        "cpo": make_user(session, role="cpo", orgs=[org]),
    }


@pytest.fixture
def client(database_url):
    return TestClient(create_api())


def _post(client, user, charger_id, body):
    return client.post(f"/api/v1/chargers/{charger_id}/commands", json=body,
                       headers={"Authorization": f"Bearer {issue_token(user)}"})


async def test_command_round_trip_reaches_the_process_holding_the_charger(two_servers, setup, client):
    first, second = two_servers
    async with connect(first, "CMD-A", cls=ObedientCharger) as a, \
            connect(second, "CMD-B", cls=ObedientCharger) as b:
        a.received, b.received = [], []
        res_b = await asyncio.to_thread(_post, client, setup["manager"], setup["b"].id,
                                        {"action": "Reset", "payload": {"type": "Soft"}})
        res_a = await asyncio.to_thread(_post, client, setup["manager"], setup["a"].id,
                                        {"action": "Reset", "payload": {"type": "Hard"}})
    assert res_b.status_code == 200, res_b.text
    body = res_b.json()
    assert (body["status"], body["result"], body["error"]) == ("done", {"status": "Accepted"}, None)
    assert res_a.json()["status"] == "done"
    # Each command was sent once, by the process holding that charger.
    assert (a.received, b.received) == ([("Reset", "Hard")], [("Reset", "Soft")])


async def test_command_to_a_charger_nobody_holds_answers_charger_is_offline(setup, client, database_url):
    res = await asyncio.to_thread(_post, client, setup["manager"], setup["a"].id,
                                  {"action": "UnlockConnector", "payload": {"connectorId": 1}})
    assert res.status_code == 200
    assert (res.json()["status"], res.json()["error"]) == ("failed", "Charger is offline")


def test_command_api_validates_action_and_payload(setup, client):
    res = _post(client, setup["manager"], setup["a"].id, {"action": "Explode", "payload": {}})
    assert res.status_code == 422 and res.json()["message"].startswith("Unknown command 'Explode'.")
    res = _post(client, setup["manager"], setup["a"].id, {"action": "Reset", "payload": {"type": "Gentle"}})
    assert res.status_code == 422
    assert res.json()["message"] == "Reset payload.type: 'Gentle' is not one of ['Hard', 'Soft']"
    res = _post(client, setup["manager"], setup["a"].id, {"action": "UnlockConnector", "payload": {}})
    assert res.json()["message"] == "UnlockConnector payload: 'connectorId' is a required property"


def test_command_payload_formats_are_checked_before_anything_is_sent(setup, client, session):
    body = {"action": "ReserveNow", "payload": {"connectorId": 1, "expiryDate": "tomorrow", "idTag": "T1",
                                                "reservationId": 1}}
    res = _post(client, setup["manager"], setup["a"].id, body)
    assert res.status_code == 422
    assert res.json()["message"] == "ReserveNow payload.expiryDate: 'tomorrow' is not a 'date-time'"
    body = {"action": "GetDiagnostics", "payload": {"location": "logs"}}
    res = _post(client, setup["manager"], setup["a"].id, body)
    assert res.json()["message"] == "GetDiagnostics payload.location: 'logs' is not a 'uri'"
    assert session.scalars(select(ChargerCommand)).all() == []


class _Deaf(ObedientCharger):
    async def route_message(self, raw):
        if json.loads(raw)[0] != 2:  # our CALLs are read and never answered
            await super().route_message(raw)


async def test_waiting_commands_hold_no_pooled_database_connection(two_servers, setup, client, engine, session):
    first, _ = two_servers
    waiting = 45  # more than the API's 30 pooled connections (10 + 20 overflow)
    loop = asyncio.get_running_loop()
    async with connect(first, "CMD-A", cls=_Deaf):
        body = {"action": "Reset", "payload": {"type": "Soft"}, "timeout": 6}
        with ThreadPoolExecutor(waiting) as callers:  # one thread per waiting HTTP client
            tasks = [loop.run_in_executor(callers, _post, client, setup["manager"], setup["a"].id, body)
                     for _ in range(waiting)]

            def all_queued():
                with engine.connect() as conn:
                    return conn.execute(text("SELECT count(*) FROM charger_command")).scalar() == waiting

            await until(all_queued)
            held = engine.pool.checkedout()
            listing = await asyncio.to_thread(client.get, "/api/v1/chargers",
                                              headers={"Authorization": f"Bearer {issue_token(setup['manager'])}"})
            results = await asyncio.gather(*tasks)
    assert held <= 2  # not one per waiting request (the API's pool would be exhausted)
    assert listing.status_code == 200
    assert all(r.json()["status"] in ("failed", "expired") for r in results)


def test_command_api_is_scoped_and_role_checked(setup, client):
    res = _post(client, setup["manager"], setup["foreign"].id, {"action": "Reset", "payload": {"type": "Soft"}})
    assert res.status_code == 404
    res = _post(client, setup["cpo"], setup["a"].id, {"action": "Reset", "payload": {"type": "Soft"}})
    assert res.status_code == 403
