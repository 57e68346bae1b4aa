"""The operator's clients over HTTP: add one with its first admin invited by mail, assign chargers, limits
that name themselves, monitoring with the client's own numbers, and custom roles bounded by their creator."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from core.clock import clock
from core.config import get_settings
from models import AuditLog, Organization, Transaction, User
from services.access import roles
from services.access.permissions import Cap
from services.access.scope import scope_for
from services.clients import clients as client_svc
from tests.utils.factories import (
    make_charger,
    make_operator,
    make_org,
    make_transaction,
    make_user,
    stop_transaction,
)
from tests.utils.smtp import SmtpServer, links

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def smtp(monkeypatch):
    with SmtpServer() as server:
        monkeypatch.setattr(get_settings(), "smtp_url", server.url)
        yield server.inbox


@pytest.fixture
def world(session):
    clock.set(T0)
    op = make_operator(session)
    a, b = make_org(session, slug="client-a"), make_org(session, slug="client-b")
    return dict(op=op, a=a, b=b, admin=make_user(session, role="admin"),
                chargers=[make_charger(session, op, ocpp_id=f"OP{i}") for i in range(3)],
                b1=make_charger(session, b, ocpp_id="B1"))


def _client_admin(session, client, auth_header, world, org):
    """A client admin holding the "Client admin" custom role, as a new client's first admin does."""
    role = roles.client_admin_role(session=session, organization_id=org.id)
    session.commit()
    r = client.post("/api/v1/users/invite", headers=auth_header(world["admin"]),
                    json={"email": f"boss@{org.slug}.test", "role": "cpo", "custom_role_id": role.id})
    user = session.get(User, r.json()["user_id"])
    user.status = "active"  # as if the invitation was accepted
    session.commit()
    return user


def test_adding_a_client_in_eu_invites_its_first_admin_by_mail(session, client, auth_header, world, smtp):
    r = client.post("/api/v1/clients", headers=auth_header(world["admin"]), json={
        "name": "Fleetline GmbH", "slug": "fleetline", "currency": "EUR", "timezone": "Europe/Berlin",
        "region": "EU", "admin_email": "anna@fleetline.test", "admin_name": "Anna", "legal_name": "Fleetline GmbH",
        "tax_number": "DE123456789"})
    assert r.status_code == 201, r.text
    org = session.get(Organization, r.json()["organization_id"])
    assert (org.region, org.kind, org.tax_number, org.parent_id) == ("EU", "client", "DE123456789", world["op"].id)
    msg = smtp.wait_for("anna@fleetline.test")
    assert any("/activate/" in link for link in links(msg))
    admin = session.get(User, r.json()["admin_user_id"])
    session.refresh(admin)
    assert admin.status == "invited" and roles.label_of(session, admin) == "Client admin"
    scope = scope_for(session, admin)
    assert scope.org_ids == {org.id} and scope.can(Cap.MANAGE_API_KEYS) and not scope.can(Cap.MANAGE_CLIENTS)
    listed = client.get("/api/v1/clients", headers=auth_header(world["admin"])).json()
    assert [c["name"] for c in listed] == ["Client A", "Client B", "Fleetline GmbH"]
    assert next(c for c in listed if c["id"] == org.id)["users"] == {"used": 1, "limit": None}


def test_a_bad_region_is_refused_and_nothing_is_created(session, client, auth_header, world):
    r = client.post("/api/v1/clients", headers=auth_header(world["admin"]), json={
        "name": "X", "slug": "x-co", "currency": "EUR", "timezone": "UTC", "region": "MARS",
        "admin_email": "x@x.test"})
    assert r.status_code == 422 and "Region must be one of" in r.json()["message"]
    assert session.execute(select(Organization).where(Organization.slug == "x-co")).first() is None


def test_assigning_two_chargers_keeps_their_history_with_the_organization_that_earned_it(session, client,
                                                                                          auth_header, world):
    c0, c1, _ = world["chargers"]
    tx = make_transaction(session, c0, started_at=T0 - timedelta(hours=2))
    stop_transaction(session, tx, stopped_at=T0 - timedelta(hours=1), energy_wh=5000)
    h = auth_header(world["admin"])
    r = client.post(f"/api/v1/clients/{world['a'].id}/chargers", headers=h, json={"charger_ids": [c0.id, c1.id]})
    assert r.status_code == 200 and r.json() == {"moved": 2}
    row = client.get(f"/api/v1/clients/{world['a'].id}", headers=h).json()
    assert row["chargers"] == {"used": 2, "limit": None}
    session.expire_all()
    assert session.get(Transaction, tx.id).organization_id == world["op"].id
    # The client's own user sees the two chargers and not the session it did not earn.
    cpo = make_user(session, role="cpo", orgs=[world["a"]])
    page = client.get("/api/v1/chargers", headers=auth_header(cpo)).json()
    assert sorted(c["ocpp_id"] for c in page["items"]) == ["OP0", "OP1"]
    assert client.get("/api/v1/transactions", headers=auth_header(cpo)).json()["total"] == 0


