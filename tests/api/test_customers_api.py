"""The customer routes: sign-up and verification, invitations, scoping of a customer's token, bad input."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.clock import clock
from core.config import get_settings
from services.access.scope import scope_for
from services.customers import assets
from tests.utils.customers import CUSTOMER_PASSWORD, active_customer, make_plan, open_signup, token_from
from tests.utils.factories import make_charger, make_org, make_transaction, make_user
from tests.utils.smtp import SmtpServer

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


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
    return dict(alpha=alpha, bravo=bravo, support=make_user(session, role="customer_support", orgs=[alpha]),
                cpo=make_user(session, role="cpo", orgs=[bravo]), admin=make_user(session, role="admin"))


def bearer(client, email, password=CUSTOMER_PASSWORD) -> dict[str, str]:
    r = client.post("/api/v1/auth/token", json={"email": email, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_signup_verify_and_login_through_the_api(client, auth_header, world, smtp):
    body = {"organization": "alpha", "email": "Sue@X.test", "password": CUSTOMER_PASSWORD, "kind": "consumer",
            "accept_terms": True}
    r = client.post("/api/v1/customers/signup", json=body)
    assert r.status_code == 422 and "closed" in r.json()["message"]
    r = client.put(f"/api/v1/organizations/{world['alpha'].id}/support-links", headers=auth_header(world["support"]),
                   json={"terms_url": "https://alpha.test/terms", "privacy_url": "https://alpha.test/privacy"})
    assert r.status_code == 200 and r.json()["open"] is True
    assert [p["slug"] for p in client.get("/api/v1/customers/platforms").json()] == ["alpha"]
    assert client.post("/api/v1/customers/signup", json=body).status_code == 201
    assert client.post("/api/v1/customers/signup", json=body).status_code == 409
    assert client.post("/api/v1/auth/token", json={"email": "sue@x.test", "password": CUSTOMER_PASSWORD}
                       ).status_code == 401
    token = token_from(smtp.wait_for("sue@x.test"), "verify")
    assert client.post("/api/v1/customers/verify", json={"token": token}).json()["status"] == "active"
    again = client.post("/api/v1/customers/verify", json={"token": token})
    assert again.status_code == 422 and again.json()["reason"] == "used"
    me = bearer(client, "sue@x.test")
    assert [a["owner_email"] for a in client.get("/api/v1/accounts", headers=me).json()] == ["sue@x.test"]
    assert client.get("/api/v1/me", headers=me).status_code == 401  # the staff side refuses a customer token
    assert client.get("/api/v1/transactions", headers=me).status_code == 401


def test_invite_account_then_sub_account_and_resend(client, auth_header, world, smtp):
    staff = auth_header(world["support"])
    client.put(f"/api/v1/organizations/{world['alpha'].id}/support-links", headers=staff,
               json={"terms_url": "https://alpha.test/terms", "privacy_url": "https://alpha.test/privacy"})
    r = client.post("/api/v1/accounts", headers=staff, json={"organization_id": world["alpha"].id,
                                                            "email": "boss@acme.test"})
    assert r.status_code == 201, r.text
    account_id, user_id = r.json()["account_id"], r.json()["customer_user_id"]
    sub = {"use": "employee", "name": "Ann", "email": "ann@acme.test", "kind": "consumer",
           "reimbursement_rate": "0.30"}
    assert client.post(f"/api/v1/accounts/{account_id}/sub-accounts", headers=staff,
                       json={**sub, "reimbursement_rate": "-1"}).status_code == 422
    assert client.post(f"/api/v1/accounts/{account_id}/sub-accounts", headers=staff,
                       json={**sub, "kind": "business"}).status_code == 422
    assert client.post(f"/api/v1/accounts/{account_id}/sub-accounts", headers=staff, json=sub).status_code == 201
    assert client.post(f"/api/v1/accounts/{account_id}/sub-accounts", headers=auth_header(world["cpo"]),
                       json={**sub, "email": "x@acme.test"}).status_code == 403  # a CPO only reads
    assert client.get(f"/api/v1/accounts/{account_id}", headers=auth_header(world["cpo"])).status_code == 404
    detail = client.get(f"/api/v1/accounts/{account_id}", headers=staff).json()
    assert [s["name"] for s in detail["sub_accounts"]] == ["Ann"]
    old = token_from(smtp.wait_for("boss@acme.test"))
    assert client.post(f"/api/v1/customers/{user_id}/resend-invitation", headers=staff).status_code == 200
    r = client.post("/api/v1/customers/activate", json={"token": old, "full_name": "Bo", "password": CUSTOMER_PASSWORD,
                                                       "accept_terms": True, "kind": "consumer"})
    assert r.status_code == 422 and r.json()["reason"] == "replaced"
    new = token_from(smtp.wait_for("boss@acme.test", 2))
    r = client.post("/api/v1/customers/activate", json={"token": new, "full_name": "Bo", "password": CUSTOMER_PASSWORD,
                                                       "accept_terms": True, "kind": "consumer"})
    assert r.status_code == 200 and r.json()["status"] == "active"
    assert client.post("/api/v1/accounts", headers=auth_header(world["cpo"]),
                       json={"organization_id": world["bravo"].id, "email": "z@x.test"}).status_code == 403


def test_a_customer_sees_only_its_own_sessions(client, session, world):
    staff = scope_for(session, world["admin"])
    org = world["alpha"]
    open_signup(session, staff, org)
    plan = make_plan(session, staff, org)
    charger = make_charger(session, org)
    mine, theirs = active_customer(session, org, "mine@x.test"), active_customer(session, org, "theirs@x.test")
    for user, tag in ((mine, "MINE"), (theirs, "THEIRS")):
        assets.activate_asset(session=session, scope=staff, account_id=user.account_id, kind="card", id_tag=tag,
                              plan_id=plan.id)
        tx = make_transaction(session, charger, started_at=datetime(2026, 11, 1, 8, tzinfo=UTC),
                              stopped_at=datetime(2026, 11, 1, 9, tzinfo=UTC), energy_wh=7000, id_tag=tag)
        tx.customer_account_id = user.account_id
        session.add(tx)
    session.commit()
    me = bearer(client, "mine@x.test")
    page = client.get("/api/v1/me/sessions", headers=me).json()
    assert [s["id_tag"] for s in page["items"]] == ["MINE"] and page["total"] == 1
    csv = client.get("/api/v1/me/sessions.csv", headers=me).text
    assert "MINE" in csv and "THEIRS" not in csv and "net_to_cpo" not in csv
    assert client.get(f"/api/v1/accounts/{theirs.account_id}", headers=me).status_code == 404
    assert client.post("/api/v1/auth/token", json={"email": "mine@x.test", "password": "wrong-password-x"}
                       ).status_code == 401
    assert client.get("/api/v1/me/sessions").status_code == 401


def test_staff_edit_and_deactivate_plans_and_a_customer_sees_only_those_on_offer(client, auth_header, session, world):
    staff = scope_for(session, world["admin"])
    org = world["alpha"]
    open_signup(session, staff, org)
    home = make_plan(session, staff, org, name="Home", for_card=False)
    make_plan(session, staff, org, name="Card", price="2.99", for_ac=False, for_dc=False)
    support, cpo = auth_header(world["support"]), auth_header(world["cpo"])
    body = {"name": "Home plus", "price": "5.90", "interval": "year", "session_fee": "0.25", "fee_kind": "fixed",
            "for_card": False}
    r = client.put(f"/api/v1/plans/{home.id}", headers=support, json=body)
    assert r.status_code == 200 and (r.json()["name"], r.json()["interval"]) == ("Home plus", "year")
    assert client.put(f"/api/v1/plans/{home.id}", headers=support, json={**body, "price": "-1"}).status_code == 422
    assert client.put(f"/api/v1/plans/{home.id}", headers=support, json={**body, "name": "card"}).status_code == 409
    assert client.put(f"/api/v1/plans/{home.id}", headers=cpo, json=body).status_code in (403, 404)
    assert client.put(f"/api/v1/plans/{home.id}/active", headers=support, json={"active": False}).json()["active"] \
        is False
    me = bearer(client, active_customer(session, org, "me@x.test").email)
    assert [p["name"] for p in client.get("/api/v1/plans", headers=me).json()] == ["Card"]
    assert [(p["name"], p["active"]) for p in client.get("/api/v1/plans", headers=support).json()] == [
        ("Card", True), ("Home plus", False)]
    # The customer activates its card on the plan on offer, then moves it; a retired plan is refused.
    account_id = client.get("/api/v1/accounts", headers=me).json()[0]["id"]
    card_plan = client.get("/api/v1/plans", headers=me).json()[0]["id"]
    r = client.post(f"/api/v1/accounts/{account_id}/assets", headers=me,
                    json={"kind": "card", "id_tag": "ME-1", "plan_id": home.id})
    assert r.status_code == 422 and "no longer offered" in r.json()["message"]
    asset = client.post(f"/api/v1/accounts/{account_id}/assets", headers=me,
                        json={"kind": "card", "id_tag": "ME-1", "plan_id": card_plan}).json()
    r = client.put(f"/api/v1/assets/{asset['id']}/plan", headers=me, json={"plan_id": home.id})
    assert r.status_code == 422
    assert client.put("/api/v1/assets/999999/plan", headers=me, json={"plan_id": card_plan}).status_code == 404
