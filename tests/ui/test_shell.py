"""The login page, the sidebar per role, isolation in the charger table, disabling and logout."""
from __future__ import annotations

import urllib.error
import urllib.request

import pytest
from playwright.sync_api import expect

from services.access import users as user_svc
from services.access.scope import scope_for
from tests.ui.helpers import ON_LOGIN, log_in, on, open_user_menu, sidebar_items
from tests.utils.factories import PASSWORD, make_charger, make_org, make_user

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_admin_and_cpo_each_see_only_the_pages_their_role_may_use(world, page):
    org = make_org(world, slug="alpha")
    admin = make_user(world, role="admin")
    cpo = make_user(world, role="cpo", orgs=[org])

    log_in(page, admin.email)
    expect(page.locator("#sidebar-nav a")).to_have_count(22)
    assert sidebar_items(page) == ["Dashboard", "Chargers", "Unknown chargers", "Network map", "Transactions",
                                   "Finances", "Invoices", "Organizations", "Users", "Accounts", "Billing plans",
                                   "Customers", "Settings", "Notifications", "Compose message", "Location owners",
                                   "Commission", "Payments", "Grid monitor", "Firmware", "Clients",
                                   "Roles"]

    page.context.clear_cookies()
    log_in(page, cpo.email)
    expect(page.locator("#sidebar-nav a")).to_have_count(16)
    assert sidebar_items(page) == ["Dashboard", "Chargers", "Network map", "Transactions", "Finances", "Invoices",
                                   "Organizations", "Accounts", "Billing plans", "Customers", "Settings",
                                   "Notifications", "Location owners", "Commission", "Payments", "Grid monitor"]
    # Typing the address of a hidden page is refused by the server-side guard.
    page.goto("/users")
    expect(page.get_by_text("You don't have access to this page")).to_be_visible()
    expect(page.locator("#users-table")).to_have_count(0)


def test_cpo_sees_its_own_chargers_and_none_of_another_organizations(world, page, screenshot):
    a, b = make_org(world, slug="alpha"), make_org(world, slug="bravo")
    for ocpp_id in ("ALPHA-1", "ALPHA-2"):
        make_charger(world, a, ocpp_id=ocpp_id, name=f"Alpha site {ocpp_id[-1]}")
    make_charger(world, b, ocpp_id="BRAVO-1", name="Bravo site")
    cpo = make_user(world, role="cpo", orgs=[a])

    log_in(page, cpo.email)
    expect(page.locator(".charger-card")).to_have_count(2)
    page.goto("/chargers")
    rows = page.locator("#chargers-table .charger-row")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("ALPHA-1")
    expect(rows.nth(1)).to_contain_text("ALPHA-2")
    expect(page.get_by_text("BRAVO-1")).to_have_count(0)
    # Searching for the other organization's charger finds nothing either.
    page.fill("#charger-search", "BRAVO")
    expect(page.get_by_text("No chargers found")).to_be_visible()
    screenshot(page, "cpo-chargers-search")


def test_wrong_password_shows_the_error_and_stays_on_the_login_page(world, page):
    user = make_user(world, role="admin")
    page.goto("/login")
    page.fill("#email", user.email)
    page.fill("#password", "not-the-password")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#login-error")).to_have_text("Incorrect email or password.")
    expect(page).to_have_url(ON_LOGIN)


def test_a_user_disabled_by_an_admin_is_sent_to_login_on_its_next_action(world, page):
    org = make_org(world, slug="alpha")
    make_charger(world, org, ocpp_id="ALPHA-1")
    admin = make_user(world, role="admin")
    cpo = make_user(world, role="cpo", orgs=[org])
    log_in(page, cpo.email)
    page.goto("/chargers")
    expect(page.locator(".charger-row")).to_have_count(1)

    user_svc.set_status(session=world, scope=scope_for(world, admin), user_id=cpo.id, status="disabled")
    world.commit()

    page.fill("#charger-search", "ALPHA")
    expect(page).to_have_url(ON_LOGIN)
    page.fill("#email", cpo.email)
    page.fill("#password", "correct-horse-battery")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#login-error")).to_have_text("This account is disabled.")


def test_logout_returns_to_login_and_the_old_token_no_longer_works(world, page, app_url):
    user = make_user(world, role="network_manager", orgs=[make_org(world, slug="alpha")])
    log_in(page, user.email)
    cookie = next(c for c in page.context.cookies() if c["name"] == "voltdesk_token")
    token = cookie["value"]
    assert _api_status(app_url, token) == 200
    # The login token is out of reach of scripts in the page (ADR 0007).
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert token not in page.evaluate("document.cookie")

    open_user_menu(page, "Log out")
    page.get_by_role("menuitem", name="Log out").click()
    expect(page).to_have_url(ON_LOGIN)
    expect(page.locator("#login-notice")).to_have_text("You have been logged out.")
    assert not [c for c in page.context.cookies() if c["name"] == "voltdesk_token"]

    assert _api_status(app_url, token) == 401
    # Putting the old token back in the browser does not get back in either.
    page.context.add_cookies([{"name": "voltdesk_token", "value": token, "url": app_url}])
    page.goto("/chargers")
    expect(page).to_have_url(ON_LOGIN)
    assert on("/login").match(page.url)


def _api_status(base: str, token: str) -> int:
    req = urllib.request.Request(f"{base}/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_changing_the_password_ends_this_session_too_and_the_new_one_logs_in(world, page):
    user = make_user(world, role="admin")
    log_in(page, user.email)
    page.goto("/account")
    page.fill("#current", PASSWORD)
    page.fill("#new", "a-brand-new-password")
    page.fill("#confirm", "a-brand-new-password")
    page.get_by_role("button", name="Change password").click()
    expect(page).to_have_url(ON_LOGIN)
    expect(page.locator("#login-notice")).to_have_text("Password changed. Log in with your new password.")
    log_in(page, user.email, "a-brand-new-password")
