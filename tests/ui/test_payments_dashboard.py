"""The payments dashboard in a browser: its organization and date-range filters (applied on the server, in the
organization's days), the reconciliation panel after "Reconcile today" against a stand-in's settlement file, a
gateway disabled and enabled again, and a customer's card top-up in the portal."""
from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from models import CustomerAccount
from services.access.permissions import Role
from services.access.scope import Scope
from tests.services.payments.conftest import configure_cybersource, configure_dialog
from tests.ui.helpers import log_in
from tests.ui.test_customers import customer_log_in
from tests.utils import standins
from tests.utils.customers import active_customer, open_signup
from tests.utils.factories import make_charger, make_org, make_tariff, make_user
from tests.utils.payments import make_card, make_wallet, paid_session

ADMIN = Scope(user_id=0, role=Role.ADMIN, org_ids=None)
SHOTS = "/tmp/pay10"


def _shot(page, name: str) -> None:
    page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_dashboard_filters_by_organization_and_dates_and_shows_reconciliation_mismatches(page, world):
    alpha = make_org(world, slug="alpha-charging", currency="USD", timezone="UTC")
    bravo = make_org(world, slug="bravo-laden", currency="EUR", timezone="Europe/Berlin")
    for org in (alpha, bravo):
        make_tariff(world, org, price_per_kwh="0.50")
    a = paid_session(world, make_charger(world, alpha), make_wallet(world, alpha, balance="50.00").customer_account_id,
                     energy_wh=20_000, at=datetime(2026, 12, 1, 10, 0, tzinfo=UTC))
    b = paid_session(world, make_charger(world, bravo), make_wallet(world, bravo, balance="50.00").customer_account_id,
                     energy_wh=10_000, at=datetime(2026, 11, 20, 10, 0, tzinfo=UTC))
    dialog = standins.dialog()
    try:
        configure_dialog(world, alpha, dialog)
        dialog.add_settled(day=datetime.now(UTC).date().isoformat(), reference="VD-S987654.capture1",
                           payment_reference="VD-S987654", uid="04A1B2C3D4", amount=Decimal("12.50"), currency="USD")
        log_in(page, make_user(world, role="accounts").email)
        page.goto("/payments")
        rows = page.locator(".payment-row")
        expect(rows).to_have_count(2, timeout=30_000)
        # Organization: only Alpha's payment, and only its total.
        page.locator("#payments-organization").click()
        page.get_by_role("option", name="Alpha Charging").click()
        expect(rows).to_have_count(1, timeout=15_000)
        expect(rows.first).to_contain_text(a.reference)
        expect(page.locator("#payments-totals")).to_contain_text("$10.00")
        expect(page.locator("#payments-totals")).not_to_contain_text("€")
        # Back to every organization, then a date range that holds only Bravo's November payment.
        page.locator("#payments-organization").click()
        page.get_by_role("option", name="All organizations").click()
        expect(rows).to_have_count(2, timeout=15_000)
        page.fill("#payments-date-from", "2026-11-15")
        page.fill("#payments-date-to", "2026-11-25")
        expect(rows).to_have_count(1, timeout=15_000)
        expect(rows.first).to_contain_text(b.reference)
        assert "start=2026-11-15" in page.locator("#payments-csv").get_attribute("href")
        # A range that ends before it starts is refused with a message; the table keeps its rows.
        page.fill("#payments-date-to", "2026-11-01")
        expect(page.locator("#payments-range-error")).to_contain_text("starts after it ends", timeout=15_000)
        page.click("#payments-all-dates")
        expect(rows).to_have_count(2, timeout=15_000)
        # Reconciliation: nothing yet; "Reconcile today" reads Dialog's file and lists the debit we never made.
        panel = page.locator("#reconciliation-panel")
        expect(panel).to_contain_text("No reconciliation has run yet")
        page.click("#reconcile-today")
        mismatch = page.locator(".reconciliation-mismatch")
        expect(mismatch).to_have_count(1, timeout=30_000)
        expect(mismatch).to_contain_text("VD-S987654")
        expect(mismatch).to_contain_text("Not in our ledger")
        expect(mismatch).to_contain_text("$12.50")
        expect(page.locator(".reconciliation-run")).to_contain_text("Mismatched")
        _shot(page, "dashboard-reconciliation")
        # The gateway can be disabled and enabled again on its configuration page.
        page.goto("/gateways")
        row = page.locator(".gateway-row", has_text="Dialog")
        expect(row.locator(".gateway-state")).to_have_text("Enabled", timeout=30_000)
        row.locator(".gateway-toggle").click()
        expect(row.locator(".gateway-state")).to_have_text("Disabled", timeout=15_000)
        _shot(page, "gateways-disabled")
        row.locator(".gateway-toggle").click()
        expect(row.locator(".gateway-state")).to_have_text("Enabled", timeout=15_000)
    finally:
        dialog.shutdown()
        dialog.server_close()


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_a_customer_tops_up_its_wallet_by_card_in_the_portal(page, world):
    org = make_org(world, slug="portal-pay", currency="USD", timezone="UTC")
    open_signup(world, ADMIN, org)
    world.commit()
    server = standins.cybersource()
    try:
        configure_cybersource(world, org, server)
        user = active_customer(world, org, "mia@portal-pay.test")
        make_card(world, world.get(CustomerAccount, user.account_id), last4="4242")
        customer_log_in(page, "mia@portal-pay.test")
        page.locator("#tab-wallet").click()
        expect(page.locator("#my-wallet-balance")).to_have_text("$0.00", timeout=30_000)
        page.fill("#top-up-amount", "0")
        page.click("#top-up-submit")
        expect(page.locator("#top-up-error")).to_be_visible(timeout=15_000)
        page.fill("#top-up-amount", "25.00")
        page.click("#top-up-submit")
        expect(page.locator("#my-wallet-balance")).to_have_text("$25.00", timeout=30_000)
        expect(page.locator("#my-wallet-history")).to_contain_text("card top-up •••• 4242")
        _shot(page, "portal-wallet")
        ops = [op["op"] for op in server.state.operations]
        assert ops == ["authorize", "captures"]
    finally:
        server.shutdown()
        server.server_close()
