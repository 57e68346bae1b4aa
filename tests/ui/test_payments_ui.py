"""The payments pages in a browser: configure a gateway (credentials shown again only as their last four, the
test-connection button), see a session's payment on the dashboard, refund part of it (and follow its credit note
on the session's invoice), see the wallet's history."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from playwright.sync_api import expect

from core.clock import clock
from services.billing import invoicing
from tests.ui.helpers import log_in
from tests.utils import standins
from tests.utils.factories import make_charger, make_org, make_tariff, make_user
from tests.utils.payments import make_wallet, paid_session


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_configure_a_gateway_and_test_its_connection(page, world):
    org = make_org(world, slug="lanka-pay", currency="LKR", timezone="Asia/Colombo")
    admin = make_user(world, role="admin")
    server = standins.cybersource()
    creds = standins.cybersource_credentials(server)
    try:
        log_in(page, admin.email)
        page.goto("/gateways")
        page.locator("#gw-organization").click()
        page.get_by_role("option", name=org.name).click()
        for field, value in (("base_url", server.url), ("merchant_id", creds.merchant_id),
                             ("key_id", creds.key_id), ("secret", creds.secret),
                             ("webhook_secret", creds.webhook_secret), ("methods", "visa, mastercard")):
            page.fill(f"#gw-{field}", value)
        page.click("#gw-save")
        row = page.locator(".gateway-row")
        expect(row).to_have_count(1, timeout=30_000)
        expect(row).to_contain_text("•••• " + creds.secret[-4:])
        expect(page.locator("body")).not_to_contain_text(creds.secret)
        expect(page.locator("#gw-secret")).to_have_value("")
        row.locator(".gateway-test").click()
        expect(page.locator("#gw-test-result")).to_contain_text("Connected", timeout=15_000)
    finally:
        server.shutdown()


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_a_sessions_payment_on_the_dashboard_refunded_in_part_and_the_wallet_history(page, world):
    org = make_org(world, slug="wallet-org", currency="USD", timezone="UTC")
    make_tariff(world, org, price_per_kwh="0.50")
    charger = make_charger(world, org)
    wallet = make_wallet(world, org, balance="50.00")
    payment = paid_session(world, charger, wallet.customer_account_id, energy_wh=20_000)  # 10.00
    clock.set(datetime(2026, 12, 3, 9, tzinfo=UTC))  # the session's day (1 December) is invoiced: refunds credit it
    invoice = invoicing.invoice_period(session=world, org=org, period_start=date(2026, 12, 1),
                                       period_end=date(2026, 12, 1))
    accounts = make_user(world, role="accounts")
    log_in(page, accounts.email)
    page.goto("/payments")
    row = page.locator(".payment-row", has_text=payment.reference)
    expect(row).to_contain_text("Captured", timeout=30_000)
    expect(row).to_contain_text("$10.00")
    expect(page.locator("#payments-totals")).to_contain_text("$10.00")
    row.locator(".payment-link").click()
    expect(page.locator("#payment-timeline")).to_contain_text("Authorized", timeout=30_000)
    expect(page.locator("#payment-timeline")).to_contain_text("Captured")
    page.fill("#refund-amount", "20.00")
    page.fill("#refund-reason", "Charger stopped early")
    page.click("#refund-submit")
    expect(page.locator("#refund-error")).to_contain_text("At most 10.00", timeout=15_000)
    page.fill("#refund-amount", "2.50")
    page.click("#refund-submit")
    expect(page.locator(".refund-row")).to_contain_text("$2.50", timeout=15_000)
    expect(page.locator(".payment-status").first).to_contain_text("Partially refunded")
    # The refund's credit note on the session's invoice, and back to the refund from it.
    credit_note = page.locator(".refund-credit-note")
    expect(credit_note).to_contain_text("CN-WALLET-ORG-", timeout=15_000)
    credit_note.click()
    expect(page.locator("#refund-credit")).to_contain_text(invoice.number, timeout=30_000)
    expect(page.locator("#invoice-net")).to_contain_text("2.50")
    page.goto(f"/wallets/{wallet.id}")
    expect(page.locator("#wallet-balance")).to_have_text("$42.50", timeout=30_000)
    expect(page.locator(".wallet-history-row").first).to_contain_text("refund: Charger stopped early")
