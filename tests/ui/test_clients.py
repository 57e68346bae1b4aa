"""The OEM tier in the browser: add a client in the EU, assign two chargers, create a key (shown once) and call
the API with it, rotate with a 1-hour grace after the warning, revoke, build the app, log in as a user with a
custom role, and open view-as-client."""
from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from models import AuditLog, CustomerAccount, CustomerUser, Organization
from services.access import roles
from services.access.scope import scope_for
from tests.ui.helpers import log_in, on
from tests.ui.helpers import sidebar_items as _sidebar_items
from tests.utils.factories import make_charger, make_operator, make_org, make_user

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def sidebar_items(page) -> list[str]:
    """The sidebar's entries, once it has rendered (the first page after a build is slow on a loaded machine)."""
    expect(page.locator("#sidebar-nav a").first).to_be_visible(timeout=30_000)
    return _sidebar_items(page)


def test_the_operator_runs_a_client_end_to_end(session, page, app_url, screenshot, mail_server):
    op = make_operator(session)
    make_org(session, slug="gotham")
    for i in (1, 2, 3):
        make_charger(session, op, ocpp_id=f"HQ-{i}")
    admin = make_user(session, role="admin")
    log_in(page, admin.email)
    assert "Clients" in sidebar_items(page)

    # Add New Client, region EU, first admin invited by mail.
    page.goto("/clients")
    page.locator("#add-client").click()
    for name, value in (("name", "Fleetline GmbH"), ("slug", "fleetline"), ("legal_name", "Fleetline GmbH"),
                        ("currency", "EUR"), ("timezone", "Europe/Berlin"), ("admin_email", "anna@fleetline.test"),
                        ("admin_name", "Anna")):
        page.fill(f"input[name={name}]", value)
    expect(page.locator("#client-region")).to_contain_text("EU")
    page.locator("#client-form-submit").click()
    row = page.locator(".client-row", has_text="Fleetline GmbH")
    expect(row).to_contain_text("EU")
    mail_server.inbox.wait_for("anna@fleetline.test")
    org = session.execute(select(Organization).where(Organization.slug == "fleetline")).scalar_one()
    assert org.region == "EU"
    screenshot(page, "clients")

    # Assign two chargers.
    row.locator(".client-link").click()
    expect(page).to_have_url(on(f"/clients/{org.id}"))
    page.locator(".assign-charger[data-ocpp='HQ-1']").click()
    page.locator(".assign-charger[data-ocpp='HQ-2']").click()
    page.locator("#assign").click()
    expect(page.locator("#assign-table")).to_contain_text("Fleetline GmbH")

    # Create a key: shown once; it calls the API and sees the two chargers.
    page.locator("#create-key").click()
    page.fill("input[name=name]", "Fleet app")
    page.locator("#key-form-submit").click()
    secret = page.locator("#new-key-secret").inner_text().strip()
    assert secret.startswith("vd_live_")
    page.keyboard.press("Escape")
    r = httpx.get(f"{app_url}/api/v1/chargers", headers={"X-API-Key": secret, "User-Agent": "fleet-app/1.0"})
    assert r.status_code == 200 and sorted(c["ocpp_id"] for c in r.json()["items"]) == ["HQ-1", "HQ-2"]
    page.reload()
    expect(page.locator(".key-row")).to_contain_text(secret[:12])
    expect(page.locator("#keys-table")).not_to_contain_text(secret)
    screenshot(page, "api-keys")

    # Rotate with a 1-hour grace: the warning lists the app that used the key.
    page.locator(".rotate-key").click()
    expect(page.locator("#rotate-warning")).to_contain_text("break when its grace period ends")
    expect(page.locator("#rotate-uses")).to_contain_text("fleet-app/1.0")
    screenshot(page, "oem15-api-key-rotation")
    page.locator("#confirm-rotate").click()
    expect(page.locator(".key-status").first).to_be_visible()
    expect(page.locator("#keys-table")).to_contain_text("grace")
    assert httpx.get(f"{app_url}/api/v1/chargers", headers={"X-API-Key": secret}).status_code == 200

    # Revoke the old key: it stops at once.
    page.locator(".key-row", has_text="grace").locator(".revoke-key").click()
    expect(page.locator("#keys-table")).to_contain_text("revoked")
    r = httpx.get(f"{app_url}/api/v1/chargers", headers={"X-API-Key": secret})
    assert r.status_code == 401 and r.json()["message"] == "This API key was revoked."

    # App Builder with its preview.
    page.fill("#app-app_name", "Fleetline Charge")
    page.fill("#app-primary_color", "#1F3A93")
    expect(page.locator("#app-preview")).to_contain_text("Fleetline Charge")
    page.locator("#save-app").click()
    expect(page.get_by_text("App configuration saved")).to_be_visible()
    screenshot(page, "app-builder")

    # View as client: read-only, audited.
    page.goto("/clients")
    page.locator(".client-row", has_text="Fleetline GmbH").locator(".view-as-client").click()
    expect(page.locator("#view-as-banner")).to_contain_text("Fleetline GmbH")
    expect(page.locator("#sidebar-nav a", has_text="Clients")).to_have_count(0)
    expect(page.locator("#sidebar-nav a", has_text="Users")).to_have_count(0)
    assert session.execute(select(AuditLog).where(AuditLog.action == "view_as_client")).scalar_one()
    screenshot(page, "oem15-view-as-client")
    page.locator("#exit-view-as").click()
    expect(page).to_have_url(on("/clients"))


