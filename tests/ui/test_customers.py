"""Customers end to end in the browser, following the mailed links (aiosmtpd): sign-up closed until the support
links are set, sign-up → verification → the customer portal; invite an account and sub-accounts (Add another);
resend with the old link refused; a customer sees only its own sessions."""
from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from services.access.scope import scope_for
from services.customers import assets
from tests.ui.helpers import log_in, on
from tests.utils.customers import CUSTOMER_PASSWORD, active_customer, make_plan, open_signup
from tests.utils.factories import make_charger, make_org, make_transaction, make_user
from tests.utils.smtp import links

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
T = 30_000  # the app answers slowly on a loaded machine; a failure still fails


def link_in(msg, path: str) -> str:
    return next(link for link in links(msg) if path in link)


def customer_log_in(page, email: str) -> None:
    page.context.clear_cookies()
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", CUSTOMER_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(on("/my"), timeout=20_000)


def test_sign_up_opens_with_the_support_links_then_verifies_and_logs_in_to_the_portal(
        world, page, mail_server, screenshot):
    make_org(world, slug="alpha")
    support = make_user(world, role="customer_support", orgs=[make_org(world, slug="zeta")])
    page.goto("/signup")
    expect(page.locator("#link-problem")).to_contain_text("Sign-up opens once the platform has published", timeout=T)
    log_in(page, support.email)
    page.goto("/settings/support-links")
    expect(page.locator("#links-closed")).to_be_visible(timeout=T)
    page.fill("#terms_url", "https://zeta.test/terms")
    page.fill("#privacy_url", "https://zeta.test/privacy")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#links-open")).to_be_visible(timeout=T)

    page.context.clear_cookies()
    page.goto("/login")
    page.locator("#signup-link").click()
    expect(page.get_by_role("heading", name="Sign up")).to_be_visible(timeout=T)
    expect(page.locator("#terms-link")).to_have_attribute("href", "https://zeta.test/terms", timeout=T)
    page.fill("#email", "Sue@Example.test")
    page.fill("#password", CUSTOMER_PASSWORD)
    page.fill("#confirm", CUSTOMER_PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page.locator("#signup-error")).to_contain_text("Accept the Terms of Use", timeout=T)
    page.locator("#accept").click()
    screenshot(page, "signup")
    page.get_by_role("button", name="Sign up").click()
    expect(page.locator("#link-done")).to_contain_text("Check your email", timeout=T)

    verify = link_in(mail_server.inbox.wait_for("sue@example.test"), "/customer/verify/")
    page.goto("/login")
    page.fill("#email", "sue@example.test")
    page.fill("#password", CUSTOMER_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#login-error")).to_contain_text("Verify your email address first", timeout=T)
    page.goto(verify)
    expect(page.locator("#link-done")).to_contain_text("Email address verified", timeout=T)
    customer_log_in(page, "sue@example.test")
    expect(page.get_by_role("heading", name="My charging")).to_be_visible(timeout=T)
    expect(page.locator("#sidebar-nav")).to_have_count(0)  # not the staff menu


def test_invite_an_account_then_sub_accounts_with_add_another_and_resend(world, page, mail_server):
    alpha = make_org(world, slug="alpha")
    support = make_user(world, role="customer_support", orgs=[alpha])
    open_signup(world, scope_for(world, support), alpha)
    log_in(page, support.email)
    page.goto("/accounts")
    page.locator("#new-account").click()
    page.fill("#email", "boss@acme.test")
    page.locator("#send-invitation").click()
    expect(page.locator(".account-row", has_text="boss@acme.test")).to_contain_text("invited", timeout=T)

    # The customer completes a Business account from the mail.
    activate = link_in(mail_server.inbox.wait_for("boss@acme.test"), "/customer/activate/")
    context = page.context.browser.new_context(base_url=page.url.split("/accounts")[0])
    other = context.new_page()
    other.goto(activate)
    other.fill("#full_name", "Bo Boss")
    other.fill("#password", CUSTOMER_PASSWORD)
    other.fill("#confirm", CUSTOMER_PASSWORD)
    other.locator("#kind-business").click()
    other.fill("#name", "Acme")
    other.locator("#accept").click()
    other.get_by_role("button", name="Activate account").click()
    expect(other.locator("#activate-error")).to_contain_text("company details", timeout=T)
    other.fill("#legal_name", "Acme Logistics GmbH")
    other.fill("#billing_address", "Hafenstr. 1, Hamburg")
    other.get_by_role("button", name="Activate account").click()
    expect(other.locator("#link-done")).to_contain_text("Your account is active", timeout=T)
    context.close()

    page.goto("/accounts")
    page.locator("#account-search").fill("acme")
    page.locator(".account-link", has_text="Acme").click()
    page.locator("#add-sub-account").click()
    page.fill("#name", "Ann at home")
    page.fill("#email", "ann@acme.test")
    page.fill("#rate", "-0.30")
    page.locator("#send-sub-invitation").click()
    expect(page.locator(".form-error")).to_contain_text("Reimbursement rate must be between 0 and 1000", timeout=T)
    page.fill("#rate", "0.30")
    page.locator("#send-sub-invitation").click()
    expect(page.locator("#sub-confirmation")).to_contain_text("Invitation sent to ann@acme.test", timeout=T)
    page.locator("#add-another").click()
    page.locator("#use-subsidiary").click()
    page.fill("#name", "Acme Nord")
    page.fill("#email", "nord@acme.test")
    page.fill("#rate", "0.25")
    page.locator("#send-sub-invitation").click()
    expect(page.locator("#sub-confirmation")).to_contain_text("nord@acme.test", timeout=T)
    page.keyboard.press("Escape")
    expect(page.locator("#sub-accounts-table")).to_contain_text("Ann at home", timeout=T)
    expect(page.locator("#sub-accounts-table")).to_contain_text("Subsidiary", timeout=T)

    first = link_in(mail_server.inbox.wait_for("nord@acme.test"), "/customer/activate/")
    page.goto("/users/customers")
    page.locator("#customer-search").fill("nord@")
    page.locator(".customer-row", has_text="nord@acme.test").get_by_role("button", name="Open").click()
    page.locator("#resend-invitation").click()
    second = link_in(mail_server.inbox.wait_for("nord@acme.test", 2), "/customer/activate/")
    assert second != first
    page.goto(first)
    expect(page.locator("#link-problem")).to_contain_text("replaced by a newer invitation", timeout=T)
    page.goto(second)
    expect(page.get_by_role("heading", name="Set up your account")).to_be_visible(timeout=T)


def test_a_customer_sees_only_its_own_sessions(world, page):
    org = make_org(world, slug="alpha")
    staff = scope_for(world, make_user(world, role="admin"))
    open_signup(world, staff, org)
    plan = make_plan(world, staff, org)
    charger = make_charger(world, org, ocpp_id="PUBLIC-1")
    for email, tag in (("mine@x.test", "MINE-CARD"), ("theirs@x.test", "THEIRS-CARD")):
        user = active_customer(world, org, email)
        assets.activate_asset(session=world, scope=staff, account_id=user.account_id, kind="card", id_tag=tag,
                              plan_id=plan.id)
        tx = make_transaction(world, charger, started_at=datetime(2026, 11, 1, 8, tzinfo=UTC),
                              stopped_at=datetime(2026, 11, 1, 9, tzinfo=UTC), energy_wh=7000, id_tag=tag)
        tx.customer_account_id = user.account_id
        world.add(tx)
    world.commit()
    customer_log_in(page, "mine@x.test")
    expect(page.locator("#my-sessions")).to_contain_text("MINE-CARD", timeout=T)
    expect(page.locator("#my-sessions")).not_to_contain_text("THEIRS-CARD", timeout=T)
    page.goto("/transactions")  # the staff pages refuse a customer: it lands on the login page, which sends a
    expect(page).to_have_url(re.compile(r".*/(login|my)/?(\?.*)?$"), timeout=20_000)  # logged-in one to /my
    expect(page.locator("#totals")).to_have_count(0)
