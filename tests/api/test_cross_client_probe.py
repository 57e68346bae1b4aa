"""The cross-client probe: every route of the API, with client A's API key and with client A's admin's token,
aimed at client B by path id and by body id. Nothing of B is read or changed.

Every route in the OpenAPI document is probed, so a new route joins the probe by existing. The event stream
is probed separately (tests/ocpp/test_event_stream.py), as it never ends.
"""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.api.main import create_api
from core.clock import clock
from models import ApiKey, AppConfig, AuditLog, Charger, CustomRole, User
from services.access import api_keys, roles
from services.access.permissions import CLIENT_CAPS
from services.access.scope import scope_for
from services.clients import app_config
from tests.utils.factories import make_charger, make_operator, make_org, make_transaction, make_user

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
# Routes that take no caller, or end the caller's own session, or stream forever.
UNPROBED = {"/api/v1/auth/token", "/api/v1/auth/activate", "/api/v1/auth/password-reset",
            "/api/v1/auth/password-reset/confirm", "/api/v1/auth/logout", "/api/v1/events"}


@pytest.fixture
def world(session):
    clock.set(T0)
    make_operator(session)
    a, b = make_org(session, slug="client-a"), make_org(session, slug="client-b")
    a1 = make_charger(session, a, ocpp_id="A1")
    b1 = make_charger(session, b, ocpp_id="SECRET-B1")
    btx = make_transaction(session, b1, started_at=T0 - timedelta(hours=2), stopped_at=T0 - timedelta(hours=1),
                           energy_wh=4000)
    admin = make_user(session, role="admin")
    op = scope_for(session, admin)
    role_a = roles.client_admin_role(session=session, organization_id=a.id)
    role_b = roles.create_role(session=session, scope=op, user_id=admin.id, organization_id=b.id,
                               name="B secret role", capabilities=["view_chargers"])
    user_a = make_user(session, role="cpo", orgs=[a])
    user_a.custom_role_id = role_a.id
    user_b = make_user(session, role="cpo", orgs=[b], email="secret-b-user@b.test")
    caps = sorted(c.value for c in CLIENT_CAPS)
    key_a = api_keys.create_key(session=session, scope=op, user_id=admin.id, organization_id=a.id, name="A",
                                scopes=caps)
    key_b = api_keys.create_key(session=session, scope=op, user_id=admin.id, organization_id=b.id, name="B",
                                scopes=caps)
    app_config.save_config(session=session, scope=op, user_id=admin.id, organization_id=b.id,
                           changes={"app_name": "SecretBApp", "api_key_id": key_b.key.id})
    session.commit()
    return dict(a=a, b=b, a1=a1, b1=b1, btx=btx, role_b=role_b, user_a=user_a, user_b=user_b, key_a=key_a,
                key_b=key_b)


def _b_state(session, w):
    session.expire_all()
    key = session.get(ApiKey, w["key_b"].key.id)
    return (session.get(Charger, w["b1"].id).organization_id, session.get(Charger, w["b1"].id).name,
            session.get(CustomRole, w["role_b"].id).capabilities, key.revoked_at, key.replaced_by_id,
            session.get(AppConfig, w["b"].id).app_name, session.get(User, w["user_b"].id).status,
            session.execute(select(func.count()).select_from(AuditLog)
                            .where(AuditLog.organization_id == w["b"].id)).scalar_one(),
            session.execute(select(func.count()).select_from(ApiKey)
                            .where(ApiKey.organization_id == w["b"].id)).scalar_one())


def _calls(w, path_org):
    """(method, url, json) for every probed route: path ids are B's (or A's organization with B's ids in
    the body)."""
    ids = {"org_id": path_org.id, "organization_id": path_org.id,
           "charger_id": w["b1"].id, "transaction_id": w["btx"].id, "invoice_id": 1,
           "user_id": w["user_b"].id, "key_id": w["key_b"].key.id, "role_id": w["role_b"].id}
    body = {"organization_id": w["b"].id, "charger_ids": [w["b1"].id], "custom_role_id": w["role_b"].id,
            "api_key_id": w["key_b"].key.id, "from_organization_id": w["b"].id, "charger_id": w["b1"].id,
            "invoice_ids": [1], "name": "probe",
            "scopes": ["view_chargers"], "capabilities": ["view_chargers"], "grace": "none",
            "email": "probe@probe.test", "role": "cpo", "ocpp_id": "PROBE-1", "action": "Reset",
            "payload": {"type": "Soft"}}
    for path, methods in create_api().openapi()["paths"].items():
        if path in UNPROBED:
            continue
        # A path parameter of a kind this world has no B row for is probed with a small id.
        url = re.sub(r"\{(\w+)\}", lambda m: str(ids.get(m.group(1), 1)), path)
        for method in methods:
            yield method.upper(), url, body if method in ("post", "put") else None


@pytest.mark.parametrize("who", ["api_key", "user_token"])
def test_client_a_can_neither_read_nor_change_client_b(session, client, auth_header, world, who):
    w = world
    headers = {"X-API-Key": w["key_a"].secret} if who == "api_key" else auth_header(w["user_a"])
    secrets = ("SECRET-B1", "B secret role", "secret-b-user", "SecretBApp", w["key_b"].key.prefix, "Client B",
               "client-b")
    before = _b_state(session, w)
    probed = 0
    for path_org in (w["b"], w["a"]):
        for method, url, body in _calls(w, path_org):
            query = {"organization_id": w["b"].id} if method == "GET" else None
            r = client.request(method, url, headers=headers, json=body, params=query)
            probed += 1
            assert r.status_code < 500, (method, url, r.text)
            if r.status_code < 300:
                leaked = [s for s in secrets if s in r.text]
                assert not leaked, (method, url, leaked)
    assert probed >= 70
    assert _b_state(session, w) == before
