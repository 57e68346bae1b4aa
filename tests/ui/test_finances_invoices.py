"""The Finances and Invoices pages: a bulk run from the web with its progress and report, an invoice marked
Sent then Paid with its history, the PDF download, read-only invoices for a CPO, and revenue per currency.

The page helpers that turn service data into rows are checked without a browser at the bottom."""
from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from services.billing import finance, invoicing
from state.finances import currency_totals, cycle_label, tree_rows
from state.invoices import last_month
from tests.ui.helpers import log_in, sidebar_items
from tests.utils.factories import (
    make_charger,
    make_location_owner,
    make_org,
    make_priced_session,
    make_user,
)

# A closed period in the past: the app runs with the real clock.
START, END = date(2025, 10, 1), date(2025, 10, 31)


def _in_period(day: int) -> datetime:
    return datetime(2025, 10, day, 12, tzinfo=UTC)


def _three_organizations(world):
    alpha = make_org(world, slug="alpha", vat_rate=Decimal("20"), billing_email="ap@alpha.example",
                     legal_name="Alpha Charging GmbH", address="Hauptstraße 1\n10115 Berlin")
    bravo = make_org(world, slug="bravo", currency="USD", timezone="America/New_York")
    quiet = make_org(world, slug="quiet")  # nothing to bill
    a1, a2 = make_charger(world, alpha, ocpp_id="A-1", name="Alexanderplatz"), make_charger(world, alpha, ocpp_id="A-2")
    make_priced_session(world, a1, stopped_at=_in_period(3), energy="10.00", session_fee="1.00")
    make_priced_session(world, a1, stopped_at=_in_period(9), energy="5.55")
    make_priced_session(world, a2, stopped_at=_in_period(20), energy="2.00")
    make_priced_session(world, make_charger(world, bravo, ocpp_id="B-1"), stopped_at=_in_period(10), energy="4.00")
    return alpha, bravo, quiet


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_bulk_run_from_the_web_then_an_invoice_is_sent_paid_and_downloaded_as_pdf(world, page, screenshot):
    _three_organizations(world)
    accounts = make_user(world, role="accounts", email="finance@voltdesk.test")
    log_in(page, accounts.email)
    page.goto("/invoices")
    expect(page.get_by_text("No invoices yet")).to_be_visible()

    page.locator("#open-bulk").click()
    page.fill("#bulk_start", START.isoformat())
    page.fill("#bulk_end", END.isoformat())
    page.locator("#bulk-generate").click()
    expect(page.locator("#bulk-progress")).to_be_visible()
    summary = page.locator("#bulk-summary")
    expect(summary).to_contain_text("2 made")
    expect(summary).to_contain_text("1 skipped")
    expect(summary).to_contain_text("0 failed")
    expect(page.locator("#bulk-dialog")).to_contain_text("Finished: 3 of 3 organizations")
    expect(page.locator("#bulk-progress")).to_have_attribute("aria-valuenow", "100")
    report = page.locator(".bulk-outcome")
    expect(report).to_have_count(3)
    expect(report.filter(has_text="Alpha")).to_contain_text("Invoice INV-ALPHA-00001 created.")
    expect(report.filter(has_text="Quiet")).to_contain_text("Nothing to bill")
    screenshot(page, "invoices-bulk-report")

    # The same period again makes nothing twice.
    page.get_by_role("button", name="Another period").click()
    page.locator("#bulk-generate").click()
    expect(summary).to_contain_text("0 made")
    expect(report.filter(has_text="Alpha")).to_contain_text("Already invoiced as INV-ALPHA-00001")
    page.locator("#bulk-close").click()
    rows = page.locator(".invoice-row")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="INV-BRAVO-00001")).to_contain_text("$")
    screenshot(page, "invoices")

    rows.filter(has_text="INV-ALPHA-00001").locator(".invoice-link").click()
    expect(page).to_have_url(re.compile(r".*/invoices/\d+/?$"))
    expect(page.locator("#invoice-title")).to_contain_text("INV-ALPHA-00001")
    expect(page.locator("#invoice-status")).to_have_text("Draft")
    expect(page.locator(".invoice-line")).to_have_count(2)
    # 10.00 + 1.00 + 5.55 + 2.00 = 18.55 subtotal; VAT 20 % per session: 2.20 + 1.11 + 0.40 = 3.71.
    settlement = page.locator("#settlement")
    expect(settlement.locator(".settlement-line", has_text="Subtotal (before tax)")).to_contain_text("€18.55")
    expect(settlement.locator(".settlement-line", has_text="Gross collected")).to_contain_text("€22.26")
    expect(page.locator("#customer-party")).to_contain_text("Alpha Charging GmbH")

    page.locator("#mark-sent").click()
    expect(page.locator("#invoice-status")).to_have_text("Sent")
    page.locator("#mark-paid").click()
    expect(page.locator("#invoice-status")).to_have_text("Paid")
    history = page.locator(".history-row")
    expect(history).to_have_count(3)
    expect(history.nth(1)).to_contain_text("Sent")
    expect(history.nth(1)).to_contain_text(accounts.email)
    expect(history.nth(2)).to_contain_text("Paid")
    expect(history.nth(2)).to_contain_text(accounts.email)
    # A paid invoice takes no more status changes; it can still be corrected.
    expect(page.locator("#mark-paid")).to_have_count(0)
    expect(page.locator("#open-void")).to_have_count(0)
    screenshot(page, "invoice")

    with page.expect_download() as download:
        page.locator("#download-pdf").click()
    assert download.value.suggested_filename == "INV-ALPHA-00001.pdf"
    text = PdfReader(io.BytesIO(open(download.value.path(), "rb").read())).pages[0].extract_text()
    assert "INV-ALPHA-00001" in text and "Alpha Charging GmbH" in text


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_a_cpo_sees_its_own_invoices_read_only_and_none_of_another_organizations(world, page):
    alpha, bravo, _ = _three_organizations(world)
    made = invoicing.generate_bulk(session=world, scope=invoicing.SYSTEM_SCOPE, period_start=START,
                                   period_end=END)
    ids = {o.organization: o.invoice_id for o in made.outcomes}
    owner = make_location_owner(world, alpha, "Mall")
    cpo = make_user(world, role="cpo", orgs=[alpha])

    log_in(page, cpo.email)
    page.goto("/invoices")
    rows = page.locator(".invoice-row")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("INV-ALPHA-00001")
    expect(page.get_by_text("INV-BRAVO-00001")).to_have_count(0)
    expect(page.locator("#open-bulk")).to_have_count(0)

    rows.locator(".invoice-link").click()
    expect(page.locator("#invoice-title")).to_contain_text("INV-ALPHA-00001")
    expect(page.locator("#read-only-note")).to_be_visible()
    for action in ("#mark-sent", "#mark-paid", "#open-void", "#send-email", "#open-correct"):
        expect(page.locator(action)).to_have_count(0)
    expect(page.locator("#download-pdf")).to_be_visible()

    page.goto(f"/invoices/{ids['Bravo']}")
    expect(page.locator("#invoice-not-found")).to_be_visible()
    expect(page.locator("#invoice-title")).to_have_count(0)

    # A location owner sees its chargers' revenue but no invoices: no menu entry, and the page refuses.
    page.context.clear_cookies()
    log_in(page, make_user(world, role="location_owner", location_owner=owner).email)
    assert "Finances" in sidebar_items(page) and "Invoices" not in sidebar_items(page)
    page.goto("/invoices")
    expect(page.get_by_text("You don't have access to this page")).to_be_visible()
    expect(page.locator(".invoice-row")).to_have_count(0)


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_a_credit_notes_page_and_pdf_both_say_the_amount_is_credited(world, page):
    alpha, _, _ = _three_organizations(world)
    made = invoicing.generate_bulk(session=world, scope=invoicing.SYSTEM_SCOPE, period_start=START,
                                   period_end=END, organization_ids=[alpha.id])
    fix = invoicing.correct_invoice(session=world, scope=invoicing.SYSTEM_SCOPE,
                                    invoice_id=made.outcomes[0].invoice_id, reason="Wrong tariff")

    log_in(page, make_user(world, role="accounts").email)
    page.goto(f"/invoices/{fix.credit_note.id}")
    expect(page.locator("#invoice-title")).to_contain_text("Credit note")
    expect(page.locator("#invoice-net-heading")).to_have_text("Net credited")
    expect(page.locator(".settlement-line").last).to_contain_text("Net credited to Alpha")
    expect(page.locator("#settlement")).not_to_contain_text("Net payable")

    with page.expect_download() as download:
        page.locator("#download-pdf").click()
    text = "\n".join(p.extract_text() for p in PdfReader(download.value.path()).pages)
    assert "Credit note" in text and "Net credited to Alpha" in text and "Net payable" not in text


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_finances_show_revenue_per_currency_roll_ups_and_the_billing_runs(world, page, screenshot):
    now = datetime.now(UTC)
    parent = make_org(world, slug="metro", vat_rate=Decimal("0"))
    sub = make_org(world, slug="metro-north", parent=parent, vat_rate=Decimal("0"))
    usd = make_org(world, slug="gotham", currency="USD", timezone="America/New_York", vat_rate=Decimal("0"))
    make_priced_session(world, make_charger(world, parent, ocpp_id="M-1", name="Central"),
                        stopped_at=now - timedelta(hours=2), energy="12.00", energy_wh=8000)
    make_priced_session(world, make_charger(world, sub, ocpp_id="N-1", name="North"),
                        stopped_at=now - timedelta(days=3), energy="5.00", energy_wh=4000)
    wayne = make_charger(world, usd, ocpp_id="G-1", name="Wayne")
    make_priced_session(world, wayne, stopped_at=now - timedelta(days=40), energy="7.00", energy_wh=2000)
    # A run for a period long ago (outside the 365 days): Gotham is invoiced, the others have nothing to bill.
    make_priced_session(world, wayne, stopped_at=datetime(2024, 1, 15, 12, tzinfo=UTC), energy="3.00")
    invoicing.generate_bulk(session=world, scope=invoicing.SYSTEM_SCOPE, period_start=date(2024, 1, 1),
                            period_end=date(2024, 1, 31))

    log_in(page, make_user(world, role="accounts").email)
    page.goto("/finances")
    cards = page.locator(".currency-card")
    expect(cards).to_have_count(2)  # euros and dollars side by side, never added together
    expect(cards.filter(has_text="EUR")).to_contain_text("€17.00")
    expect(cards.filter(has_text="USD")).to_contain_text("$0.00")  # 40 days ago is outside the last 30 days
    page.locator("#finance-period").get_by_role("radio", name="365 days").click()
    expect(cards.filter(has_text="USD")).to_contain_text("$7.00")

    metro = page.locator(".org-total-row", has_text="Metro").first
    expect(metro.locator(".period-7d")).to_contain_text("€17.00")  # its own 12.00 plus Metro North's 5.00
    page.locator("#rollup-mode").get_by_role("radio", name="Own chargers only").click()
    expect(metro.locator(".period-7d")).to_contain_text("€12.00")
    expect(metro.locator(".period-24h")).to_contain_text("8.00 kWh · 1 session")

    expect(page.locator(".finance-charger-row")).to_have_count(3)
    page.fill("#finance-search", "north")
    expect(page.locator(".finance-charger-row")).to_have_count(1)
    expect(page.locator(".finance-charger-row")).to_contain_text("N-1")

    expect(page.locator(".schedule-row")).to_have_count(3)
    runs = page.locator(".run-row")
    expect(runs).to_have_count(3)
    expect(runs.filter(has_text="Gotham")).to_contain_text("Made")
    expect(runs.filter(has_text="Gotham")).to_contain_text("Invoice INV-GOTHAM-00001 created.")
    expect(runs.filter(has_text="Metro North")).to_contain_text("Nothing to bill")
    screenshot(page, "finances")


