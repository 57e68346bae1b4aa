"""App users register devices through the REST API with their own token; staff tokens, forged tokens and
other users' devices change nothing."""
from __future__ import annotations

from sqlalchemy import select

from models import PushDevice
from services.notifications.customer_token import issue_customer_token
from tests.utils.factories import make_org, make_user
from tests.utils.notifications import make_customer


def _auth(user) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_customer_token(user)}"}


def test_an_app_user_registers_several_devices_and_removes_one(client, session):
    _, user = make_customer(session, make_org(session))
    a = client.post("/api/v1/me/devices", json={"kind": "fcm", "token": "phone-token", "label": "Pixel"},
                    headers=_auth(user))
    b = client.post("/api/v1/me/devices", json={"kind": "fcm", "token": "tablet-token"}, headers=_auth(user))
    assert (a.status_code, b.status_code) == (201, 201)
    again = client.post("/api/v1/me/devices", json={"kind": "fcm", "token": "phone-token"}, headers=_auth(user))
    assert again.json()["id"] == a.json()["id"]                # registering twice keeps one device
    listed = client.get("/api/v1/me/devices", headers=_auth(user)).json()
    assert [d["label"] for d in listed] == ["Pixel", ""]
    assert client.delete(f"/api/v1/me/devices/{b.json()['id']}", headers=_auth(user)).status_code == 204
    assert len(client.get("/api/v1/me/devices", headers=_auth(user)).json()) == 1


def test_another_users_token_or_device_and_staff_or_forged_tokens_change_nothing(client, session, auth_header):
    org = make_org(session)
    _, owner = make_customer(session, org)
    _, other = make_customer(session, org)
    mine = client.post("/api/v1/me/devices", json={"kind": "fcm", "token": "owner-phone"}, headers=_auth(owner))
    taken = client.post("/api/v1/me/devices", json={"kind": "fcm", "token": "owner-phone"}, headers=_auth(other))
    assert taken.status_code == 409
    assert client.delete(f"/api/v1/me/devices/{mine.json()['id']}", headers=_auth(other)).status_code == 404
    staff = auth_header(make_user(session, role="admin"))
    assert client.get("/api/v1/me/devices", headers=staff).status_code == 401
    forged = {"Authorization": "Bearer " + issue_customer_token(owner)[:-4] + "AAAA"}
    assert client.post("/api/v1/me/devices", json={"kind": "fcm", "token": "x"}, headers=forged).status_code == 401
    bad = client.post("/api/v1/me/devices", json={"kind": "web_push", "token": "https://push.example/x",
                                                  "keys": {"p256dh": "bad", "auth": "bad"}}, headers=_auth(owner))
    assert bad.status_code in (400, 422)
    session.expire_all()
    assert [(d.customer_user_id, d.token) for d in session.execute(select(PushDevice)).scalars()] == [
        (owner.id, "owner-phone")]
