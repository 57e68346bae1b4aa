"""GET/PUT /api/v1/organizations/{id} and the tariffs under it: who may edit, validation, scope."""
from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.api.main import create_api
from models import Organization
from tests.utils.factories import auth_headers, make_org, make_user


@pytest.fixture
def client(session):
    with TestClient(create_api()) as c:
        yield c


@pytest.fixture
def org(session):
    return make_org(session, slug="berlin", currency="EUR")


@pytest.mark.parametrize("role", ["admin", "technical", "accounts"])
def test_admin_technical_and_accounts_may_update_an_organization(client, session, org, role):
    user = make_user(session, role=role)
    r = client.put(f"/api/v1/organizations/{org.id}", headers=auth_headers(user),
                   json={"vat_rate": "19", "billing_cycle": "weekly", "billing_day": 1, "legal_name": "Berlin GmbH",
                         "platform_commission_rate": "8.5"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["vat_rate"], body["billing_cycle"], body["legal_name"], body["platform_commission_rate"]) == (
        "19.000", "weekly", "Berlin GmbH", "8.500")


@pytest.mark.parametrize("role", ["network_manager", "customer_support", "cpo"])
def test_other_roles_are_refused_with_403(client, session, org, role):
    user = make_user(session, role=role, orgs=[org])
    r = client.put(f"/api/v1/organizations/{org.id}", headers=auth_headers(user), json={"name": "Hacked"})
    assert r.status_code == 403
    assert client.get(f"/api/v1/organizations/{org.id}", headers=auth_headers(user)).status_code == 200


def test_bad_values_are_refused_with_422_and_nothing_saved(client, session, org):
    user = make_user(session, role="accounts")
    for body, message in (({"billing_cycle": "weekly", "billing_day": 31}, "weekly cycle"),
                          ({"currency": "ABC", "name": "New"}, "Unknown currency"),
                          ({"vat_rate": -5}, "VAT rate (%) must be between 0 and 50")):
        r = client.put(f"/api/v1/organizations/{org.id}", headers=auth_headers(user), json=body)
        assert r.status_code == 422 and message in r.json()["message"], r.text
    session.expire_all()
    fresh = session.get(Organization, org.id)
    assert (fresh.name, fresh.currency, fresh.billing_cycle) == ("Berlin", "EUR", "monthly")


def test_an_organization_outside_the_scope_answers_404(client, session, org):
    other = make_org(session, slug="other")
    cpo = make_user(session, role="cpo", orgs=[other])
    assert client.get(f"/api/v1/organizations/{org.id}", headers=auth_headers(cpo)).status_code == 404


def test_tariffs_are_created_and_listed_and_a_negative_price_is_refused(client, session, org):
    accounts = make_user(session, role="accounts")
    r = client.post(f"/api/v1/organizations/{org.id}/tariffs", headers=auth_headers(accounts),
                    json={"name": "Standard", "price_per_kwh": "0.49", "vat_inclusive": True,
                          "bands": [{"start": "17:00", "end": "20:00", "price_per_kwh": "0.59"}]})
    assert r.status_code == 201, r.text
    assert r.json()["is_default"] is True
    r = client.post(f"/api/v1/organizations/{org.id}/tariffs", headers=auth_headers(accounts),
                    json={"name": "Bad", "price_per_kwh": "-1"})
    assert r.status_code == 422 and "Price per kWh must be between 0" in r.json()["message"]
    listed = client.get(f"/api/v1/organizations/{org.id}/tariffs", headers=auth_headers(accounts)).json()
    assert [(t["name"], t["bands"]) for t in listed] == [
        ("Standard", [{"start": "17:00", "end": "20:00", "price_per_kwh": "0.59"}])]
    cpo = make_user(session, role="cpo", orgs=[org])
    r = client.post(f"/api/v1/organizations/{org.id}/tariffs", headers=auth_headers(cpo), json={"name": "X"})
    assert r.status_code == 403
