"""POST /api/v1/auth/token, GET /api/v1/me, logout, and the JSON error format."""
from __future__ import annotations

from fastapi.testclient import TestClient

from app.api.main import create_api
from core.config import get_settings
from tests.utils.factories import PASSWORD, make_org, make_user


def test_token_endpoint_returns_a_bearer_jwt_that_opens_me(session, client):
    org = make_org(session, slug="alpha")
    user = make_user(session, role="cpo", orgs=[org])
    r = client.post("/api/v1/auth/token", json={"email": user.email, "password": PASSWORD})
    assert r.status_code == 200 and r.json()["token_type"] == "bearer"
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"})
    assert me.status_code == 200
    body = me.json()
    assert body["role"] == "cpo" and body["role_label"] == "CPO"
    assert [o["slug"] for o in body["bound_organizations"]] == ["alpha"]
    assert body["visible_organization_ids"] == [org.id]
    assert "view_finance" in body["capabilities"] and "manage_chargers" not in body["capabilities"]


def test_wrong_password_is_401_with_a_json_message(session, client):
    user = make_user(session, role="admin")
    r = client.post("/api/v1/auth/token", json={"email": user.email, "password": "wrong-password"})
    assert r.status_code == 401
    assert r.json() == {"message": "Incorrect email or password."}


def test_repeated_failures_answer_429_with_retry_after(session, client):
    user = make_user(session, role="admin")
    for _ in range(5):
        client.post("/api/v1/auth/token", json={"email": user.email, "password": "wrong-password"})
    r = client.post("/api/v1/auth/token", json={"email": user.email, "password": PASSWORD})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0


def test_missing_fields_are_422_with_the_field_named(session, client):
    r = client.post("/api/v1/auth/token", json={"email": "a@b.test"})
    assert r.status_code == 422
    assert r.json()["message"].startswith("password")


def test_no_token_is_401(session, client):
    assert client.get("/api/v1/me").status_code == 401


def test_logout_revokes_the_token(session, client, auth_header):
    user = make_user(session, role="admin")
    headers = auth_header(user)
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    r = client.get("/api/v1/me", headers=headers)
    assert r.status_code == 401 and "ended" in r.json()["message"]


def test_disabled_user_token_is_refused_at_once(session, client, auth_header):
    user = make_user(session, role="admin")
    headers = auth_header(user)
    user.status = "disabled"
    session.commit()
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_openapi_document_is_served(session, client):
    spec = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/chargers" in spec["paths"] and "/api/v1/auth/token" in spec["paths"]


def _spray_from(client, users, headers=None) -> list[int]:
    return [client.post("/api/v1/auth/token", json={"email": users[i % len(users)].email, "password": "wrong-pw"},
                        headers=headers or {}).status_code for i in range(21)]


def test_a_trusted_proxys_forwarded_address_is_the_one_throttled(session, monkeypatch):
    monkeypatch.setattr(get_settings(), "trusted_proxies", "10.0.0.0/8")
    org = make_org(session)
    users = [make_user(session, role="cpo", orgs=[org]) for _ in range(6)]
    with TestClient(create_api(), client=("10.0.0.5", 40000)) as proxy:
        codes = _spray_from(proxy, users, {"X-Forwarded-For": "198.51.100.9"})
        assert codes[:20] == [401] * 20 and codes[20] == 429
        # Another client behind the same proxy still logs in.
        r = proxy.post("/api/v1/auth/token", json={"email": users[0].email, "password": PASSWORD},
                       headers={"X-Forwarded-For": "198.51.100.10"})
        assert r.status_code == 200


def test_an_untrusted_peer_cannot_escape_the_throttle_with_x_forwarded_for(session, monkeypatch):
    monkeypatch.setattr(get_settings(), "trusted_proxies", "10.0.0.0/8")
    org = make_org(session)
    users = [make_user(session, role="cpo", orgs=[org]) for _ in range(6)]
    with TestClient(create_api(), client=("203.0.113.7", 40000)) as peer:
        codes = [peer.post("/api/v1/auth/token", json={"email": users[i % 6].email, "password": "wrong-pw"},
                           headers={"X-Forwarded-For": f"198.51.100.{i}"}).status_code for i in range(21)]
        assert codes[20] == 429
        r = peer.post("/api/v1/auth/token", json={"email": users[0].email, "password": PASSWORD},
                      headers={"X-Forwarded-For": "198.51.100.200"})
        assert r.status_code == 429 and "network address" in r.json()["message"]
