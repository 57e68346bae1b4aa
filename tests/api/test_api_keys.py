"""Per-client API keys over HTTP: shown once, scoped to their client, refused with a reason, rate limited."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from core.clock import clock, utcnow
from models import ApiKey, AuditLog, ClientLimits, UnknownCharger
from services.access import api_keys
from tests.utils.factories import make_charger, make_operator, make_org, make_user


@pytest.fixture
def world(session):
    make_operator(session)
    a = make_org(session, slug="client-a")
    b = make_org(session, slug="client-b")
    make_charger(session, a, ocpp_id="A1")
    b1 = make_charger(session, b, ocpp_id="B1")
    admin = make_user(session, role="admin")
    return dict(a=a, b=b, b1=b1, admin=admin)


def _create(client, h, org, scopes=("view_chargers",), **extra):
    r = client.post(f"/api/v1/clients/{org.id}/keys", headers=h, json={"name": "Fleet app", "scopes": list(scopes),
                                                                       **extra})
    assert r.status_code == 201, r.text
    return r.json()


def test_a_key_is_shown_once_with_prefix_and_checksum_and_only_its_hash_is_stored(session, client, auth_header,
                                                                                    world):
    h = auth_header(world["admin"])
    created = _create(client, h, world["a"])
    secret = created["secret"]
    assert secret.startswith("vd_live_") and api_keys.well_formed(secret)
    assert not api_keys.well_formed(secret[:-1] + ("A" if secret[-1] != "A" else "B"))  # checksum catches a typo
    listed = client.get(f"/api/v1/clients/{world['a'].id}/keys", headers=h).json()
    assert [(k["prefix"], k["last_four"], k["status"]) for k in listed] == [(secret[:12], secret[-4:], "active")]
    assert "secret" not in listed[0] and secret not in str(listed)
    stored = session.execute(select(ApiKey)).scalar_one()
    assert stored.key_hash == api_keys.key_hash(secret) and secret not in str(stored.model_dump())


def test_a_key_reads_only_its_clients_data_with_its_scopes(session, client, auth_header, world):
    secret = _create(client, auth_header(world["admin"]), world["a"])["secret"]
    k = {"X-API-Key": secret}
    page = client.get("/api/v1/chargers", headers=k).json()
    assert [c["ocpp_id"] for c in page["items"]] == ["A1"]
    assert client.get(f"/api/v1/chargers/{world['b1'].id}", headers=k).status_code == 404
    # Organizations are not among the key's scopes.
    r = client.get("/api/v1/organizations", headers=k)
    assert r.status_code == 403 and "may not view organizations" in r.json()["message"]
    # Nor may it manage keys, its own client's or another's.
    assert client.get(f"/api/v1/clients/{world['a'].id}/keys", headers=k).status_code == 403


def test_a_key_cannot_hold_more_than_its_creator_nor_operator_only_capabilities(session, client, auth_header, world):
    support = make_user(session, role="customer_support", orgs=[world["a"]])
    admin_h = auth_header(world["admin"])
    r = client.post(f"/api/v1/clients/{world['a'].id}/keys", headers=admin_h,
                    json={"name": "x", "scopes": ["manage_clients"]})
    assert r.status_code == 403 and "only the operator holds it" in r.json()["message"]
    r = client.post(f"/api/v1/clients/{world['a'].id}/keys", headers=admin_h, json={"name": "x", "scopes": ["fly"]})
    assert r.status_code == 422 and "Unknown capability: fly" in r.json()["message"]
    # Customer support may not manage keys at all; nothing was created by either attempt.
    r = client.post(f"/api/v1/clients/{world['a'].id}/keys", headers=auth_header(support),
                    json={"name": "x", "scopes": ["view_chargers"]})
    assert r.status_code == 403
    assert session.execute(select(ApiKey)).first() is None


def test_expired_revoked_and_rotated_out_keys_get_401_saying_which(session, client, auth_header, world):
    h = auth_header(world["admin"])
    expiring = _create(client, h, world["a"], expires_at=(utcnow() + timedelta(hours=2)).isoformat())
    revoked = _create(client, h, world["a"])
    rotated = _create(client, h, world["a"])
    assert client.post(f"/api/v1/clients/keys/{revoked['key']['id']}/revoke", headers=h).json()["status"] == "revoked"
    r = client.get("/api/v1/chargers", headers={"X-API-Key": revoked["secret"]})
    assert r.status_code == 401 and r.json()["message"] == "This API key was revoked."

    new = client.post(f"/api/v1/clients/keys/{rotated['key']['id']}/rotate", headers=h, json={"grace": "1h"}).json()
    assert new["secret"] != rotated["secret"] and new["key"]["scopes"] == ["view_chargers"]
    # Within the grace period both keys work.
    for secret in (rotated["secret"], new["secret"]):
        assert client.get("/api/v1/chargers", headers={"X-API-Key": secret}).status_code == 200
    clock.set(utcnow() + timedelta(hours=3))
    r = client.get("/api/v1/chargers", headers={"X-API-Key": rotated["secret"]})
    assert r.status_code == 401 and "rotated and its grace period has ended" in r.json()["message"]
    r = client.get("/api/v1/chargers", headers={"X-API-Key": expiring["secret"]})
    assert r.status_code == 401 and r.json()["message"] == "This API key has expired."
    assert client.get("/api/v1/chargers", headers={"X-API-Key": new["secret"]}).status_code == 200


def test_malformed_and_unknown_keys_get_401(session, client, world):
    r = client.get("/api/v1/chargers", headers={"X-API-Key": "vd_live_short"})
    assert r.status_code == 401 and r.json()["message"].startswith("Malformed API key")
    r = client.get("/api/v1/chargers", headers={"X-API-Key": api_keys.generate_key()})
    assert r.status_code == 401 and r.json()["message"] == "Unknown API key."


def test_rotation_without_grace_stops_the_old_key_at_once_and_lists_what_used_it(session, client, auth_header,
                                                                                world):
    h = auth_header(world["admin"])
    old = _create(client, h, world["a"])
    client.get("/api/v1/chargers", headers={"X-API-Key": old["secret"], "User-Agent": "fleet-app/2.1"})
    usage = client.get(f"/api/v1/clients/keys/{old['key']['id']}/usage", headers=h).json()
    assert [(u["user_agent"], u["calls"]) for u in usage] == [("fleet-app/2.1", 1)]
    listed = client.get(f"/api/v1/clients/{world['a'].id}/keys", headers=h).json()
    assert listed[0]["last_used_at"] is not None and listed[0]["last_used_ip"] == "testclient"
    client.post(f"/api/v1/clients/keys/{old['key']['id']}/rotate", headers=h, json={"grace": "none"})
    assert client.get("/api/v1/chargers", headers={"X-API-Key": old["secret"]}).status_code == 401
    r = client.post(f"/api/v1/clients/keys/{old['key']['id']}/rotate", headers=h, json={"grace": "2h"})
    assert r.status_code == 422


def test_every_call_counts_against_the_clients_rate_limit(session, client, auth_header, world):
    session.add(ClientLimits(organization_id=world["a"].id, api_calls_per_minute=2))
    session.commit()
    clock.set(utcnow().replace(second=5))
    k = {"X-API-Key": _create(client, auth_header(world["admin"]), world["a"])["secret"]}
    assert [client.get("/api/v1/chargers", headers=k).status_code for _ in range(2)] == [200, 200]
    r = client.get("/api/v1/chargers", headers=k)
    assert r.status_code == 429 and "API calls per minute limit reached" in r.json()["message"]
    assert "2 calls a minute" in r.json()["message"] and r.headers["Retry-After"] == "55"
    clock.set(utcnow() + timedelta(minutes=1))
    assert client.get("/api/v1/chargers", headers=k).status_code == 200


def test_creation_rotation_revocation_and_use_are_audited(session, client, auth_header, world):
    h = auth_header(world["admin"])
    key = _create(client, h, world["a"])
    client.get("/api/v1/chargers", headers={"X-API-Key": key["secret"]})
    new = client.post(f"/api/v1/clients/keys/{key['key']['id']}/rotate", headers=h, json={"grace": "1d"}).json()
    client.post(f"/api/v1/clients/keys/{new['key']['id']}/revoke", headers=h)
    actions = session.execute(select(AuditLog.action).where(AuditLog.entity == "api_key")
                              .order_by(AuditLog.id)).scalars().all()
    assert actions == ["create", "use", "rotate", "revoke"]



def test_a_key_with_manage_chargers_creates_and_edits_its_clients_chargers_within_the_limit(session, client,
                                                                                         auth_header, world):
    session.add(ClientLimits(organization_id=world["a"].id, max_chargers=2))
    # A client registers ids that have knocked (docs/adr/0004-scoping.md).
    session.add_all([UnknownCharger(ocpp_id=i, remote_address="10.0.0.9") for i in ("A2", "A3", "B9")])
    session.commit()
    k = {"X-API-Key": _create(client, auth_header(world["admin"]), world["a"],
                              scopes=("view_chargers", "manage_chargers"))["secret"]}
    r = client.post("/api/v1/chargers", headers=k, json={"ocpp_id": "A2", "organization_id": world["a"].id})
    assert r.status_code == 201 and r.json()["auth_key"] and r.json()["charger"]["ocpp_id"] == "A2"
    r = client.put(f"/api/v1/chargers/{r.json()['charger']['id']}", headers=k,
                   json={"visible": False, "lifecycle_status": "Maintenance"})
    assert r.status_code == 200 and r.json()["lifecycle_status"] == "Maintenance"
    r = client.post("/api/v1/chargers", headers=k, json={"ocpp_id": "A3", "organization_id": world["a"].id})
    assert r.status_code == 409 and r.json()["message"] == "Client A has reached its maximum chargers limit (2)."
    r = client.post("/api/v1/chargers", headers=k, json={"ocpp_id": "B9", "organization_id": world["b"].id})
    assert r.status_code == 422 and "organization you manage" in r.json()["message"]
