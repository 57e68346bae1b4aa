"""REST parity (issue 15): what the UI does with id tags, tariffs, contracts, users and roles, a client's
integration does with an API key of the right scope, inside its client only, through the same services."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from core.clock import clock
from models import AuditLog, IdTag, Tariff, User
from services.access import roles
from services.access.scope import scope_for
from services.charging import idtags
from tests.utils.factories import make_charger, make_operator, make_org, make_tariff, make_user

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def world(session):
    clock.set(T0)
    make_operator(session)
    a, b = make_org(session, slug="client-a"), make_org(session, slug="client-b")
    admin = make_user(session, role="admin")
    idtags.create_id_tag(session=session, tag="BCARD", organization=b, holder_name="B driver")
    session.commit()
    return dict(a=a, b=b, admin=admin, a1=make_charger(session, a, ocpp_id="A1"),
                b1=make_charger(session, b, ocpp_id="B1"), ta=make_tariff(session, a, name="A standard"),
                tb=make_tariff(session, b, name="B standard"))


def _key(client, auth_header, world, *scopes):
    r = client.post(f"/api/v1/clients/{world['a'].id}/keys", headers=auth_header(world["admin"]),
                    json={"name": "Integration", "scopes": list(scopes)})
    assert r.status_code == 201, r.text
    return {"X-API-Key": r.json()["secret"]}


def test_a_key_manages_its_clients_id_tags_and_never_sees_another_clients(session, client, auth_header, world):
    k = _key(client, auth_header, world, "manage_id_tags")
    r = client.post("/api/v1/id-tags", headers=k, json={"organization_id": world["a"].id, "tag": "04A1B2",
                                                        "holder_name": "Anna", "expires_at": "2027-12-31T23:59:59Z"})
    assert r.status_code == 201, r.text
    assert (r.json()["tag"], r.json()["holder_name"], r.json()["status"]) == ("04A1B2", "Anna", "Accepted")
    r = client.put("/api/v1/id-tags/04a1b2", headers=k, json={"holder_name": "Anna Weber", "expires_at": None})
    assert r.status_code == 200 and r.json()["holder_name"] == "Anna Weber" and r.json()["expires_at"] is None
    r = client.get("/api/v1/id-tags", headers=k)
    assert [t["tag"] for t in r.json()["items"]] == ["04A1B2"] and r.json()["total"] == 1
    # B's card: not listed, not readable, not editable, and not creatable again under A (tags are global).
    assert client.get("/api/v1/id-tags/BCARD", headers=k).status_code == 404
    assert client.put("/api/v1/id-tags/BCARD", headers=k, json={"holder_name": "x"}).status_code == 404
    r = client.post("/api/v1/id-tags", headers=k, json={"organization_id": world["a"].id, "tag": "bcard"})
    assert r.status_code == 409 and "B" not in r.json()["message"].replace("bcard", "")
    r = client.post("/api/v1/id-tags", headers=k, json={"organization_id": world["b"].id, "tag": "NEWB"})
    assert r.status_code == 404
    assert session.execute(select(IdTag).where(IdTag.tag == "BCARD")).scalar_one().holder_name == "B driver"
    assert session.execute(select(AuditLog).where(AuditLog.entity == "id_tag", AuditLog.action == "update")).scalar()


def test_bad_id_tag_input_is_refused_with_a_clear_message(session, client, auth_header, world):
    k = _key(client, auth_header, world, "manage_id_tags")
    r = client.post("/api/v1/id-tags", headers=k, json={"organization_id": world["a"].id, "tag": "X" * 21})
    assert r.status_code == 422
    r = client.post("/api/v1/id-tags", headers=k, json={"organization_id": world["a"].id, "tag": "OK1",
                                                        "holder_name": "n" * 201})
    assert r.status_code == 422
    r = client.post("/api/v1/id-tags", headers=k, json={"organization_id": world["a"].id, "tag": "OK1",
                                                        "expires_at": "2027-01-01T00:00:00"})
    assert r.status_code == 422 and "timezone" in r.json()["message"]
    assert client.get("/api/v1/id-tags", headers=k).json()["total"] == 0


def test_a_key_edits_its_clients_tariffs_and_assigns_them_but_not_another_clients(session, client, auth_header,
                                                                                   world):
    k = _key(client, auth_header, world, "manage_tariffs", "view_organizations", "view_chargers")
    r = client.put(f"/api/v1/tariffs/{world['ta'].id}", headers=k, json={"price_per_kwh": "0.45"})
    assert r.status_code == 200 and r.json()["price_per_kwh"] in ("0.45", "0.4500", 0.45)
    second = client.post(f"/api/v1/organizations/{world['a'].id}/tariffs", headers=k,
                         json={"name": "Night", "price_per_kwh": "0.20"}).json()
    r = client.put(f"/api/v1/chargers/{world['a1'].id}/tariff", headers=k, json={"tariff_id": second["id"]})
    assert r.status_code == 200, r.text
    assert client.get(f"/api/v1/tariffs/{world['tb'].id}", headers=k).status_code == 404
    r = client.put(f"/api/v1/tariffs/{world['tb'].id}", headers=k, json={"price_per_kwh": "9"})
    assert r.status_code == 404
    r = client.put(f"/api/v1/chargers/{world['a1'].id}/tariff", headers=k, json={"tariff_id": world["tb"].id})
    assert r.status_code == 422 and "does not belong" in r.json()["message"]
    r = client.put(f"/api/v1/tariffs/{world['ta'].id}", headers=k, json={"price_per_kwh": "-1"})
    assert r.status_code == 422
    session.expire_all()
    assert str(session.get(Tariff, world["tb"].id).price_per_kwh) != "9.00"


def test_contracts_are_added_by_the_operator_and_no_client_key_can_hold_that(session, client, auth_header, world):
    h = auth_header(world["admin"])
    r = client.post(f"/api/v1/organizations/{world['a'].id}/contracts", headers=h,
                    json={"kind": "platform", "rate": "7.5"})
    assert r.status_code == 201 and r.json()["rate"] in ("7.500", "7.5", 7.5)
    assert [c["id"] for c in client.get(f"/api/v1/organizations/{world['a'].id}/contracts", headers=h).json()] \
        == [r.json()["id"]]
    r = client.post(f"/api/v1/organizations/{world['a'].id}/contracts", headers=h,
                    json={"kind": "platform", "rate": "7.5", "effective_on": "2020-01-01"})
    assert r.status_code == 422 and "in the past" in r.json()["message"]
    r = client.post(f"/api/v1/clients/{world['a'].id}/keys", headers=h,
                    json={"name": "Books", "scopes": ["manage_organizations"]})
    assert r.status_code == 403 and "only the operator" in r.json()["message"]


def test_a_client_admin_gives_roles_through_the_api_but_never_more_than_it_holds(session, client, auth_header,
                                                                                 world):
    a, admin = world["a"], world["admin"]
    op = scope_for(session, admin)
    lead = roles.create_role(session=session, scope=op, user_id=admin.id, organization_id=a.id, name="Lead",
                             capabilities=["view_chargers", "manage_users", "view_users", "manage_roles"])
    big = roles.create_role(session=session, scope=op, user_id=admin.id, organization_id=a.id, name="Big",
                            capabilities=["view_chargers", "command_chargers", "manage_users"])
    small = roles.create_role(session=session, scope=op, user_id=admin.id, organization_id=a.id, name="Viewer",
                              capabilities=["view_chargers"])
    boss = make_user(session, role="cpo", orgs=[a], email="lead@a.test")
    staff = make_user(session, role="cpo", orgs=[a], email="staff@a.test")
    other = make_user(session, role="cpo", orgs=[world["b"]], email="other@b.test")
    boss.custom_role_id = lead.id
    session.commit()
    h = auth_header(boss)
    r = client.put(f"/api/v1/users/{staff.id}/role", headers=h, json={"custom_role_id": small.id})
    assert r.status_code == 200 and r.json()["role_label"] == "Viewer"
    r = client.put(f"/api/v1/users/{staff.id}/role", headers=h, json={"custom_role_id": big.id})
    assert r.status_code == 403 and "command_chargers" in r.json()["message"]
    assert client.put(f"/api/v1/users/{other.id}/role", headers=h, json={"custom_role_id": small.id}).status_code \
        == 404
    r = client.put(f"/api/v1/users/{boss.id}/role", headers=h, json={"custom_role_id": small.id})
    assert r.status_code == 422 and "your own role" in r.json()["message"]
    # A role holding what its creator lacks is refused on creation too (the same check).
    r = client.post(f"/api/v1/clients/{a.id}/roles", headers=h,
                    json={"name": "Sneaky", "capabilities": ["command_chargers"]})
    assert r.status_code == 403
    # The operator's key with manage_users and manage_roles does the same through X-API-Key.
    k = _key(client, auth_header, world, "manage_users", "view_users", "manage_roles", "view_chargers",
             "command_chargers")
    r = client.put(f"/api/v1/users/{staff.id}/role", headers=k, json={"custom_role_id": big.id})
    assert r.status_code == 200 and r.json()["role_label"] == "Big"
    session.expire_all()
    assert session.get(User, staff.id).custom_role_id == big.id
    assert session.get(User, other.id).custom_role_id is None
