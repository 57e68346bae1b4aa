"""The organization settings page: validated edits with nothing saved on error, the audit log, read-only roles."""
from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from models import Organization
from tests.ui.helpers import log_in, on
from tests.utils.factories import make_org, make_tariff, make_user

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def _vat(world, org_id: int) -> Decimal:
    world.expire_all()
    return world.get(Organization, org_id).vat_rate


def test_accounts_user_is_refused_a_negative_vat_with_nothing_saved_then_saves_a_valid_one_seen_in_the_audit_log(
        world, page, screenshot):
    org = make_org(world, slug="colombo-charge", currency="LKR", timezone="Asia/Colombo", vat_rate=Decimal("18"))
    make_tariff(world, org, name="Standard", price_per_kwh="95", bands=[
        {"start": "18:30", "end": "22:30", "price_per_kwh": "120"}])
    accounts = make_user(world, role="accounts")
    log_in(page, accounts.email)
    page.goto("/organizations")
    page.locator(".org-row", has_text="Colombo Charge").locator(".org-link").click()
    expect(page).to_have_url(on(f"/organizations/{org.id}"))
    expect(page.locator("#org-title")).to_have_text("Colombo Charge")
    screenshot(page, "organization")

    # A file that is not an image is refused with the service's message.
    page.locator("#logo input[type=file]").set_input_files(
        files=[{"name": "logo.png", "mimeType": "image/png", "buffer": b"%PDF-1.7 not an image"}])
    page.locator("#upload-logo").click()
    expect(page.locator("#logo-error")).to_have_text("The logo must be a PNG, JPEG, WebP or GIF image.")
    world.expire_all()
    assert world.get(Organization, org.id).logo_path is None

    page.get_by_role("tab", name="Billing & taxes").click()
    page.fill("#vat_rate", "-5")
    page.fill("#payment_terms_days", "45")  # valid, but nothing is saved while another field is wrong
    page.locator("#save-billing").click()
    expect(page.locator("#vat_rate-error")).to_have_text("VAT rate (%) must be between 0 and 50.")
    expect(page.get_by_role("alert").filter(has_text="Nothing was saved")).to_be_visible()
    assert _vat(world, org.id) == Decimal("18")
    assert world.get(Organization, org.id).payment_terms_days == 30

    page.fill("#vat_rate", "12.5")
    page.locator("#save-billing").click()
    expect(page.locator("#vat_rate-error")).to_have_count(0)
    expect(page.get_by_text("Saved.", exact=True)).to_be_visible()
    assert _vat(world, org.id) == Decimal("12.5")

    page.get_by_role("tab", name="Audit log").click()
    vat_row = page.locator(".audit-row", has_text="VAT rate (%)")
    expect(vat_row).to_have_count(1)
    expect(vat_row).to_contain_text(accounts.email)
    expect(vat_row).to_contain_text("18")
    expect(vat_row).to_contain_text("12.5")
    expect(page.locator(".audit-row", has_text="Payment terms")).to_contain_text("45")
    screenshot(page, "organization-audit")


def test_cpo_sees_its_organization_read_only(world, page):
    org = make_org(world, slug="gotham", currency="USD", timezone="America/New_York", vat_rate=Decimal("8.875"))
    make_tariff(world, org, name="Standard", price_per_kwh="0.45")
    log_in(page, make_user(world, role="cpo", orgs=[org]).email)
    page.goto(f"/organizations/{org.id}")

    expect(page.locator("#read-only")).to_be_visible()
    expect(page.locator("#name")).to_have_attribute("readonly", "")
    expect(page.locator("#save-profile")).to_have_count(0)
    expect(page.locator("#upload-logo")).to_have_count(0)
    page.get_by_role("tab", name="Billing & taxes").click()
    expect(page.locator("#vat_rate")).to_have_value("8.875")
    expect(page.locator("#save-billing")).to_have_count(0)
    page.get_by_role("tab", name="Tariffs").click()
    expect(page.locator(".tariff-row")).to_contain_text("Standard")
    expect(page.locator("#new-tariff")).to_have_count(0)
    page.get_by_role("tab", name="Commissions").click()
    expect(page.locator("#add-contract")).to_have_count(0)
