"""Staff alerts by Web Push to the browsers they subscribed (the payload decrypted with the browser's key),
and everyone's preferences: a switched-off kind is skipped, quiet hours delay mail and push, critical alerts
never wait; bad preferences are refused and change nothing."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from core.errors import Conflict, ValidationError
from models import Charger, NotificationDelivery, NotificationPreference, PushDevice
from services.notifications import alerts, devices, preferences
from services.notifications.delivery import deliver
from tests.utils.factories import make_charger, make_org, make_user
from tests.utils.notifications import Subscriber, inbox, make_customer, make_rule

T0 = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)   # 08:00 UTC


def _offline(session, charger: Charger) -> None:
    charger.status, charger.status_changed_at, charger.last_heartbeat_at = "Offline", T0, T0
    session.add(charger)
    session.commit()


def _browser(session, standins, user, sub_id: str) -> Subscriber:
    sub = Subscriber(f"{standins.webpush_url}/push/{sub_id}")
    devices.register_device(session=session, user_id=user.id, kind="web_push", token=sub.endpoint,
                            p256dh=sub.p256dh, auth=sub.auth, label="Firefox", now=T0)
    session.commit()
    return sub


def _rows(session, user_id: int) -> dict[str, tuple[str, datetime]]:
    session.expire_all()
    return {r.channel: (r.status, r.next_attempt_at) for r in session.execute(
        select(NotificationDelivery).where(NotificationDelivery.user_id == user_id)
        .order_by(NotificationDelivery.id)).scalars()}


def test_an_alert_reaches_the_staff_users_subscribed_browser_by_web_push(session, standins):
    org = make_org(session, timezone="UTC")
    manager = make_user(session, role="network_manager", orgs=[org])
    make_rule(session, org, channels=["in_app", "web_push"])
    sub = _browser(session, standins, manager, "manager-laptop")
    _offline(session, make_charger(session, org, ocpp_id="WP-1"))
    alerts.evaluate(session=session, now=T0 + timedelta(minutes=6))
    session.commit()
    deliver(session=session, now=T0 + timedelta(minutes=6))
    session.commit()
    [got] = httpx.get(f"{standins.webpush_url}/_received").json()
    assert got["id"] == "manager-laptop" and b"WP-1" not in got["body"].encode()   # ciphertext on the wire
    message = sub.decrypt(got["body"])
    assert "WP-1" in message["title"] and message["kind"] == "alert_opened"
    assert _rows(session, manager.id)["web_push"][0] == "sent"
    # The charger returns: the resolved notice goes to the same browser.
    charger = session.execute(select(Charger).where(Charger.ocpp_id == "WP-1")).scalar_one()
    charger.status = "Available"
    session.add(charger)
    session.commit()
    alerts.evaluate(session=session, now=T0 + timedelta(minutes=8))
    session.commit()
    deliver(session=session, now=T0 + timedelta(minutes=8))
    session.commit()
    titles = [sub.decrypt(r["body"])["title"] for r in httpx.get(f"{standins.webpush_url}/_received").json()]
    assert len(titles) == 2 and titles[1].startswith("Resolved: WP-1")


def test_a_staff_browser_the_push_service_forgets_is_dropped(session, standins):
    org = make_org(session)
    manager = make_user(session, role="network_manager", orgs=[org])
    make_rule(session, org, channels=["web_push"])
    _browser(session, standins, manager, "gone")
    httpx.post(f"{standins.webpush_url}/_unregister", json={"id": "gone"})
    _offline(session, make_charger(session, org, ocpp_id="WP-2"))
    alerts.evaluate(session=session, now=T0 + timedelta(minutes=6))
    session.commit()
    deliver(session=session, now=T0 + timedelta(minutes=6))
    session.commit()
    assert devices.list_devices(session=session, user_id=manager.id) == []
    assert _rows(session, manager.id)["web_push"][0] == "failed"


def test_staff_switches_and_quiet_hours_apply_to_mail_and_push_but_critical_alerts_never_wait(session, standins):
    org = make_org(session, timezone="UTC")
    muted = make_user(session, role="network_manager", orgs=[org], email="muted@example.test")
    sleeper = make_user(session, role="network_manager", orgs=[org], email="sleeper@example.test")
    preferences.set_preferences(session=session, user_id=muted.id, switches={"charger_alerts": False},
                                quiet_start="", quiet_end="")
    preferences.set_preferences(session=session, user_id=sleeper.id, switches={}, quiet_start="07:00",
                                quiet_end="09:30")
    session.commit()
    make_rule(session, org, channels=["in_app", "email"])
    _offline(session, make_charger(session, org, ocpp_id="Q-1"))
    alerts.evaluate(session=session, now=T0 + timedelta(minutes=6))      # 08:06 UTC: inside 07:00–09:30
    session.commit()
    assert _rows(session, muted.id)["email"][0] == "skipped"
    assert _rows(session, muted.id)["in_app"][0] == "delivered"          # the bell still lists it
    assert _rows(session, sleeper.id)["email"] == ("queued", datetime(2026, 12, 3, 9, 30, tzinfo=UTC))
    assert [n.kind for n in inbox(session, sleeper.id)] == ["alert_opened"]

    critical_org = make_org(session, timezone="UTC")
    night_owl = make_user(session, role="network_manager", orgs=[critical_org], email="owl@example.test")
    preferences.set_preferences(session=session, user_id=night_owl.id, switches={}, quiet_start="07:00",
                                quiet_end="09:30")
    session.commit()
    make_rule(session, critical_org, channels=["email"], critical=True)
    _offline(session, make_charger(session, critical_org, ocpp_id="Q-2"))
    alerts.evaluate(session=session, now=T0 + timedelta(minutes=7))
    session.commit()
    assert _rows(session, night_owl.id)["email"] == ("queued", T0 + timedelta(minutes=7))   # sent at once


def test_bad_preferences_are_refused_and_change_nothing(session):
    org = make_org(session)
    staff = make_user(session, role="technical", orgs=[org])
    _, customer = make_customer(session, org)
    preferences.set_preferences(session=session, customer_user_id=customer.id, switches={"wallet_low": False},
                                quiet_start="22:00", quiet_end="07:00")
    session.commit()
    for switches, start, end, field in (
            ({"charger_alerts": False}, "", "", "switches"),    # a staff kind for an app user
            ({}, "25:00", "07:00", "quiet_start"), ({}, "22:00", "", "quiet_end"),
            ({}, "7pm", "07:00", "quiet_start"), ({}, "22:00", "22:00", "quiet_end")):
        with pytest.raises(ValidationError) as refused:
            preferences.set_preferences(session=session, customer_user_id=customer.id, switches=switches,
                                        quiet_start=start, quiet_end=end)
        assert refused.value.field == field
        session.rollback()
    assert preferences.get_preferences(session=session, customer_user_id=customer.id) == preferences.Preferences(
        {k: k != "wallet_low" for k in preferences.CUSTOMER_KINDS}, "22:00", "07:00")
    with pytest.raises(ValidationError):
        preferences.set_preferences(session=session, user_id=staff.id, switches={"wallet_low": False},
                                    quiet_start="", quiet_end="")
    session.rollback()
    assert session.execute(select(NotificationPreference).where(NotificationPreference.user_id == staff.id)
                           ).scalar_one_or_none() is None


def test_staff_subscribe_only_by_web_push_and_never_take_over_someone_elses_device(session, standins):
    org = make_org(session)
    staff = make_user(session, role="technical", orgs=[org])
    _, customer = make_customer(session, org)
    sub = Subscriber(f"{standins.webpush_url}/push/shared")
    devices.register_device(session=session, customer_user_id=customer.id, kind="web_push", token=sub.endpoint,
                            p256dh=sub.p256dh, auth=sub.auth, now=T0)
    session.commit()
    with pytest.raises(Conflict):
        devices.register_device(session=session, user_id=staff.id, kind="web_push", token=sub.endpoint,
                                p256dh=sub.p256dh, auth=sub.auth, now=T0)
    session.rollback()
    with pytest.raises(ValidationError):
        devices.register_device(session=session, user_id=staff.id, kind="fcm", token="a-phone", now=T0)
    session.rollback()
    assert [(d.customer_user_id, d.user_id) for d in session.execute(select(PushDevice)).scalars()] == [
        (customer.id, None)]
