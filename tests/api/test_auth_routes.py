"""POST /api/v1/auth/token, GET /api/v1/me, logout, and the JSON error format."""
from __future__ import annotations

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
