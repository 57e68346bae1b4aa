"""Staff read their own in-app alerts, acknowledge them (which stops escalation), and Admin and Technical
see the delivery log; other roles are refused it."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.notifications import alerts
from tests.utils.factories import make_charger, make_org, make_user
from tests.utils.notifications import make_rule

T0 = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)


def test_a_manager_reads_acknowledges_and_admin_sees_the_delivery_log(client, session, auth_header):
    org = make_org(session)
    manager = make_user(session, role="network_manager", orgs=[org], email="nm@example.test")
    admin = make_user(session, role="admin")
    make_rule(session, org, escalate_after_minutes=60, escalate_roles=["technical"])
    charger = make_charger(session, org, ocpp_id="CP-API")
    charger.status, charger.status_changed_at, charger.last_heartbeat_at = "Offline", T0, T0
    session.add(charger)
    session.commit()
    alerts.evaluate(session=session, now=T0 + timedelta(minutes=6))
    session.commit()
    me = auth_header(manager)
    assert client.get("/api/v1/notifications/unread", headers=me).json() == {"unread": 1}
    [row] = client.get("/api/v1/notifications", headers=me).json()
    assert row["kind"] == "alert_opened" and "CP-API" in row["title"]
    assert client.post(f"/api/v1/alerts/{row['alert_id']}/acknowledge", headers=me).status_code == 204
    assert client.post("/api/v1/notifications/read", headers=me).status_code == 204
    assert client.get("/api/v1/notifications/unread", headers=me).json() == {"unread": 0}
    assert alerts.evaluate(session=session, now=T0 + timedelta(hours=3)).escalated == 0
    log = client.get("/api/v1/notifications/deliveries", headers=auth_header(admin)).json()
    assert sorted((d["channel"], d["status"]) for d in log) == [("email", "queued"), ("in_app", "delivered")]
    assert client.get("/api/v1/notifications/deliveries", headers=me).status_code == 403
    outsider = make_user(session, role="network_manager", orgs=[make_org(session)])
    assert client.post(f"/api/v1/alerts/{row['alert_id']}/acknowledge",
                       headers=auth_header(outsider)).status_code == 404
