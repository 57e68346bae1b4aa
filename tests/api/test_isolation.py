"""The API is scoped exactly like the UI, for every role, including by guessing ids."""
from __future__ import annotations

import pytest

from tests.utils.factories import make_charger, make_location_owner, make_operator, make_org, make_user


@pytest.fixture
def world(session):
    op = make_operator(session)
    a = make_org(session, slug="alpha")
    b = make_org(session, slug="bravo", currency="USD", timezone="America/New_York")
    owner = make_location_owner(session, a)
    a1 = make_charger(session, a, ocpp_id="A1", location_owner=owner)
    a2 = make_charger(session, a, ocpp_id="A2")
    b1 = make_charger(session, b, ocpp_id="B1")
    return dict(op=op, a=a, b=b, owner=owner, a1=a1, a2=a2, b1=b1)


EXPECTED = {
    # role: (bound to, visible org slugs, visible chargers) — None = every org
    "admin": ("b", {"operator", "alpha", "bravo"}, {"A1", "A2", "B1"}),
    "technical": ("b", {"operator", "alpha", "bravo"}, {"A1", "A2", "B1"}),
    "accounts": ("b", {"operator", "alpha", "bravo"}, {"A1", "A2", "B1"}),
    "network_manager": ("a", {"alpha"}, {"A1", "A2"}),
    "customer_support": ("a", {"alpha"}, {"A1", "A2"}),
    "cpo": ("a", {"alpha"}, {"A1", "A2"}),
}


@pytest.mark.parametrize("role", sorted(EXPECTED))
def test_each_role_lists_exactly_its_organizations_and_chargers(session, client, auth_header, world, role):
    bound, orgs, chargers = EXPECTED[role]
    user = make_user(session, role=role, orgs=[world[bound]])
    h = auth_header(user)
    assert {o["slug"] for o in client.get("/api/v1/organizations", headers=h).json()} == orgs
    page = client.get("/api/v1/chargers", headers=h).json()
    assert {c["ocpp_id"] for c in page["items"]} == chargers and page["total"] == len(chargers)


def test_cpo_guessing_another_organizations_ids_gets_404(session, client, auth_header, world):
    h = auth_header(make_user(session, role="cpo", orgs=[world["b"]]))
    r = client.get(f"/api/v1/chargers/{world['a1'].id}", headers=h)
    assert r.status_code == 404 and r.json() == {"message": "Charger not found."}
    assert client.get(f"/api/v1/organizations/{world['a'].id}", headers=h).status_code == 404
    # An id that does not exist at all answers the same.
    assert client.get("/api/v1/chargers/999999", headers=h).json() == {"message": "Charger not found."}
    assert client.get(f"/api/v1/chargers/{world['b1'].id}", headers=h).json()["ocpp_id"] == "B1"


def test_location_owner_sees_only_assigned_chargers_and_no_organization_list(session, client, auth_header, world):
    h = auth_header(make_user(session, role="location_owner", location_owner=world["owner"]))
    page = client.get("/api/v1/chargers", headers=h).json()
    assert [c["ocpp_id"] for c in page["items"]] == ["A1"]
    assert client.get(f"/api/v1/chargers/{world['a2'].id}", headers=h).status_code == 404
    r = client.get("/api/v1/organizations", headers=h)
    assert r.status_code == 403 and "may not view organizations" in r.json()["message"]


def test_charger_list_pages_in_sql(session, client, auth_header, world):
    h = auth_header(make_user(session, role="admin"))
    first = client.get("/api/v1/chargers?limit=2&offset=0", headers=h).json()
    second = client.get("/api/v1/chargers?limit=2&offset=2", headers=h).json()
    assert first["total"] == 3 and len(first["items"]) == 2 and len(second["items"]) == 1
    assert client.get("/api/v1/chargers?limit=0", headers=h).status_code == 422
