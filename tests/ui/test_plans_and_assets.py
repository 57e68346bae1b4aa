"""Billing plans in the browser: staff keep the catalogue (add, refuse bad input, edit, deactivate; a CPO only
reads it), and a customer activates a card and claims a home charger on a plan from its portal, with clear
refusals for a card on another account and a wrong claim code."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from services.access.scope import scope_for
from services.customers import accounts, assets
from tests.ui.helpers import log_in
from tests.ui.test_customers import T, customer_log_in
from tests.utils.customers import active_customer, make_plan, open_signup
from tests.utils.factories import make_charger, make_org, make_user

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_staff_add_edit_and_deactivate_billing_plans_and_a_cpo_only_reads_them(world, page, screenshot):
    org = make_org(world, slug="alpha")
    accounts_user = make_user(world, role="accounts")
    cpo = make_user(world, role="cpo", orgs=[org])
    log_in(page, accounts_user.email)
    page.goto("/billing-plans")
    expect(page.get_by_text("No billing plans yet")).to_be_visible(timeout=T)

    page.locator("#new-plan").click()
    page.locator("#plan-organization").click()  # Accounts sees every organization: the operator and Alpha
    page.get_by_role("option", name="Alpha").click()
    page.fill("#name", "Home charger")
    page.fill("#price", "-4.90")
    page.locator("#save-plan").click()
    expect(page.locator(".form-error")).to_contain_text("Price", timeout=T)
    page.fill("#price", "4.90")
    page.locator("#fee_kind-fixed").click()
    page.fill("#session_fee", "0.25")
    page.locator("#for_card").click()  # chargers only
    page.locator("#save-plan").click()
    row = page.locator(".plan-row", has_text="Home charger")
    expect(row).to_contain_text("€4.90 / month", timeout=T)
    expect(row).to_contain_text("€0.25 per session")
    expect(row).to_contain_text("AC chargers, DC chargers")
    expect(row).not_to_contain_text("Cards")

    page.locator("#new-plan").click()
    page.fill("#name", "home CHARGER")
    page.fill("#price", "1")
    page.locator("#save-plan").click()
    expect(page.locator(".form-error")).to_contain_text("already a plan named", timeout=T)
    page.fill("#name", "Charge card")
    page.locator("#interval-year").click()
    page.locator("#save-plan").click()
    expect(page.locator(".plan-row", has_text="Charge card")).to_contain_text("€1.00 / year", timeout=T)

    row.locator(".edit-plan").click()
    expect(page.locator("#name")).to_have_value("Home charger", timeout=T)
    expect(page.locator("#price")).to_have_value("4.90")
    page.fill("#price", "5.90")
    page.locator("#save-plan").click()
    expect(row).to_contain_text("€5.90 / month", timeout=T)
    row.locator(".deactivate-plan").click()
    expect(row).to_contain_text("Deactivated", timeout=T)
    screenshot(page, "billing-plans")

    page.context.clear_cookies()
    log_in(page, cpo.email)
    page.goto("/billing-plans")
    expect(page.locator(".plan-row")).to_have_count(2, timeout=T)
    expect(page.locator("#new-plan")).to_have_count(0)
    expect(page.locator(".edit-plan")).to_have_count(0)


def test_a_customer_activates_a_card_and_claims_its_home_charger_on_plans_from_the_portal(world, page, screenshot):
    org = make_org(world, slug="alpha")
    staff = scope_for(world, make_user(world, role="admin"))
    open_signup(world, staff, org)
    make_plan(world, staff, org, name="Card plan", price="2.99", for_ac=False, for_dc=False)
    make_plan(world, staff, org, name="Home plan", price="4.90", for_card=False)
    retired = make_plan(world, staff, org, name="Old card plan", price="1.00", for_ac=False, for_dc=False)
    assets.set_plan_active(session=world, scope=staff, plan_id=retired.id, active=False)
    charger = make_charger(world, org, ocpp_id="HOME-7")
    code = assets.claim_code(session=world, scope=staff, charger_id=charger.id)
    other = active_customer(world, org, "other@x.test")
    plan = make_plan(world, staff, org, name="Other card plan", price="3", for_ac=False, for_dc=False)
    assets.activate_asset(session=world, scope=staff, account_id=other.account_id, kind="card", id_tag="TAKEN-1",
                          plan_id=plan.id)
    active_customer(world, org, "me@x.test")

    customer_log_in(page, "me@x.test")
    page.get_by_role("tab", name="Cards and chargers").click()
    form = page.locator("#activate-card")
    form.locator("#id_tag").fill("MY-CARD-1")
    form.locator("#activate-card-submit").click()
    expect(page.locator("#activate-card-error")).to_contain_text("Choose a billing plan", timeout=T)
    page.locator("#card-plan").click()
    expect(page.get_by_role("option", name="Old card plan")).to_have_count(0)  # deactivated: not on offer
    expect(page.get_by_role("option", name="Home plan")).to_have_count(0)  # not for cards
    page.get_by_role("option").filter(has_text="Card plan").first.click()
    form.locator("#id_tag").fill("taken-1")
    form.locator("#activate-card-submit").click()
    expect(page.locator("#activate-card-error")).to_contain_text("already active on another account", timeout=T)
    form.locator("#id_tag").fill("MY-CARD-1")
    form.locator("#activate-card-submit").click()
    expect(page.locator("#my-assets")).to_contain_text("MY-CARD-1", timeout=T)
    expect(page.locator(".asset-row", has_text="MY-CARD-1")).to_contain_text("Card plan")

    claim = page.locator("#claim-charger")
    claim.locator("#ocpp_id").fill("HOME-7")
    claim.locator("#claim_code").fill("WRONG999")
    page.locator("#charger-plan").click()
    page.get_by_role("option").filter(has_text="Home plan").click()
    claim.locator("#claim-charger-submit").click()
    expect(page.locator("#claim-charger-error")).to_contain_text("claim code do not match", timeout=T)
    claim.locator("#claim_code").fill(code.lower())
    claim.locator("#claim-charger-submit").click()
    expect(page.locator(".asset-row", has_text="HOME-7")).to_contain_text("Home plan", timeout=T)
    expect(page.locator("#claim-charger-error")).to_have_count(0)
    screenshot(page, "portal-cards-and-chargers")


def test_staff_switch_an_enterprise_accounts_public_charging_off(world, page):
    org = make_org(world, slug="alpha")
    support = make_user(world, role="customer_support", orgs=[org])
    staff = scope_for(world, support)
    open_signup(world, staff, org)
    fleet = accounts.invite_account(session=world, scope=staff, organization_id=org.id, email="fleet@x.test",
                                    name="Fleet", send_invitation=False, enterprise=accounts.EnterpriseTerms("9"))
    log_in(page, support.email)
    page.goto(f"/accounts/{fleet.account_id}")
    expect(page.locator("#account-company")).to_contain_text("public charging on", timeout=T)
    page.locator("#edit-enterprise").click()
    expect(page.locator("#price_per_asset")).to_have_value("9", timeout=T)
    page.fill("#price_per_asset", "-1")
    page.locator("#save-enterprise").click()
    expect(page.locator(".form-error")).to_contain_text("Price per asset must be between", timeout=T)
    page.fill("#price_per_asset", "11.50")
    page.locator(".enterprise-public").click()
    page.locator("#save-enterprise").click()
    expect(page.locator("#account-company")).to_contain_text("€11.50 per activated asset · public charging off",
                                                             timeout=T)
    world.expire_all()
    detail = accounts.get_account(session=world, scope=staff, account_id=fleet.account_id)
    assert detail.public_charging is False
