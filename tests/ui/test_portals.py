"""Issue 14 in the browser: a CPO assigns location owners and invites the owner's user, an admin resets a
password and the old session ends, and dialogs and forms behave after a failed save and a reload."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from core.clock import utcnow
from core.events import EventType, notify
from core.money import format_money
from services.billing.owner_statements import make_due_statements
from services.billing.periods import local_today
from tests.ui.helpers import log_in, on
from tests.ui.test_invitations import link_in
from tests.utils.factories import (
    PASSWORD,
    make_charger,
    make_location_owner,
    make_org,
    make_priced_session,
    make_user,
)

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.fixture(autouse=True)
def patient_expect():
    """This machine is shared and loaded: a page may take longer than Playwright's 5 s to answer."""
    expect.set_options(timeout=30_000)
    yield
    expect.set_options(timeout=5_000)


def test_a_cpo_assigns_an_owner_to_two_chargers_and_invites_the_owners_user_who_sees_them(
        world, page, browser, app_url, mail_server, screenshot):
    lanka = make_org(world, slug="lanka-charge", currency="LKR", timezone="Asia/Colombo")
    chargers = [make_charger(world, lanka, ocpp_id=ocpp_id) for ocpp_id in ("LK-0001", "LK-0002", "LK-0003")]
    hotel = make_location_owner(world, lanka, name="Galle Face Hotel")
    # The hotel held LK-0001 last month (10 % commission on a LKR 12.00 session) and the billing worker made its
    # statement once the month had closed.
    hotel.created_at = utcnow() - timedelta(days=70)
    last_month = local_today("Asia/Colombo").replace(day=1) - timedelta(days=10)
    earned = make_priced_session(world, chargers[0], stopped_at=utcnow().replace(
        year=last_month.year, month=last_month.month, day=last_month.day), energy="12.00", vat_rate="0",
        ssc_rate="0", location_owner_rate="10", commit=False)
    earned.location_owner_id = hotel.id
    world.commit()
    assert make_due_statements(session=world) >= 1
    commission = format_money(earned.amount_location_owner, "LKR")
    assert commission == "LKR1.20"
    cpo = make_user(world, role="cpo", orgs=[lanka])
    log_in(page, cpo.email)
    page.goto("/chargers")
    rows = page.locator(".charger-row")
    expect(rows).to_have_count(3)
    expect(page.locator("#add-charger")).to_have_count(0)  # read-only otherwise
    for ocpp_id in ("LK-0001", "LK-0002"):
        rows.filter(has_text=ocpp_id).locator(".charger-select").click()
    page.locator("#bulk-assign-owner").click()
    page.locator("#owner-choice").click()
    page.get_by_role("option", name="Galle Face Hotel").click()
    screenshot(page, "assign-owner-dialog")
    page.locator("#save-owner").click()
    expect(page.get_by_text("Location owner updated on 2 chargers.")).to_be_visible()
    expect(rows.filter(has_text="LK-0001").locator(".owner-name")).to_have_text("Galle Face Hotel")
    expect(rows.filter(has_text="LK-0002").locator(".owner-name")).to_have_text("Galle Face Hotel")
    expect(rows.filter(has_text="LK-0003").locator(".owner-name")).to_have_text("—")
    screenshot(page, "chargers-with-owners")

    page.goto("/location-owners")
    owner = page.locator(".owner-row", has_text="Galle Face Hotel")
    expect(owner).to_contain_text("2")
    owner.locator(".invite-owner-user").click()
    page.fill("#full_name", "Hotel Manager")
    page.fill("#email", "manager@gallefacehotel.test")
    page.locator("#invite-owner-submit").click()
    expect(page.get_by_text("Invitation sent to manager@gallefacehotel.test")).to_be_visible()

    link = link_in(mail_server.inbox.wait_for("manager@gallefacehotel.test"), "/activate/")
    other = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=app_url).new_page()
    other.goto(link)
    other.fill("#password", "hotel-manager-password")
    other.fill("#confirm", "hotel-manager-password")
    other.get_by_role("button", name="Activate account").click()
    expect(other.locator("#link-done")).to_contain_text("Your account is active")
    log_in(other, "manager@gallefacehotel.test", "hotel-manager-password")
    other.goto("/chargers")
    expect(other.locator(".charger-row")).to_have_count(2)
    expect(other.locator("#chargers-table")).not_to_contain_text("LK-0003")
    # Its commission statement (PDF and CSV) and, on Finances, its commission rather than the revenue.
    other.goto("/commission")
    statement = other.locator(".statement-row", has_text=last_month.strftime("%B %Y"))
    expect(statement.locator(".statement-commission")).to_have_text(commission)
    expect(statement).to_contain_text("LK-0001")
    screenshot(other, "owner-commission-statements")
    other.goto("/finances")
    card = other.locator(".currency-card")
    expect(card).to_contain_text("Your commission")
    expect(card.locator(".period-money")).to_have_text(commission)
    expect(card).to_contain_text("of LKR12.00 revenue")
    expect(other.locator(".finance-charger-row", has_text="LK-0001").locator(".period-30d")).to_contain_text(commission)
    screenshot(other, "owner-finances")
    other.context.close()