def test_a_client_at_its_charger_limit_cannot_add_one_more(session, client, auth_header, world):
    h = auth_header(world["admin"])
    r = client.put(f"/api/v1/clients/{world['a'].id}/limits", headers=h, json={"max_chargers": 1})
    assert r.status_code == 200 and r.json()["max_chargers"] == 1
    c0, c1, c2 = world["chargers"]
    r = client.post(f"/api/v1/clients/{world['a'].id}/chargers", headers=h, json={"charger_ids": [c0.id, c1.id]})
    assert r.status_code == 409 and r.json()["message"] == "Client A has reached its maximum chargers limit (1)."
    assert client.post(f"/api/v1/clients/{world['a'].id}/chargers", headers=h,
                       json={"charger_ids": [c0.id]}).status_code == 200
    r = client.post(f"/api/v1/clients/{world['a'].id}/chargers", headers=h, json={"charger_ids": [c2.id]})
    assert r.status_code == 409 and "maximum chargers limit" in r.json()["message"]
    assert client.get(f"/api/v1/clients/{world['a'].id}", headers=h).json()["chargers"] == {"used": 1, "limit": 1}
    r = client.put(f"/api/v1/clients/{world['a'].id}/limits", headers=h, json={"max_users": -1})
    assert r.status_code == 422 and "Max users" in r.json()["message"]


def test_a_client_at_its_user_limit_cannot_invite_one_more(session, client, auth_header, world):
    h = auth_header(world["admin"])
    client.put(f"/api/v1/clients/{world['a'].id}/limits", headers=h, json={"max_users": 1})
    make_user(session, role="cpo", orgs=[world["a"]])
    r = client.post("/api/v1/users/invite", headers=h,
                    json={"email": "two@a.test", "role": "cpo", "organization_id": world["a"].id})
    assert r.status_code == 409 and r.json()["message"] == "Client A has reached its maximum users limit (1)."


def test_monitoring_shows_the_numbers_the_client_sees(session, client, auth_header, world):
    b1 = world["b1"]
    tx = make_transaction(session, b1, started_at=T0 - timedelta(hours=2))
    stop_transaction(session, tx, stopped_at=T0 - timedelta(hours=1), energy_wh=7000)
    row = client.get(f"/api/v1/clients/{world['b'].id}", headers=auth_header(world["admin"])).json()
    cpo_b = make_user(session, role="cpo", orgs=[world["b"]])
    seen = client_svc.dashboard.summary(session=session, scope=scope_for(session, cpo_b)).currencies
    assert row["sessions_month"] == sum(c.periods["month"].sessions for c in seen) == 1
    assert row["energy_kwh_month"] == "7.000" or float(row["energy_kwh_month"]) == 7.0
    assert sum(row["status_counts"].values()) == 1


def test_view_as_client_is_read_only_and_audited(session, world):
    admin_scope = scope_for(session, world["admin"])
    seen = client_svc.view_as_client(session=session, scope=admin_scope, user_id=world["admin"].id,
                                     organization_id=world["b"].id)
    session.commit()
    assert seen.org_ids == {world["b"].id} and seen.can(Cap.VIEW_CHARGERS)
    assert not seen.can(Cap.MANAGE_CHARGERS) and not seen.can(Cap.COMMAND_CHARGERS)
    entry = session.execute(select(AuditLog).where(AuditLog.action == "view_as_client")).scalar_one()
    assert (entry.user_id, entry.organization_id) == (world["admin"].id, world["b"].id)


def test_a_custom_role_cannot_hold_what_its_creator_lacks(session, client, auth_header, world):
    boss = _client_admin(session, client, auth_header, world, world["a"])
    h = auth_header(boss)
    r = client.post(f"/api/v1/clients/{world['a'].id}/roles", headers=h,
                    json={"name": "Dispatcher", "capabilities": ["view_chargers", "command_chargers"]})
    assert r.status_code == 201, r.text
    r = client.post(f"/api/v1/clients/{world['a'].id}/roles", headers=h,
                    json={"name": "Boss", "capabilities": ["view_chargers", "manage_clients"]})
    assert r.status_code == 403 and "cannot hold manage_clients" in r.json()["message"]
    # Nor for another client: it does not exist as far as the client admin can tell.
    r = client.post(f"/api/v1/clients/{world['b'].id}/roles", headers=h,
                    json={"name": "Spy", "capabilities": ["view_chargers"]})
    assert r.status_code == 404


