"""Preferences through the REST API (staff with their token, app users with theirs), the VAPID public key,
and a staff user's browser subscription; bad input is a 4xx and changes nothing."""
from __future__ import annotations

from sqlalchemy import select

from core.config import get_settings
from models import PushDevice
from services.notifications.customer_token import issue_customer_token
from tests.utils.factories import make_org, make_user
from tests.utils.notifications import Subscriber, make_customer, vapid_private_key


def test_a_staff_user_sets_switches_and_quiet_hours_and_bad_input_changes_nothing(client, session, auth_header):
    me = auth_header(make_user(session, role="technical", orgs=[make_org(session)]))
    start = client.get("/api/v1/notifications/preferences", headers=me).json()
    assert start["switches"] == {"charger_alerts": True, "alert_resolved": True, "charger_events": True}
    saved = client.put("/api/v1/notifications/preferences", headers=me,
                       json={"switches": {"alert_resolved": False}, "quiet_start": "22:00", "quiet_end": "06:30"})
    assert saved.status_code == 200
    assert saved.json()["switches"]["alert_resolved"] is False and saved.json()["quiet_end"] == "06:30"
    for body in ({"switches": {"wallet_low": False}}, {"quiet_start": "24:00", "quiet_end": "06:00"},
                 {"quiet_start": "22:00", "quiet_end": ""}, {"quiet_start": "x" * 500}):
        refused = client.put("/api/v1/notifications/preferences", headers=me, json=body)
        assert refused.status_code in (400, 422), body
    now = client.get("/api/v1/notifications/preferences", headers=me).json()
    assert (now["switches"]["alert_resolved"], now["quiet_start"], now["quiet_end"]) == (False, "22:00", "06:30")


def test_an_app_user_sets_their_own_preferences_with_their_token_only(client, session, auth_header):
    _, user = make_customer(session, make_org(session))
    mine = {"Authorization": f"Bearer {issue_customer_token(user)}"}
    out = client.put("/api/v1/me/notification-preferences", headers=mine,
                     json={"switches": {"message": False}, "quiet_start": "", "quiet_end": ""})
    assert out.status_code == 200 and out.json()["switches"]["message"] is False
    assert client.get("/api/v1/me/notification-preferences", headers=mine).json()["switches"]["session_ended"]
    staff = auth_header(make_user(session, role="admin"))
    assert client.get("/api/v1/me/notification-preferences", headers=staff).status_code == 401
    assert client.put("/api/v1/me/notification-preferences", headers=mine,
                      json={"switches": {"charger_alerts": False}}).status_code in (400, 422)


def test_a_staff_user_subscribes_a_browser_with_our_vapid_key(client, session, auth_header, monkeypatch):
    settings = get_settings()
    monkeypatch.setattr(settings, "vapid_private_key", vapid_private_key())
    monkeypatch.setattr(settings, "webpush_insecure_base", "http://127.0.0.1:9")
    key = client.get("/api/v1/notifications/vapid-public-key").json()["public_key"]
    assert len(key) == 87   # 65 bytes, base64url: what PushManager.subscribe takes as applicationServerKey
    user = make_user(session, role="network_manager", orgs=[make_org(session)])
    me = auth_header(user)
    sub = Subscriber("http://127.0.0.1:9/push/laptop")
    body = {"endpoint": sub.endpoint, "keys": {"p256dh": sub.p256dh, "auth": sub.auth}, "label": "Laptop"}
    made = client.post("/api/v1/notifications/push-subscriptions", headers=me, json=body)
    assert made.status_code == 201
    other = auth_header(make_user(session, role="network_manager", orgs=[make_org(session)]))
    assert client.post("/api/v1/notifications/push-subscriptions", headers=other, json=body).status_code == 409
    assert client.delete(f"/api/v1/notifications/push-subscriptions/{made.json()['id']}",
                         headers=other).status_code == 404
    bad = dict(body, endpoint="http://evil.example/push")
    assert client.post("/api/v1/notifications/push-subscriptions", headers=me, json=bad).status_code in (400, 422)
    assert [d["label"] for d in client.get("/api/v1/notifications/push-subscriptions", headers=me).json()] == [
        "Laptop"]
    session.expire_all()
    assert [d.user_id for d in session.execute(select(PushDevice)).scalars()] == [user.id]
