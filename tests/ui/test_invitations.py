"""Invitations end to end in the browser: Customer Support invites, the mail's link activates the account.

Mail: the app runs with SMTP_URL pointing at a real aiosmtpd server started for the test session
(`mail_server` in tests/ui/conftest.py) and PUBLIC_URL set to its own address, so the link in the
received mail is followed exactly as the invited person would.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select, update

from core.clock import utcnow
from models import User, UserToken
from tests.ui.helpers import log_in, on, sidebar_items
from tests.utils.factories import make_charger, make_org, make_user
from tests.utils.smtp import links

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

NEW_PASSWORD = "carla-sets-her-own-password"


def link_in(msg, path: str) -> str:
    return next(link for link in links(msg) if path in link)


def invite_from_users_page(page, email: str, name: str, screenshot=None) -> None:
    page.goto("/users")
    page.locator("#invite-user").click()
    page.locator("#role").click()
    expect(page.get_by_role("option")).to_have_text(["Customer Support", "CPO", "Location Owner"])
    page.get_by_role("option", name="CPO", exact=True).click()
    page.fill("#full_name", name)
    page.fill("#email", email)
    expect(page.locator("#password")).to_have_count(0)  # the invited person chooses the password
    if screenshot:
        screenshot(page, "invite-dialog")
    page.get_by_role("button", name="Send invitation").click()


def test_support_invites_a_cpo_who_activates_from_the_mail_and_sees_only_its_organization(
        world, page, mail_server, screenshot):
    alpha, bravo = make_org(world, slug="alpha"), make_org(world, slug="bravo")
    make_charger(world, alpha, ocpp_id="ALPHA-1")
    make_charger(world, bravo, ocpp_id="BRAVO-1")
    support = make_user(world, role="customer_support", orgs=[alpha])
    log_in(page, support.email)
    invite_from_users_page(page, "carla@example.test", "Carla CPO", screenshot)
    row = page.locator(".user-row", has_text="carla@example.test")
    expect(row).to_contain_text("invited")
    expect(row.locator(".invite-note")).to_contain_text("Link valid for 23 h more")
    expect(row.get_by_role("button", name="Resend invitation")).to_be_visible()
    screenshot(page, "users-invited")

    msg = mail_server.inbox.wait_for("carla@example.test")
    link = link_in(msg, "/activate/")
    assert link.startswith(page.url.split("/users")[0])
    # Not before activation.
    page.context.clear_cookies()
    page.goto("/login")
    page.fill("#email", "carla@example.test")
    page.fill("#password", NEW_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#login-error")).to_contain_text("Incorrect email or password")

    page.goto(link)
    expect(page.get_by_role("heading", name="Set up your account")).to_be_visible()
    expect(page.locator("#invited-email")).to_have_text("carla@example.test")
    expect(page.locator("#full_name")).to_have_value("Carla CPO")
    page.fill("#password", NEW_PASSWORD)
    page.fill("#confirm", "a-different-password")
    page.get_by_role("button", name="Activate account").click()
    expect(page.locator("#activate-error")).to_have_text("The passwords do not match.")
    screenshot(page, "activate-form")
    page.fill("#confirm", NEW_PASSWORD)
    page.get_by_role("button", name="Activate account").click()
    expect(page.locator("#link-done")).to_contain_text("Your account is active")
    screenshot(page, "activate-done")

    page.get_by_role("button", name="Log in").click()
    log_in(page, "carla@example.test", NEW_PASSWORD)
    assert "Users" not in sidebar_items(page) and "Chargers" in sidebar_items(page)
    page.goto("/chargers")
    expect(page.locator(".charger-row")).to_have_count(1)
    expect(page.locator(".charger-row")).to_contain_text("ALPHA-1")

    # The link worked once.
    page.goto(link)
    expect(page.locator("#link-problem")).to_contain_text("already activated")


def test_an_expired_link_says_so_and_a_resent_invitation_works(world, page, mail_server, screenshot):
    alpha = make_org(world, slug="alpha")
    support = make_user(world, role="customer_support", orgs=[alpha])
    log_in(page, support.email)
    invite_from_users_page(page, "dora@example.test", "Dora CPO")
    old_link = link_in(mail_server.inbox.wait_for("dora@example.test"), "/activate/")
    expect(page.locator(".user-row", has_text="dora@example.test")).to_contain_text("invited")  # committed
    # Age the link past its 24 hours (the app runs in its own process, on the real clock).
    dora = world.execute(select(User).where(User.email == "dora@example.test")).scalar_one()
    world.execute(update(UserToken).where(UserToken.user_id == dora.id).values(
        created_at=utcnow() - timedelta(hours=25), expires_at=utcnow() - timedelta(hours=1)))
    world.commit()

    page.reload()
    row = page.locator(".user-row", has_text="dora@example.test")
    expect(row.locator(".invite-note")).to_have_text("Invitation link expired")
    row.get_by_role("button", name="Resend invitation").click()
    expect(page.get_by_text("Invitation resent to dora@example.test")).to_be_visible()
    expect(row.locator(".invite-note")).to_contain_text("Link valid for")
    new_link = link_in(mail_server.inbox.wait_for("dora@example.test", 2), "/activate/")

    page.goto(old_link)
    expect(page.locator("#link-problem")).to_contain_text("replaced by a newer invitation")
    world.execute(update(UserToken).where(UserToken.user_id == dora.id, UserToken.revoked_at.is_(None)).values(
        created_at=utcnow() - timedelta(hours=24, minutes=1), expires_at=utcnow() - timedelta(minutes=1)))
    world.commit()
    page.goto(new_link)
    expect(page.locator("#link-problem")).to_contain_text(
        "This activation link has expired: invitations are valid for 24 hours. "
        "Ask the person who invited you for a new invitation.")
    expect(page.get_by_role("heading", name="This invitation has expired")).to_be_visible()
    screenshot(page, "activate-expired")


def test_forgot_password_mails_a_link_that_sets_a_new_password(world, page, mail_server, screenshot):
    cpo = make_user(world, role="cpo", orgs=[make_org(world, slug="alpha")], email="erin@example.test")
    page.goto("/login")
    screenshot(page, "login-with-forgot-link")
    page.locator("#forgot-password").click()
    expect(page).to_have_url(on("/forgot-password"))
    screenshot(page, "forgot-password")
    page.fill("#email", cpo.email)
    page.get_by_role("button", name="Send reset link").click()
    expect(page.locator("#reset-requested")).to_contain_text("If an active account uses that e-mail address")

    page.goto(link_in(mail_server.inbox.wait_for(cpo.email), "/reset-password/"))
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    page.fill("#password", NEW_PASSWORD)
    page.fill("#confirm", NEW_PASSWORD)
    screenshot(page, "reset-password")
    page.get_by_role("button", name="Set new password").click()
    expect(page.locator("#link-done")).to_contain_text("Password changed")
    log_in(page, cpo.email, NEW_PASSWORD)
    # End on a quiet page: the dashboard keeps following live data while it is open.
    page.goto("/account")
    expect(page.get_by_role("heading", name="Change password")).to_be_visible()
