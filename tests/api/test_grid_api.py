"""/api/v1/grid and /api/v1/demand-response: scoped like the UI, bad input refused with a clear 4xx."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from core.clock import clock
from services.grid import classify, readings, regions
from services.grid.sources import Reading
from tests.utils.factories import make_charger, make_org, make_user

T0 = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


@pytest.fixture
def grid(session):
    regions.ensure_built_in(session=session)
    clock.set(T0)
    readings.store(session=session, region="DEMO", source="replay", readings=[
        Reading(ts=T0 - timedelta(seconds=15 * i), frequency_hz=Decimal("49.7") if i < 4 else Decimal("50.0"),
                demand_mw=Decimal(30000), generation_mw=Decimal(31000)) for i in range(20)])
    region = session.get(regions.GridRegion, "DEMO")
    clock.set(T0 - timedelta(minutes=2))
    classify.update_state(session=session, region=region)
    clock.set(T0)
    classify.update_state(session=session, region=region)
    session.commit()


@pytest.fixture
def people(session):
    lanka, other = make_org(session, slug="lanka"), make_org(session, slug="other")
    charger = make_charger(session, lanka, ocpp_id="CP-L1")
    return {"lanka": lanka, "other": other, "charger": charger,
            "admin": make_user(session, role="admin"),
            "manager": make_user(session, role="network_manager", orgs=[lanka]),
            "cpo": make_user(session, role="cpo", orgs=[lanka]),
            "outsider": make_user(session, role="network_manager", orgs=[other])}


def test_regions_readings_and_health_with_history(client, auth_header, grid, people):
    h = auth_header(people["cpo"])
    codes = [r["code"] for r in client.get("/api/v1/grid/regions", headers=h).json()]
    assert sorted(codes) == ["DEMO", "DE_LU", "GB", "LK"]
    points = client.get("/api/v1/grid/regions/DEMO/readings", headers=h, params={
        "from": "2026-12-03T11:55:00Z", "to": "2026-12-03T12:00:01Z", "bucket_seconds": 1}).json()
    assert len(points) == 20 and points[-1]["frequency_hz"] == "49.7000"
    health = client.get("/api/v1/grid/regions/DEMO/health", headers=h).json()
    assert health["state"] == "alert" and health["reason"] == "frequency 49.700 Hz"
    assert [e["state"] for e in health["history"]] == ["alert", "normal"]
    assert health["history"][1]["ended_at"] is not None


@pytest.mark.parametrize(("params", "status"), [
    ({"from": "2026-12-03T12:00:00", "to": "2026-12-03T13:00:00"}, 422),   # no time zone
    ({"from": "2026-12-03T13:00:00Z", "to": "2026-12-03T12:00:00Z"}, 422),  # backwards
    ({"from": "2026-01-01T00:00:00Z", "to": "2026-12-03T12:00:00Z"}, 422),  # too long
    ({"from": "yesterday"}, 422),
    ({"bucket_seconds": 0}, 422),
])
def test_bad_reading_ranges_are_refused(client, auth_header, grid, people, params, status):
    r = client.get("/api/v1/grid/regions/DEMO/readings", headers=auth_header(people["cpo"]), params=params)
    assert r.status_code == status and r.json()["message"]


def test_unknown_region_is_404(client, auth_header, grid, people):
    assert client.get("/api/v1/grid/regions/XX/health", headers=auth_header(people["cpo"])).status_code == 404


def test_policy_and_manual_event_scoped_to_the_organization(client, auth_header, grid, people):
    m, lanka, other = auth_header(people["manager"]), people["lanka"], people["other"]
    body = {"region": "DEMO", "enabled": True, "limit_percent": "40", "exempt_charger_ids": [people["charger"].id]}
    r = client.put(f"/api/v1/demand-response/policies/{lanka.id}", headers=m, json=body)
    assert r.status_code == 200 and Decimal(r.json()["limit_percent"]) == 40
    assert client.put(f"/api/v1/demand-response/policies/{other.id}", headers=m, json=body).status_code == 404
    both = client.put(f"/api/v1/demand-response/policies/{lanka.id}", headers=m, json={**body, "limit_kw": "7"})
    assert both.status_code == 422 and "not both" in both.json()["message"]
    extra = client.put(f"/api/v1/demand-response/policies/{lanka.id}", headers=m, json={**body, "x": 1})
    assert extra.status_code == 422
    vtn = {"vtn_url": "https://vtn.example/OpenADR2/Simple/2.0b", "ven_name": "lanka-ven"}
    bad_vtn = client.put(f"/api/v1/demand-response/policies/{lanka.id}", headers=m,
                         json={**body, **vtn, "vtn_url": "ftp://vtn.example"})
    assert bad_vtn.status_code == 422 and bad_vtn.json()["field"] == "vtn_url"
    with_vtn = client.put(f"/api/v1/demand-response/policies/{lanka.id}", headers=m, json={**body, **vtn})
    assert with_vtn.status_code == 200 and (with_vtn.json()["vtn_url"], with_vtn.json()["ven_name"]) == (
        vtn["vtn_url"], "lanka-ven")

    started = client.post("/api/v1/demand-response/events", headers=m,
                          json={"organization_id": lanka.id, "minutes": 30, "note": "utility call #12"})
    assert started.status_code == 201 and started.json()["origin"] == "manual"
    again = client.post("/api/v1/demand-response/events", headers=m, json={"organization_id": lanka.id})
    assert again.status_code == 409
    event_id = started.json()["id"]
    cpo = auth_header(people["cpo"])
    assert client.post("/api/v1/demand-response/events", headers=cpo,
                       json={"organization_id": lanka.id}).status_code == 403
    assert [e["id"] for e in client.get("/api/v1/demand-response/events", headers=cpo).json()] == [event_id]
    ended = client.post(f"/api/v1/demand-response/events/{event_id}/end", headers=m)
    assert ended.json()["status"] == "ending"
    rep = client.get(f"/api/v1/demand-response/events/{event_id}/report", headers=cpo).json()
    assert rep["curtailed_kw"] == "0.00" and rep["chargers"] == []
    outsider = auth_header(people["outsider"])
    assert client.get(f"/api/v1/demand-response/events/{event_id}", headers=outsider).status_code == 404
    assert client.get(f"/api/v1/demand-response/events/{event_id}/report", headers=outsider).status_code == 404


def test_grid_paths_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert {"/api/v1/grid/regions/{code}/readings", "/api/v1/grid/regions/{code}/health",
            "/api/v1/demand-response/events", "/api/v1/demand-response/events/{event_id}/report",
            "/api/v1/demand-response/policies/{organization_id}"} <= set(paths)