def test_a_user_holding_a_custom_role_gets_exactly_its_capabilities(session, client, auth_header, world):
    h = auth_header(world["admin"])
    role = client.post(f"/api/v1/clients/{world['b'].id}/roles", headers=h,
                       json={"name": "Viewer", "capabilities": ["view_chargers"]}).json()
    r = client.post("/api/v1/users/invite", headers=h,
                    json={"email": "v@b.test", "role": "cpo", "custom_role_id": role["id"]})
    assert r.status_code == 201, r.text
    viewer = session.get(User, r.json()["user_id"])
    viewer.status = "active"  # as if the invitation was accepted
    session.commit()
    vh = auth_header(viewer)
    me = client.get("/api/v1/me", headers=vh).json()
    assert me["role_label"] == "Viewer" and me["capabilities"] == ["view_chargers"]
    assert [c["ocpp_id"] for c in client.get("/api/v1/chargers", headers=vh).json()["items"]] == ["B1"]
    assert client.get("/api/v1/transactions", headers=vh).status_code == 403
    # Narrowing the role narrows the user at once; a role held by a user cannot be deleted.
    client.put(f"/api/v1/clients/roles/{role['id']}", headers=h, json={"capabilities": ["view_transactions"]})
    assert client.get("/api/v1/chargers", headers=vh).status_code == 403
    r = client.delete(f"/api/v1/clients/roles/{role['id']}", headers=h)
    assert r.status_code == 409 and "hold the role 'Viewer'" in r.json()["message"]




def _key(client, h, org, scopes=("view_chargers",)):
    r = client.post(f"/api/v1/clients/{org.id}/keys", headers=h, json={"name": "App", "scopes": list(scopes)})
    return r.json()


def test_a_branded_app_fetches_its_config_with_its_own_key_and_follows_a_rotation(session, client, auth_header,
                                                                                  world):
    h = auth_header(world["admin"])
    key = _key(client, h, world["a"])
    r = client.put(f"/api/v1/clients/{world['a'].id}/app", headers=h, json={
        "app_name": "Alpha Charge", "primary_color": "#112233", "support_email": "Help@Alpha.test",
        "terms_url": "https://alpha.test/terms", "features": {"map": True, "payments": False},
        "api_key_id": key["key"]["id"]})
    assert r.status_code == 200, r.text
    config = client.get("/api/v1/app/config", headers={"X-API-Key": key["secret"]}).json()
    assert config["app_name"] == "Alpha Charge" and config["primary_color"] == "#112233"
    assert config["support_email"] == "help@alpha.test" and config["features"]["map"] is True
    assert config["features"]["payments"] is False and "api_key_id" not in config
    new = client.post(f"/api/v1/clients/keys/{key['key']['id']}/rotate", headers=h, json={"grace": "1h"}).json()
    for secret in (key["secret"], new["secret"]):
        assert client.get("/api/v1/app/config", headers={"X-API-Key": secret}).json()["app_name"] == "Alpha Charge"
    # Another client's key finds no app, and cannot be given to this client's app.
    other = _key(client, h, world["b"])
    assert client.get("/api/v1/app/config", headers={"X-API-Key": other["secret"]}).status_code == 404
    r = client.put(f"/api/v1/clients/{world['a'].id}/app", headers=h, json={"api_key_id": other["key"]["id"]})
    assert r.status_code == 422 and "this client's current API keys" in r.json()["message"]
    # A user's token is not an app.
    assert client.get("/api/v1/app/config", headers=h).status_code == 400


def test_app_builder_refuses_bad_colours_and_links(session, client, auth_header, world):
    h = auth_header(world["admin"])
    for body, words in (({"primary_color": "red"}, "must read like #1A2B3C"),
                        ({"terms_url": "javascript:alert(1)"}, "http(s) address"),
                        ({"app_name": "x" * 61}, "at most 60"),
                        ({"features": {"teleport": True}}, "Feature switches are")):
        r = client.put(f"/api/v1/clients/{world['a'].id}/app", headers=h, json=body)
        assert r.status_code == 422 and words in r.json()["message"], (body, r.text)
    assert client.get(f"/api/v1/clients/{world['a'].id}/app", headers=h).json()["app_name"] == "Client A"


def test_an_app_linked_to_another_client_serves_its_branding_only_once_that_client_gives_it_a_key(
        session, client, auth_header, world):
    h = auth_header(world["admin"])
    old = _key(client, h, world["a"])
    client.put(f"/api/v1/clients/{world['a'].id}/app", headers=h,
               json={"app_name": "Alpha Charge", "api_key_id": old["key"]["id"]})
    r = client.post(f"/api/v1/clients/{world['b'].id}/apps", headers=h, json={"from_organization_id": world["a"].id})
    assert r.status_code == 200 and r.json()["app_name"] == "Alpha Charge", r.text
    assert client.get("/api/v1/app/config", headers={"X-API-Key": old["secret"]}).status_code == 404
    new = _key(client, h, world["b"])
    client.put(f"/api/v1/clients/{world['b'].id}/app", headers=h, json={"api_key_id": new["key"]["id"]})
    assert client.get("/api/v1/app/config", headers={"X-API-Key": new["secret"]}).json()["app_name"] == "Alpha Charge"
    r = client.post(f"/api/v1/clients/{world['b'].id}/fleets", headers=h, json={"account_id": 999})
    assert r.status_code == 422 and "Choose a fleet" in r.json()["message"]