def test_an_admin_resets_a_password_and_the_users_open_session_ends(world, page, browser, app_url,
                                                                    mail_server):
    lanka = make_org(world, slug="lanka-charge")
    make_user(world, role="cpo", orgs=[lanka], email="reset-me@lanka.test")
    admin = make_user(world, role="admin")
    victim = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=app_url).new_page()
    log_in(victim, "reset-me@lanka.test")

    log_in(page, admin.email)
    page.goto("/users")
    page.locator(".user-row", has_text="reset-me@lanka.test").locator(".reset-password").click()
    page.locator("#reset-submit").click()
    expect(page.get_by_text("A reset link was e-mailed to reset-me@lanka.test")).to_be_visible()
    assert "/reset-password/" in link_in(mail_server.inbox.wait_for("reset-me@lanka.test"), "/reset-password/")

    victim.goto("/chargers")  # the old session no longer works
    expect(victim).to_have_url(on("/login"), timeout=20_000)
    victim.context.close()


def test_support_is_not_offered_actions_on_an_admin_row(world, page):
    lanka = make_org(world, slug="lanka-charge")
    make_user(world, role="admin", orgs=[lanka], email="boss@lanka.test")
    make_user(world, role="cpo", orgs=[lanka], email="cpo@lanka.test")
    log_in(page, make_user(world, role="customer_support", orgs=[lanka]).email)
    page.goto("/users")
    admin_row = page.locator(".user-row", has_text="boss@lanka.test")
    expect(admin_row).to_be_visible()
    expect(admin_row.get_by_role("button")).to_have_count(0)
    expect(page.locator(".user-row", has_text="cpo@lanka.test").get_by_role("button", name="Disable")).to_be_visible()


def test_a_failed_charger_form_shows_the_servers_message_and_is_closed_after_a_reload(world, page):
    make_org(world, slug="lanka-charge")
    log_in(page, make_user(world, role="admin").email)
    page.goto("/chargers")
    page.locator("#add-charger").click()
    page.fill("#charger-ocpp_id", "LK-NEW-1")
    page.locator("#charger-organization").click()
    page.get_by_role("option", name="Lanka Charge").click()
    for bad in ("-3", "0", "100"):  # the browser's number check no longer stops the form first
        page.fill("#charger-connectors", bad)
        page.get_by_role("button", name="Register charger").click()
        expect(page.get_by_text("A charger has 1 to 8 connectors.")).to_be_visible()
    page.reload()
    expect(page.get_by_text("No chargers found")).to_be_visible()
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.get_by_text("A charger has 1 to 8 connectors.")).to_have_count(0)


def test_sessions_today_moves_on_an_open_dashboard_when_sessions_stop(world, page):
    org = make_org(world, slug="lanka-charge")
    ch = make_charger(world, org, ocpp_id="LK-LIVE")
    log_in(page, make_user(world, role="admin").email)
    tile = page.locator(".rt-Card", has_text="Sessions today").locator(".rt-Heading")
    expect(tile).to_have_text("0")
    page.evaluate("window.__stillHere = true")  # a reload would wipe it out
    for n in (1, 2):
        # What the OCPP server does at a StopTransaction: write the session, NOTIFY in the same transaction.
        tx = make_priced_session(world, ch, stopped_at=utcnow(), energy="1", commit=False)
        notify(world, {"type": EventType.TRANSACTION, "charger_id": ch.id, "organization_id": org.id,
                       "transaction_id": tx.id})
        world.commit()
        expect(tile).to_have_text(str(n), timeout=20_000)
    assert page.evaluate("window.__stillHere") is True


