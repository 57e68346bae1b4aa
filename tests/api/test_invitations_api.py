"""The invitation, activation and password-reset endpoints, with mail caught by a real SMTP server."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from core.clock import clock
from core.config import get_settings
from models import User
from tests.utils.factories import make_org, make_user
from tests.utils.smtp import SmtpServer, free_port, links

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
NEW_PASSWORD = "a-brand-new-passphrase"


@pytest.fixture
def smtp(monkeypatch):
    with SmtpServer() as server:
        monkeypatch.setattr(get_settings(), "smtp_url", server.url)
        monkeypatch.setattr(get_settings(), "public_url", "https://voltdesk.example")
        yield server.inbox


@pytest.fixture
def world(session):
    clock.set(T0)
    alpha, bravo = make_org(session, slug="alpha"), make_org(session, slug="bravo")
    return dict(alpha=alpha, bravo=bravo, support=make_user(session, role="customer_support", orgs=[alpha]))


def token_in(msg, path="/activate/") -> str:
    return next(link for link in links(msg) if path in link).rsplit("/", 1)[-1]


def test_support_invites_a_cpo_who_activates_through_the_api_and_logs_in(client, auth_header, world, smtp):
    r = client.post("/api/v1/users/invite", headers=auth_header(world["support"]),
                    json={"email": "Carla@X.test", "role": "cpo", "organization_id": world["alpha"].id})
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "invited" and r.json()["delivered"] is True
    # Not yet: the invited user has no password.
    assert client.post("/api/v1/auth/token", json={"email": "carla@x.test", "password": NEW_PASSWORD}
                       ).status_code == 401

    token = token_in(smtp.wait_for("carla@x.test"))
    r = client.post("/api/v1/auth/activate", json={"token": token, "full_name": "Carla", "password": NEW_PASSWORD})
    assert r.status_code == 200 and r.json()["status"] == "active"
    login = client.post("/api/v1/auth/token", json={"email": "carla@x.test", "password": NEW_PASSWORD})
    assert login.status_code == 200
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {login.json()['access_token']}"}).json()
    assert me["role"] == "cpo" and [o["slug"] for o in me["bound_organizations"]] == ["alpha"]

    again = client.post("/api/v1/auth/activate", json={"token": token, "full_name": "X", "password": NEW_PASSWORD})
    assert again.status_code == 422 and again.json()["reason"] == "used"


def test_an_expired_activation_link_answers_422_saying_to_ask_for_a_new_invitation(client, auth_header, world, smtp):
    client.post("/api/v1/users/invite", headers=auth_header(world["support"]),
                json={"email": "carla@x.test", "role": "cpo", "organization_id": world["alpha"].id})
    clock.set(T0 + timedelta(hours=25))
    r = client.post("/api/v1/auth/activate", json={"token": token_in(smtp.wait_for("carla@x.test")),
                                                   "full_name": "Carla", "password": NEW_PASSWORD})
    assert r.status_code == 422
    assert r.json()["reason"] == "expired" and "new invitation" in r.json()["message"]


def test_resend_invitation_replaces_the_link(client, auth_header, world, smtp):
    h = auth_header(world["support"])
    user_id = client.post("/api/v1/users/invite", headers=h, json={
        "email": "carla@x.test", "role": "cpo", "organization_id": world["alpha"].id}).json()["user_id"]
    r = client.post(f"/api/v1/users/{user_id}/resend-invitation", headers=h)
    assert r.status_code == 200 and "resent" in r.json()["message"]
    old, new = token_in(smtp.wait_for("carla@x.test", 1)), token_in(smtp.wait_for("carla@x.test", 2))
    stale = client.post("/api/v1/auth/activate", json={"token": old, "full_name": "C", "password": NEW_PASSWORD})
    assert stale.status_code == 422 and stale.json()["reason"] == "replaced"
    assert client.post("/api/v1/auth/activate",
                       json={"token": new, "full_name": "C", "password": NEW_PASSWORD}).status_code == 200
    assert client.post(f"/api/v1/users/{user_id}/resend-invitation", headers=h).status_code == 409


def test_invite_errors_are_json_with_the_right_status(client, auth_header, world, smtp, session):
    h = auth_header(world["support"])
    cases = [
        ({"email": "eve@x.test", "role": "admin"}, 403),
        ({"email": "eve@x.test", "role": "cpo", "organization_id": world["bravo"].id}, 404),
        ({"email": "eve", "role": "cpo", "organization_id": world["alpha"].id}, 422),
        ({"email": "eve@x.test", "role": "wizard", "organization_id": world["alpha"].id}, 422),
        ({"email": world["support"].email, "role": "cpo", "organization_id": world["alpha"].id}, 409),
        ({"role": "cpo"}, 422),
    ]
    for body, status in cases:
        r = client.post("/api/v1/users/invite", headers=h, json=body)
        assert r.status_code == status and r.json()["message"], (body, r.text)
    cpo = make_user(session, role="cpo", orgs=[world["alpha"]])
    assert client.post("/api/v1/users/invite", headers=auth_header(cpo), json={
        "email": "eve@x.test", "role": "cpo", "organization_id": world["alpha"].id}).status_code == 403
    assert client.post("/api/v1/users/invite", json={"email": "eve@x.test", "role": "cpo"}).status_code == 401
    assert smtp.messages == []
    assert session.execute(select(User.id).where(User.email == "eve@x.test")).first() is None


def test_a_refused_mail_answers_502_and_creates_no_user(client, auth_header, world, session, monkeypatch):
    monkeypatch.setattr(get_settings(), "smtp_url", f"smtp://127.0.0.1:{free_port()}")
    r = client.post("/api/v1/users/invite", headers=auth_header(world["support"]),
                    json={"email": "carla@x.test", "role": "cpo", "organization_id": world["alpha"].id})
    assert r.status_code == 502 and "Nothing was saved" in r.json()["message"]
    assert session.execute(select(User.id).where(User.email == "carla@x.test")).first() is None


def test_password_reset_over_the_api_answers_the_same_for_any_address(client, world, smtp):
    email = world["support"].email
    known = client.post("/api/v1/auth/password-reset", json={"email": email})
    unknown = client.post("/api/v1/auth/password-reset", json={"email": "nobody@x.test"})
    assert known.status_code == unknown.status_code == 202 and known.json() == unknown.json()
    token = token_in(smtp.wait_for(email), "/reset-password/")
    r = client.post("/api/v1/auth/password-reset/confirm", json={"token": token, "password": NEW_PASSWORD})
    assert r.status_code == 200
    assert client.post("/api/v1/auth/token", json={"email": email, "password": NEW_PASSWORD}).status_code == 200
