"""The bell updates live when an alert opens, and acknowledging it from the bell; the composer's preview
counts recipients, a targeted send reaches only that user's device, and a user's switched-off kind is
respected; staff set their switches and quiet hours on the account page (and the alert mail follows them),
customers theirs in the portal (and the composer's message follows them)."""
from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from core.clock import utcnow
from core.config import get_settings
from demo.push_standins import Standins
from models import Alert, NotificationDelivery, NotificationPreference
from services.access.scope import scope_for
from services.notifications import alerts, composer, credentials, devices, preferences
from services.notifications.delivery import deliver
from tests.ui.helpers import log_in, on
from tests.utils.customers import CUSTOMER_PASSWORD, active_customer, open_signup
from tests.utils.factories import make_charger, make_org, make_user
from tests.utils.notifications import make_customer, make_rule, service_account

T = 30_000  # the app answers slowly on a loaded machine; a failure still fails

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.fixture
def fcm(monkeypatch):
    with Standins() as s:
        monkeypatch.setattr(get_settings(), "fcm_endpoint", s.fcm_url)
        yield s


def test_the_bell_shows_a_new_alert_live_and_acknowledging_it_stops_escalation(world, page):
    org = make_org(world, slug="harbour")
    manager = make_user(world, role="network_manager", orgs=[org])
    make_rule(world, org, escalate_after_minutes=60, escalate_roles=["technical"])
    charger = make_charger(world, org, ocpp_id="HB-LIVE")
    log_in(page, manager.email)
    expect(page.locator("#bell")).to_be_visible()
    expect(page.locator("#bell-count")).to_have_count(0)
    now = utcnow()
    charger.status, charger.status_changed_at, charger.last_heartbeat_at = "Offline", now - timedelta(minutes=6), now
    world.add(charger)
    world.commit()
    alerts.evaluate(session=world, now=now)
    world.commit()
    expect(page.locator("#bell-count")).to_have_text("1", timeout=20_000)   # no reload
    page.locator("#bell").click()
    expect(page.locator(".bell-item").first).to_contain_text("HB-LIVE")
    page.locator(".bell-ack").first.click()
    expect(page.get_by_text("Alert acknowledged")).to_be_visible()
    world.expire_all()
    assert world.execute(select(Alert.acknowledged_by_id)).scalar_one() == manager.id
    page.locator("#bell-read").click()
    expect(page.locator("#bell-count")).to_have_count(0)


def test_the_composer_previews_the_count_and_a_targeted_send_respects_preferences(world, page, fcm):
    org = make_org(world, slug="drivers")
    admin = make_user(world, role="admin")
    credentials.set_fcm_credential(session=world, scope=scope_for(world, admin), organization_id=org.id,
                                   service_account_json=service_account("drivers-app", f"{fcm.fcm_url}/token"))
    world.commit()
    _, ana = make_customer(world, org, email="ana@example.test")
    _, ben = make_customer(world, org, email="ben@example.test")
    for user, token in ((ana, "ana-phone"), (ben, "ben-phone")):
        devices.register_device(session=world, customer_user_id=user.id, kind="fcm", token=token, now=utcnow())
    world.add(NotificationPreference(customer_user_id=ben.id, muted_kinds=["message"]))
    world.commit()

    log_in(page, admin.email)
    page.goto("/notifications/compose")
    expect(page).to_have_url(on("/notifications/compose"))
    page.fill("#emails", "ana@example.test, ben@example.test")
    page.fill("#title", "Harbour site closed")
    page.fill("#body", "The Harbour site is closed on Sunday for maintenance.")
    page.locator("#preview-button").click()
    expect(page.locator("#recipient-count")).to_have_text("2")
    expect(page.locator("#preview-title")).to_have_text("Harbour site closed")
    page.fill("#emails", "ana@example.test")                 # now only Ana
    page.locator("#preview-button").click()
    expect(page.locator("#recipient-count")).to_have_text("1")
    page.locator("#send").click()
    expect(page.locator("#composer-sent")).to_contain_text("1 app users")

    composer.expand_due(session=world, now=utcnow())
    world.commit()
    deliver(session=world, now=utcnow())
    world.commit()
    [got] = httpx.get(f"{fcm.fcm_url}/_received").json()
    assert got["message"]["token"] == "ana-phone"
    assert got["message"]["notification"]["title"] == "Harbour site closed"

    page.fill("#emails", "ben@example.test")                 # Ben switched messages off
    page.fill("#body", "Second notice.")
    page.locator("#preview-button").click()
    page.locator("#send").click()
    expect(page.locator("#composer-sent")).to_be_visible()
    composer.expand_due(session=world, now=utcnow())
    world.commit()
    deliver(session=world, now=utcnow())
    world.commit()
    assert len(httpx.get(f"{fcm.fcm_url}/_received").json()) == 1
    world.expire_all()
    statuses = world.execute(select(NotificationDelivery.status).where(
        NotificationDelivery.customer_user_id == ben.id)).scalars().all()
    assert statuses == ["skipped"]


