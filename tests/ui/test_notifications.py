"""The bell updates live when an alert opens, and acknowledging it from the bell; the composer's preview
counts recipients, a targeted send reaches only that user's device, and a user's switched-off kind is
respected."""
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
from services.notifications import alerts, composer, credentials, devices
from services.notifications.delivery import deliver
from tests.ui.helpers import log_in, on
from tests.utils.factories import make_charger, make_org, make_user
from tests.utils.notifications import make_customer, make_rule, service_account

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
