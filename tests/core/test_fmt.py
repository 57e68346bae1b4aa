"""The one formatting module: times, days, energy, rates, durations and counts, and one spelling for missing."""
from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from core.fmt import (
    MISSING,
    chart_label,
    clock,
    count,
    day,
    duration,
    kwh,
    page_range,
    pages,
    percent,
    period,
    plain,
    when,
)

HEARTBEAT = datetime(2026, 11, 21, 5, 35, 9, tzinfo=UTC)


def test_a_moment_reads_in_the_given_timezone_with_its_abbreviation():
    assert when(HEARTBEAT, "Asia/Colombo") == "2026-11-21 11:05 +0530"
    assert when(HEARTBEAT, "Europe/Berlin") == "2026-11-21 06:35 CET"
    assert when(datetime(2026, 7, 1, 5, 35, tzinfo=UTC), "Europe/Berlin") == "2026-07-01 07:35 CEST"
    assert when(HEARTBEAT, "America/New_York") == "2026-11-21 00:35 EST"  # the day before, locally
    assert when(HEARTBEAT) == "2026-11-21 05:35 UTC"


def test_an_unknown_timezone_reads_as_utc_rather_than_failing():
    assert when(HEARTBEAT, "Mars/Olympus") == "2026-11-21 05:35 UTC"
    assert when(HEARTBEAT, None) == "2026-11-21 05:35 UTC"


def test_time_of_day_for_charts_and_frames_is_local():
    assert clock(HEARTBEAT, "Asia/Colombo") == "11:05"
    assert clock(HEARTBEAT, "Asia/Colombo", seconds=True) == "11:05:09"


def test_every_missing_value_is_spelled_the_same():
    assert MISSING == "—"
    assert {when(None, "Asia/Colombo"), clock(None), day(None), kwh(None), percent(None), plain(None),
            duration(None)} == {MISSING}


def test_days_and_billing_periods_read_as_people_write_them():
    assert day(date(2026, 10, 1)) == "1 Oct 2026"
    assert period(date(2026, 10, 1), date(2026, 10, 31)) == "1–31 Oct 2026"
    assert period(date(2026, 10, 1), date(2026, 12, 31)) == "1 Oct – 31 Dec 2026"
    assert period(date(2025, 12, 15), date(2026, 1, 14)) == "15 Dec 2025 – 14 Jan 2026"
    assert chart_label(date(2026, 3, 2)) == "02 Mar"
    assert chart_label(datetime(2026, 3, 2, 14), hourly=True) == "02 Mar 14:00"


def test_energy_has_separators_the_asked_precision_and_the_unit_unless_the_column_names_it():
    assert kwh(Decimal("1234.5")) == "1,234.50 kWh"
    assert kwh(Decimal("1234.5678"), 3) == "1,234.568 kWh"
    assert kwh(Decimal("1234.5"), 0) == "1,234 kWh"  # half to even, as Decimal rounds
    assert kwh(Decimal("10"), unit=False) == "10.00"
    assert kwh(2.25, 1) == "2.2 kWh"


def test_rates_and_plain_decimals_drop_trailing_zeros():
    assert percent(Decimal("19.000")) == "19 %"
    assert percent("2.50") == "2.5 %"
    assert plain(Decimal("0.5000")) == "0.5"
    assert plain(Decimal("100")) == "100"


def test_durations_and_counts():
    assert duration(59) == "1 min"
    assert duration(3 * 3600 + 5 * 60) == "3 h 05 min"
    assert count(1, "session") == "1 session"
    assert count(1234, "session") == "1,234 sessions"


def test_page_range_says_which_rows_of_how_many_a_table_shows():
    assert pages(0, 20) == 1 and pages(41, 20) == 3
    assert page_range(0, 1, 20, "sessions", "No sessions") == "No sessions"
    assert page_range(1234, 2, 20, "sessions", "No sessions") == "21–40 of 1,234 sessions"
    assert page_range(45, 3, 20, "", "No chargers") == "41–45 of 45"