def test_a_user_changes_its_email_and_the_new_address_works_once_verified(world, page, mail_server):
    user = make_user(world, role="accounts", email="before@example.test")
    log_in(page, user.email)
    page.goto("/account")
    page.fill("#full_name", "Asha Perera")
    page.fill("#timezone", "Asia/Colombo")
    page.locator("#save-settings").click()
    expect(page.get_by_text("Settings saved.")).to_be_visible()
    page.fill("#new_email", "after@example.test")
    page.fill("#email_password", PASSWORD)
    page.locator("#change-email").click()
    expect(page.locator("#email-notice")).to_contain_text("verification link was sent to after@example.test")

    link = link_in(mail_server.inbox.wait_for("after@example.test"), "/verify-email/")
    page.context.clear_cookies()
    page.goto(link)
    expect(page.get_by_text("E-mail address verified")).to_be_visible()
    log_in(page, "after@example.test")
    page.goto("/account")
    expect(page.locator("#full_name")).to_have_value("Asha Perera")


def test_a_cpo_is_not_pointed_at_remote_actions_it_does_not_have(world, page):
    lanka = make_org(world, slug="lanka-charge")
    ch = make_charger(world, lanka, ocpp_id="LK-CFG")
    log_in(page, make_user(world, role="cpo", orgs=[lanka]).email)
    page.goto(f"/chargers/{ch.id}")
    expect(page.get_by_text("No configuration read yet")).to_be_visible()
    expect(page.get_by_text("Get all")).to_have_count(0)


def test_the_app_starts_without_warnings(page, app_log):
    """`make run` printed "Page … is being redefined" for every page and a RouterData.page deprecation."""
    page.goto("/login")
    expect(page.locator("#email")).to_be_visible()
    started = app_log.read_text()
    assert "App running at" in started
    assert "is being redefined" not in started
    assert "DeprecationWarning" not in started


def test_the_network_map_works_offline_with_outlines_worst_status_clusters_and_markers_at_every_zoom(
        world, page, app_url, screenshot):
    org = make_org(world, slug="lanka-charge", timezone="Asia/Colombo")
    # Three chargers a few metres apart in Colombo (one cluster when zoomed out), one in Kandy.
    for ocpp_id, lat, lon, status in (("CMB-1", 6.92710, 79.86120, "Available"), ("CMB-2", 6.92740, 79.86150,
                                      "Charging"), ("CMB-3", 6.92770, 79.86090, "Faulted"),
                                      ("KDY-1", 7.29060, 80.63370, "Available")):
        make_charger(world, org, ocpp_id=ocpp_id, latitude=lat, longitude=lon, status=status)
    log_in(page, make_user(world, role="cpo", orgs=[org]).email)
    # No internet: every request that is not to the app fails (there is none on this machine anyway).
    page.route(re.compile(rf"^(?!{re.escape(app_url)}/).*"), lambda route: route.abort())
    page.goto("/network")
    the_map = page.locator("#network-map")
    # The bundled country outlines stand in for the tiles.
    expect(the_map.locator(".map-outlines path").first).to_be_attached()
    assert the_map.locator(".map-outlines path").count() > 100
    # The Colombo cluster takes the worst status inside it: Faulted's red.
    cluster = the_map.locator(".status-cluster")
    expect(cluster).to_have_count(1)
    expect(cluster).to_have_class(re.compile("cluster-Faulted"))
    expect(cluster).to_have_text("3")
    expect(cluster.locator("div")).to_have_css("background-color", "rgb(229, 72, 77)")
    expect(the_map.locator("path.leaflet-interactive")).to_have_count(1)  # Kandy on its own
    screenshot(page, "network-map-offline")

    shown = the_map.locator("path.leaflet-interactive, .marker-cluster")
    cluster.click()  # zooms in on the three
    settled(the_map)
    zoom_in, zoom_out = the_map.locator(".leaflet-control-zoom-in"), the_map.locator(".leaflet-control-zoom-out")
    for button in (zoom_in, zoom_out):
        for _ in range(40):  # to the deepest zoom, then back out to the whole world (a click mid-animation is lost)
            if "leaflet-disabled" in (button.get_attribute("class") or ""):
                break
            button.click()
            settled(the_map)
            expect(shown.first).to_be_attached()
        assert "leaflet-disabled" in (button.get_attribute("class") or "")
        if button == zoom_in:
            expect(the_map.locator("path.leaflet-interactive")).to_have_count(3)  # the Colombo three, apart
            screenshot(page, "network-map-offline-zoomed-in")
    screenshot(page, "network-map-offline-zoomed-out")


def settled(the_map) -> None:
    """Leaflet's zoom and the clusters' animations have ended."""
    expect(the_map.locator(".leaflet-zoom-anim, .leaflet-cluster-anim")).to_have_count(0)
