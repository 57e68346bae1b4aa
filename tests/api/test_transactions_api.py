"""GET /api/v1/transactions, /transactions/{id} and /transactions.csv: filters, scope, paging, CSV."""
from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from app.api.main import create_api
from models import OcppMessage
from tests.utils.factories import (
    auth_headers,
    make_charger,
    make_location_owner,
    make_org,
    make_tariff,
    make_transaction,
    make_user,
)

NY = ZoneInfo("America/New_York")


@pytest.fixture
def client(session):
    with TestClient(create_api()) as c:
        yield c


@pytest.fixture
def data(session):
    gotham = make_org(session, slug="gotham", currency="USD", timezone="America/New_York")
    other = make_org(session, slug="other", currency="EUR")
    owner = make_location_owner(session, gotham, "Hudson Realty")
    c1 = make_charger(session, gotham, ocpp_id="US-1", location_owner=owner)
    c2 = make_charger(session, gotham, ocpp_id="US-2")
    c3 = make_charger(session, other, ocpp_id="EU-1")
    make_tariff(session, gotham, price_per_kwh="0.50")
    make_tariff(session, other, price_per_kwh="0.40")
    txs = {
        "late": make_transaction(session, c1, started_at=datetime(2026, 3, 10, 23, 30, tzinfo=NY),
                                 stopped_at=datetime(2026, 3, 11, 0, 30, tzinfo=NY), energy_wh=4000),
        "next_day": make_transaction(session, c2, started_at=datetime(2026, 3, 11, 0, 30, tzinfo=NY),
                                     stopped_at=datetime(2026, 3, 11, 1, 0, tzinfo=NY), energy_wh=2000),
        "foreign": make_transaction(session, c3, started_at=datetime(2026, 3, 10, 12, tzinfo=UTC),
                                    stopped_at=datetime(2026, 3, 10, 13, tzinfo=UTC), energy_wh=1000),
    }
    session.add(OcppMessage(charger_id=c1.id, transaction_id=txs["late"].id, direction="in", action="StopTransaction",
                            frame='[2,"9","StopTransaction",{}]',
                            created_at=datetime(2026, 3, 11, 0, 30, tzinfo=NY)))
    session.commit()
    return dict(gotham=gotham, other=other, owner=owner, c1=c1, c2=c2, c3=c3, **txs)


def test_list_filters_by_local_date_range_and_charger_and_returns_prices(client, session, data):
    admin = make_user(session, role="admin")
    r = client.get("/api/v1/transactions", headers=auth_headers(admin),
                   params={"date_from": "2026-03-10", "date_to": "2026-03-10", "organization_id": data["gotham"].id})
    assert r.status_code == 200
    body = r.json()
    assert [i["id"] for i in body["items"]] == [data["late"].id]
    assert body["items"][0]["amount_gross"] == "2.00" and body["items"][0]["currency"] == "USD"
    r = client.get("/api/v1/transactions", headers=auth_headers(admin), params={"charger_id": data["c2"].id})
    assert [i["id"] for i in r.json()["items"]] == [data["next_day"].id]


def test_list_is_scoped_and_paginated(client, session, data):
    cpo = make_user(session, role="cpo", orgs=[data["gotham"]])
    r = client.get("/api/v1/transactions", headers=auth_headers(cpo), params={"limit": 1, "sort": "started_at",
                                                                              "order": "asc"})
    body = r.json()
    assert body["total"] == 2 and [i["id"] for i in body["items"]] == [data["late"].id]
    r = client.get("/api/v1/transactions", headers=auth_headers(cpo), params={"limit": 1, "offset": 1,
                                                                              "order": "asc"})
    assert [i["id"] for i in r.json()["items"]] == [data["next_day"].id]
    r = client.get("/api/v1/transactions", headers=auth_headers(cpo), params={"organization_id": data["other"].id})
    assert r.status_code == 404


def test_bad_filters_answer_422_with_a_message(client, session, data):
    admin = make_user(session, role="admin")
    r = client.get("/api/v1/transactions", headers=auth_headers(admin),
                   params={"date_from": "2026-03-12", "date_to": "2026-03-10"})
    assert r.status_code == 422 and "on or before" in r.json()["message"]
    r = client.get("/api/v1/transactions", headers=auth_headers(admin), params={"status": "paid"})
    assert r.status_code == 422


def test_detail_shows_raw_ocpp_to_technical_but_not_to_accounts_and_hides_other_orgs(client, session, data):
    tech, accounts = make_user(session, role="technical"), make_user(session, role="accounts")
    owner = make_user(session, role="location_owner", location_owner=data["owner"])
    url = f"/api/v1/transactions/{data['late'].id}"
    body = client.get(url, headers=auth_headers(tech)).json()
    assert [m["action"] for m in body["raw_messages"]] == ["StopTransaction"]
    assert body["amounts"]["gross"] == "2.00" and body["price_breakdown"]["energy"]["kwh"] == "4"
    assert client.get(url, headers=auth_headers(accounts)).json()["raw_messages"] is None
    assert client.get(url, headers=auth_headers(owner)).status_code == 200
    r = client.get(f"/api/v1/transactions/{data['next_day'].id}", headers=auth_headers(owner))
    assert r.status_code == 404 and r.json()["message"] == "Session not found."
    assert client.get(url).status_code == 401


def test_csv_download_streams_the_filtered_list(client, session, data):
    admin = make_user(session, role="admin")
    r = client.get("/api/v1/transactions.csv", headers=auth_headers(admin),
                   params={"organization_id": data["gotham"].id, "order": "asc"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [(row["charger"], row["started_at"], row["gross"]) for row in rows] == [
        ("US-1", "2026-03-10T23:30:00-04:00", "2.00"), ("US-2", "2026-03-11T00:30:00-04:00", "1.00")]
    r = client.get("/api/v1/transactions.csv", headers=auth_headers(admin), params={"preset": "2d"})
    assert r.status_code == 422