# --- the page helpers, without a browser -------------------------------------------------------------------


def _figures(revenue: str, kwh: str, n: int) -> finance.Figures:
    return finance.Figures(Decimal(revenue), Decimal(kwh), n)


def _totals(org_id, name, parent, currency, own, rollup) -> finance.OrgTotals:
    return finance.OrgTotals(org_id, name, parent, currency, own, rollup)


def test_organization_rows_are_in_tree_order_with_each_currency_on_its_own_named_line():
    zero = {p: finance.Figures() for p in finance.PERIODS}
    some = {p: _figures("3.50", "1.25", 2) for p in finance.PERIODS}
    totals = [
        _totals(2, "Zeta", 1, "EUR", {"EUR": some}, {"EUR": some}),
        _totals(1, "Operator", None, "USD", {"USD": zero}, {"USD": zero, "EUR": some}),
        _totals(3, "Alpha", 1, "LKR", {"LKR": zero}, {"LKR": zero}),
    ]
    rows = tree_rows(totals, rollup=True)
    assert [(r["organization"], r["currency"], r["indent"]) for r in rows] == [
        ("Operator", "USD", "0px"), ("Operator · in EUR", "EUR", "0px"), ("Alpha", "LKR", "20px"),
        ("Zeta", "EUR", "20px")]
    assert rows[1]["rev_7d"] == "€3.50" and rows[1]["sub_7d"] == "1.25 kWh · 2 sessions"
    assert rows[2]["rev_30d"] == "LKR0.00"
    assert [r["currency"] for r in tree_rows(totals, rollup=False)] == ["USD", "LKR", "EUR"]


def test_currency_totals_add_chargers_per_currency_only():
    def charger(cur, revenue):
        periods = {p: _figures(revenue, "1", 1) for p in finance.PERIODS}
        return finance.ChargerRevenue(1, "X", "", 1, "Org", cur, periods)

    out = currency_totals([charger("EUR", "1.10"), charger("USD", "2.00"), charger("EUR", "0.15")])
    assert [(c["currency"], c["rev_24h"], c["n_24h"]) for c in out] == [
        ("EUR", "€1.25", "2 sessions"), ("USD", "$2.00", "1 session")]


def test_billing_cycle_labels_and_the_default_bulk_period():
    assert cycle_label("weekly", 1) == "Weekly, on Monday"
    assert cycle_label("quarterly", 15) == "Quarterly, on day 15"
    assert last_month(date(2026, 3, 15)) == (date(2026, 2, 1), date(2026, 2, 28))
    assert last_month(date(2026, 1, 1)) == (date(2025, 12, 1), date(2025, 12, 31))
