"""GET /api/v1/events: a real charger's StatusNotification reaches an API client's stream through the
NOTIFY path, scoped to the caller, and a stream resumed with Last-Event-ID loses nothing."""
from __future__ import annotations

import pytest
from ocpp.v16 import call

from app.api.main import create_api
from services.access import api_keys
from services.access.scope import scope_for
from tests.ocpp.conftest import KEY, connect
from tests.utils.factories import auth_headers, make_charger, make_org, make_user
from tests.utils.sse import open_stream


def _status(status: str, connector: int = 1):
    return call.StatusNotification(connector_id=connector, error_code="NoError", status=status)


async def until_status(stream, status: str) -> tuple[dict, list[dict]]:
    """The first event with this status, and every event read up to it (connecting sends Available first)."""
    seen = []
    while True:
        event = await stream.next_event()
        seen.append(event)
        if event["data"].get("status") == status:
            return event, seen


@pytest.fixture
def api():
    return create_api()


@pytest.fixture
def keys(session, org, charger):
    other = make_org(session, slug="other-client")
    make_charger(session, other, ocpp_id="OTHER-1", auth_key=KEY)
    admin = make_user(session, role="admin")
    scope = scope_for(session, admin)
    mine = api_keys.create_key(session=session, scope=scope, user_id=admin.id, organization_id=org.id,
                               name="stream", scopes=["view_chargers"])
    theirs = api_keys.create_key(session=session, scope=scope, user_id=admin.id, organization_id=other.id,
                                 name="stream", scopes=["view_chargers"])
    session.commit()
    return {"mine": {"X-API-Key": mine.secret}, "theirs": {"X-API-Key": theirs.secret}}


async def test_a_status_notification_reaches_the_clients_stream_and_no_other(session, server, api, keys, charger):
    async with open_stream(api, "/api/v1/events", keys["mine"]) as mine, \
            open_stream(api, "/api/v1/events", keys["theirs"]) as theirs:
        assert mine.status == 200 and mine.headers["content-type"].startswith("text/event-stream")
        async with connect(server, "CP-1") as cp:
            await cp.call(_status("Faulted"))
        event, _ = await until_status(mine, "Faulted")
        assert event["event"] == "charger_status" and event["data"]["charger_id"] == charger.id
        # The other client's stream gets its own charger's event first: it never saw CP-1's.
        async with connect(server, "OTHER-1") as cp:
            await cp.call(_status("Unavailable"))
        _, seen = await until_status(theirs, "Unavailable")
        assert charger.id not in {e["data"]["charger_id"] for e in seen}


async def test_a_user_token_stream_is_scoped_like_the_user(session, server, api, org, charger):
    cpo = make_user(session, role="cpo", orgs=[org])
    async with open_stream(api, "/api/v1/events", auth_headers(cpo)) as stream:
        async with connect(server, "CP-1") as cp:
            await cp.call(_status("Preparing"))
        event, _ = await until_status(stream, "Preparing")
        assert event["data"]["charger_id"] == charger.id


async def test_last_event_id_resumes_without_loss(session, server, api, keys, charger):
    async with open_stream(api, "/api/v1/events", keys["mine"]) as stream:
        async with connect(server, "CP-1") as cp:
            await cp.call(_status("Preparing"))
        first, _ = await until_status(stream, "Preparing")
    # Disconnected: two changes happen meanwhile.
    async with connect(server, "CP-1") as cp:
        await cp.call(_status("Charging"))
        await cp.call(_status("Finishing", connector=2))
    async with open_stream(api, "/api/v1/events", {**keys["mine"], "Last-Event-ID": str(first["id"])}) as stream:
        _, missed = await until_status(stream, "Finishing")
    statuses = [e["data"]["status"] for e in missed if e["event"] == "charger_status"]
    assert statuses[-2:] == ["Charging", "Finishing"]  # after the connection's own status changes
    ids = [e["id"] for e in missed]
    assert ids == sorted(ids) and ids[0] > first["id"]


async def test_a_revoked_or_unscoped_key_gets_no_stream(session, api, org):
    admin = make_user(session, role="admin")
    scope = scope_for(session, admin)
    billing = api_keys.create_key(session=session, scope=scope, user_id=admin.id, organization_id=org.id,
                                  name="books", scopes=["view_invoices"])
    session.commit()
    async with open_stream(api, "/api/v1/events", {"X-API-Key": billing.secret}) as stream:
        assert stream.status == 403
    async with open_stream(api, "/api/v1/events", {"X-API-Key": "vd_live_nope"}) as stream:
        assert stream.status == 401