def test_staff_switch_off_charger_alert_mail_and_set_quiet_hours_on_the_account_page(world, page, screenshot):
    org = make_org(world, slug="quiet", timezone="UTC")
    manager = make_user(world, role="network_manager", orgs=[org])
    make_rule(world, org, channels=["in_app", "email"])
    log_in(page, manager.email)
    page.goto("/account")
    expect(page.locator("#notify-charger_alerts")).to_be_visible(timeout=T)
    expect(page.locator("#subscribe-push")).to_be_visible()      # Web Push in this browser
    page.fill("#quiet_start", "22:00")                          # only a start: refused, nothing saved
    page.locator("#save-settings").click()
    expect(page.locator("#settings-error")).to_contain_text("both the start and the end", timeout=T)
    assert preferences.get_preferences(session=world, user_id=manager.id).quiet_start == ""
    page.fill("#quiet_end", "06:00")
    page.locator("#notify-charger_alerts").click()
    page.locator("#save-settings").click()
    expect(page.get_by_text("Settings saved.")).to_be_visible(timeout=T)
    screenshot(page, "account-notifications")
    world.expire_all()
    saved = preferences.get_preferences(session=world, user_id=manager.id)
    assert (saved.switches["charger_alerts"], saved.quiet_start, saved.quiet_end) == (False, "22:00", "06:00")
    page.reload()
    expect(page.locator("#notify-charger_alerts")).to_have_attribute("data-state", "unchecked", timeout=T)

    charger = make_charger(world, org, ocpp_id="QT-1")         # the alert: in the bell, its mail skipped
    now = utcnow()
    charger.status, charger.status_changed_at, charger.last_heartbeat_at = "Offline", now - timedelta(minutes=6), now
    world.add(charger)
    world.commit()
    alerts.evaluate(session=world, now=now)
    world.commit()
    expect(page.locator("#bell-count")).to_have_text("1", timeout=T)
    world.expire_all()
    assert world.execute(select(NotificationDelivery.status).where(
        NotificationDelivery.user_id == manager.id, NotificationDelivery.channel == "email")).scalar_one() == "skipped"


def test_a_customer_switches_off_messages_in_the_portal_and_the_composer_skips_them(world, page, fcm):
    org = make_org(world, slug="portal-prefs", timezone="UTC")
    admin = make_user(world, role="admin")
    open_signup(world, scope_for(world, admin), org)
    credentials.set_fcm_credential(session=world, scope=scope_for(world, admin), organization_id=org.id,
                                   service_account_json=service_account("prefs-app", f"{fcm.fcm_url}/token"))
    world.commit()
    cara = active_customer(world, org, "cara@example.test")
    devices.register_device(session=world, customer_user_id=cara.id, kind="fcm", token="cara-phone", now=utcnow())
    world.commit()
    page.goto("/login")
    page.fill("#email", "cara@example.test")
    page.fill("#password", CUSTOMER_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(on("/my"), timeout=T)
    page.get_by_role("tab", name="Notifications").click()
    page.locator("#notify-message").click()
    page.fill("#quiet_end", "07:00")                            # an end without a start: refused
    page.locator("#save-notify").click()
    expect(page.locator("#notify-error")).to_contain_text("both the start and the end", timeout=T)
    assert preferences.get_preferences(session=world, customer_user_id=cara.id).switches["message"] is True
    page.fill("#quiet_end", "")
    page.locator("#save-notify").click()
    expect(page.get_by_text("Notification settings saved.")).to_be_visible(timeout=T)
    world.expire_all()
    assert preferences.get_preferences(session=world, customer_user_id=cara.id).switches["message"] is False

    sent = composer.send(session=world, scope=scope_for(world, admin),
                         audience=composer.Audience("users", emails=["cara@example.test"]), title="Closed",
                         body="The site is closed on Sunday.", now=utcnow())
    world.commit()
    composer.expand_due(session=world, now=utcnow())
    world.commit()
    deliver(session=world, now=utcnow())
    world.commit()
    assert httpx.get(f"{fcm.fcm_url}/_received").json() == []
    world.expire_all()
    assert world.execute(select(NotificationDelivery.status).where(
        NotificationDelivery.notification_id == sent.notification_id)).scalars().all() == ["skipped"]
