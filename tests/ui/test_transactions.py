"""The transactions page: a local date range and a charger filter, the CSV of that list, a session's detail."""
from __future__ import annotations

import csv
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.ui.helpers import log_in, on
from tests.utils.factories import make_charger, make_org, make_tariff, make_transaction, make_user

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

NY = ZoneInfo("America/New_York")


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=NY)


def test_filter_by_local_dates_and_charger_download_that_csv_and_open_a_sessions_breakdown(world, page, screenshot):
    gotham = make_org(world, slug="gotham", currency="USD", timezone="America/New_York", vat_rate=Decimal("10"))
    us1 = make_charger(world, gotham, ocpp_id="US-1", name="Wayne Tower")
    us2 = make_charger(world, gotham, ocpp_id="US-2", name="Docks")
    make_tariff(world, gotham, name="Standard", price_per_kwh="0.50")
    # 23:30 on 10 March in New York is already 11 March in UTC: the local date decides.
    late = make_transaction(world, us1, started_at=_at(10, 23, 30), stopped_at=_at(11, 0, 30), energy_wh=4000,
                            meter_values=[(_at(11, 0), 2000), (_at(11, 0, 30), 4000)], stop_reason="EVDisconnected")
    make_transaction(world, us2, started_at=_at(11, 8), stopped_at=_at(11, 9), energy_wh=2000)
    noon = make_transaction(world, us1, started_at=_at(12, 12), stopped_at=_at(12, 13), energy_wh=6000)
    make_transaction(world, us1, started_at=_at(13, 0, 30), stopped_at=_at(13, 1), energy_wh=1000)  # after the range
    make_transaction(world, us1, started_at=_at(9, 23, 59), stopped_at=_at(10, 1), energy_wh=1000)  # before it

    log_in(page, make_user(world, role="admin").email)
    page.goto("/transactions")
    page.fill("#date_from", "2026-03-10")
    page.fill("#date_to", "2026-03-12")
    expect(page.locator(".tx-row")).to_have_count(3)
    page.fill("#charger", "us-1")
    expect(page.locator(".tx-row")).to_have_count(2)
    expect(page.locator("#transactions-table")).to_contain_text("$2.20")  # 4 kWh × 0.50 + 10 % VAT
    expect(page.locator("#totals")).to_contain_text("$5.50")              # 2.20 + 3.30, in USD only
    expect(page.locator(".breakdown-row")).to_have_count(1)
    expect(page.locator(".breakdown-row")).to_contain_text("10.00")       # kWh at US-1 in the range
    screenshot(page, "transactions")

    with page.expect_download() as download:
        page.locator("#download-csv").click()
    with open(download.value.path(), newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["session_id"]) for r in rows] == [noon.id, late.id]
    assert [r["gross"] for r in rows] == ["3.30", "2.20"]
    assert {r["charger"] for r in rows} == {"US-1"}
    assert rows[1]["started_at"].startswith("2026-03-10T23:30:00-04:00")

    page.locator(".tx-row", has_text=f"#{late.id}").locator(".tx-link").click()
    expect(page).to_have_url(on(f"/transactions/{late.id}"))
    expect(page.locator("#session-title")).to_contain_text(str(late.id))
    lines = page.locator("#price-lines")
    expect(lines).to_contain_text("Energy")
    expect(lines).to_contain_text("4 kWh × 0.5")
    expect(lines.locator(".price-line", has_text="VAT")).to_contain_text("$0.20")
    expect(lines.locator(".price-line", has_text="Total paid")).to_contain_text("$2.20")
    expect(page.locator("#split-lines")).to_contain_text("Net to CPO")
    expect(page.locator("#stop-reason")).to_have_text("Car unplugged")
    expect(page.locator("#meter-curve .recharts-surface").first).to_be_visible()
    expect(page.locator("#raw-ocpp")).to_be_visible()  # an admin may read raw OCPP frames
    screenshot(page, "transaction_detail")


def test_a_session_of_another_organization_is_not_found_and_its_raw_frames_stay_hidden_from_a_cpo(world, page):
    mine, theirs = make_org(world, slug="mine"), make_org(world, slug="theirs")
    make_tariff(world, mine, price_per_kwh="0.30")
    own = make_transaction(world, make_charger(world, mine), started_at=_at(3, 10), stopped_at=_at(3, 11),
                           energy_wh=1000)
    other = make_transaction(world, make_charger(world, theirs), started_at=_at(3, 10), stopped_at=_at(3, 11),
                             energy_wh=1000)
    log_in(page, make_user(world, role="cpo", orgs=[mine]).email)

    page.goto(f"/transactions/{own.id}")
    expect(page.locator("#price-breakdown")).to_be_visible()
    expect(page.locator("#raw-ocpp")).to_have_count(0)

    page.goto(f"/transactions/{other.id}")
    expect(page.locator("#session-not-found")).to_be_visible()
    expect(page.locator("#session-title")).to_have_count(0)


def test_the_per_charger_breakdown_pages_and_the_list_and_totals_stay(world, page):
    gotham = make_org(world, slug="gotham", currency="USD", timezone="America/New_York")
    make_tariff(world, gotham, name="Standard", price_per_kwh="1.00")
    # 22 chargers, US-01 earning most: a page of 20, then the two that earned least.
    for n in range(1, 23):
        charger = make_charger(world, gotham, ocpp_id=f"US-{n:02d}")
        make_transaction(world, charger, started_at=_at(10, 9), stopped_at=_at(10, 10), energy_wh=(30 - n) * 1000)

    log_in(page, make_user(world, role="admin").email)
    page.goto("/transactions")
    page.fill("#date_from", "2026-03-10")
    page.fill("#date_to", "2026-03-10")
    rows = page.locator(".breakdown-row")
    expect(rows).to_have_count(20)
    expect(rows.first).to_contain_text("US-01")
    pager = page.locator("#breakdown-pager")
    expect(pager).to_contain_text("1–20 of 22 chargers")
    totals = page.locator("#totals").inner_text()
    pager.get_by_role("button", name="Next page").click()
    expect(pager).to_contain_text("21–22 of 22 chargers")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("US-21")
    expect(rows.last).to_contain_text("US-22")
    assert page.locator("#totals").inner_text() == totals
    expect(page.locator(".tx-row")).to_have_count(22)
    pager.get_by_role("button", name="Previous page").click()
    expect(rows).to_have_count(20)
