"""The organization switcher narrows the pages; the users page creates users with allowed roles only."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from services.access.auth import authenticate
from tests.ui.helpers import log_in
from tests.utils.factories import PASSWORD, make_charger, make_org, make_user

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_choosing_one_organization_in_the_switcher_narrows_the_charger_table(world, page):
    a, b = make_org(world, slug="alpha"), make_org(world, slug="bravo")
    make_charger(world, a, ocpp_id="ALPHA-1")
    make_charger(world, b, ocpp_id="BRAVO-1")
    log_in(page, make_user(world, role="admin").email)
    page.goto("/chargers")
    expect(page.locator(".charger-row")).to_have_count(2)

    page.locator("#org-switcher").click()
    page.get_by_role("option", name="Bravo").click()
    expect(page.locator(".charger-row")).to_have_count(1)
    expect(page.locator(".charger-row")).to_contain_text("BRAVO-1")

    page.locator("#org-switcher").click()
    page.get_by_role("option", name="All organizations").click()
    expect(page.locator(".charger-row")).to_have_count(2)


def test_support_creates_a_cpo_who_can_then_log_in_and_is_offered_no_admin_role(world, page):
    org = make_org(world, slug="alpha")
    support = make_user(world, role="customer_support", orgs=[org])
    log_in(page, support.email)
    page.goto("/users")
    page.locator("#new-user").click()
    page.locator("#role").click()
    expect(page.get_by_role("option")).to_have_text(["Customer Support", "CPO", "Location Owner"])
    page.get_by_role("option", name="CPO", exact=True).click()
    page.fill("#full_name", "Carla CPO")
    page.fill("#email", "carla@example.test")
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Create user").click()
    expect(page.locator(".user-row", has_text="carla@example.test")).to_contain_text("CPO")

    world.expire_all()
    assert authenticate(session=world, email="carla@example.test", password=PASSWORD).full_name == "Carla CPO"


def test_a_new_search_goes_back_to_the_first_page_of_users(world, page):
    admin = make_user(world, role="admin")
    org = make_org(world, slug="alpha")
    for n in range(21):
        make_user(world, role="cpo", orgs=[org], email=f"driver-{n:02d}@example.test")
    log_in(page, admin.email)
    page.goto("/users")
    expect(page.get_by_text("Page 1 of 2")).to_be_visible()
    page.get_by_role("button", name="Next page").click()
    expect(page.get_by_text("Page 2 of 2")).to_be_visible()

    page.get_by_placeholder("Search name or email").fill("driver-07")
    expect(page.get_by_text("Page 1 of 1")).to_be_visible()
    expect(page.locator(".user-row")).to_have_count(1)
    expect(page.locator(".user-row")).to_contain_text("driver-07@example.test")