def test_a_custom_role_made_on_the_roles_page_is_all_its_holder_gets(session, page, screenshot):
    make_operator(session)
    org = make_org(session, slug="fleetco")
    admin = make_user(session, role="admin")
    user = make_user(session, role="cpo", orgs=[org], email="dispatch@fleetco.test")
    session.commit()

    # The operator creates the client's role from the permission table's capabilities, and gives it.
    log_in(page, admin.email)
    page.goto("/roles")
    page.locator("#new-role").click()
    page.fill("#role-name", "Dispatcher")
    page.locator(".role-cap[data-cap='view_dashboard']").click()  # ticked by default: untick, tick again
    page.locator(".role-cap[data-cap='view_dashboard']").click()
    page.locator(".role-cap[data-cap='view_chargers']").click()
    page.locator("#role-form-submit").click()
    row = page.locator(".role-row", has_text="Dispatcher")
    expect(row).to_contain_text("view_chargers, view_dashboard")
    user_row = page.locator(".role-user-row[data-email='dispatch@fleetco.test']")
    user_row.locator(".user-role").click()
    page.get_by_role("option", name="Dispatcher").click()
    expect(page.get_by_text("now holds the role")).to_be_visible()
    expect(row).to_contain_text("1")
    screenshot(page, "oem15-roles")

    # Its holder sees exactly what it allows, and its name in the user menu.
    page.context.clear_cookies()
    log_in(page, user.email)
    assert sidebar_items(page) == ["Dashboard", "Chargers", "Notifications"]
    expect(page.locator("#user-menu")).to_contain_text("Dispatcher")
    page.goto("/users")
    expect(page.get_by_text("You don't have access to this page")).to_be_visible()


def test_a_user_with_a_custom_role_sees_only_what_it_allows(session, page):
    make_operator(session)
    org = make_org(session, slug="fleetco")
    admin = make_user(session, role="admin")
    role = roles.create_role(session=session, scope=scope_for(session, admin), user_id=admin.id,
                             organization_id=org.id, name="Dispatcher", capabilities=["view_chargers",
                                                                                       "view_dashboard"])
    user = make_user(session, role="cpo", orgs=[org])
    user.custom_role_id = role.id
    session.commit()
    log_in(page, user.email)
    assert sidebar_items(page) == ["Dashboard", "Chargers", "Notifications"]
    expect(page.locator("#user-menu")).to_contain_text("Dispatcher")


def test_the_operator_moves_a_fleet_to_a_client_from_the_clients_page(session, page, screenshot):
    op = make_operator(session)
    client = make_org(session, slug="gotham", currency="USD")
    fleet = CustomerAccount(organization_id=op.id, kind="business", status="active", name="Liberty Couriers",
                            legal_name="Liberty Couriers LLC")
    session.add(fleet)
    session.flush()
    session.add(CustomerUser(organization_id=op.id, account_id=fleet.id, email="lou@liberty.test", status="active"))
    admin = make_user(session, role="admin")
    session.commit()
    log_in(page, admin.email)
    page.goto(f"/clients/{client.id}")
    page.locator("#choose-fleet").click()
    page.get_by_role("option", name="Liberty Couriers (Operator, 1 app users)").click()
    page.locator("#assign-fleet").click()
    expect(page.get_by_text("Fleet moved to Gotham with 1 app user(s)")).to_be_visible()
    expect(page.locator("#fleets-here")).to_contain_text("Liberty Couriers")
    screenshot(page, "oem15-fleet")
    session.expire_all()
    assert session.get(CustomerAccount, fleet.id).organization_id == client.id
