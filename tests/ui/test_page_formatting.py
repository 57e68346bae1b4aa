"""What the transaction pages compute from service data, without a browser."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from services.charging.transactions import AnalyticsPoint
from state.transaction_detail import price_lines
from state.transactions import chart_rows


def test_the_chart_shows_every_day_of_the_range_with_zeros_and_revenue_per_currency():
    points = [AnalyticsPoint(datetime(2026, 3, 2), "EUR", 2, Decimal("10.5"), Decimal("4.20")),
              AnalyticsPoint(datetime(2026, 3, 2), "USD", 1, Decimal("1"), Decimal("0.50")),
              AnalyticsPoint(datetime(2026, 3, 4), "EUR", 1, Decimal("3"), Decimal("1.20"))]
    rows, currencies = chart_rows(points, granularity="day", start=datetime(2026, 3, 1, 15),
                                  end=datetime(2026, 3, 5, 9))
    assert currencies == ["EUR", "USD"]
    assert [r["label"] for r in rows] == ["01 Mar", "02 Mar", "03 Mar", "04 Mar", "05 Mar"]
    assert rows[1] == {"label": "02 Mar", "kwh": 11.5, "sessions": 3, "rev_EUR": 4.2, "rev_USD": 0.5}
    assert rows[2]["kwh"] == 0 and rows[2]["rev_EUR"] == 0


def test_the_breakdown_explains_each_line_with_the_rates_used():
    amounts = {k: Decimal(v) for k, v in dict(energy="2.00", time="0", session_fee="0", idle="0", subtotal="2.00",
                                              vat="0.20", ssc="0", gross="2.20", gateway="0.10", platform="0.20",
                                              location_owner="0", net_cpo="1.70").items()}
    breakdown = {"tariff": {"price_per_kwh": "0.5000", "vat_inclusive": False},
                 "energy": {"kwh": "4", "bands": [{"band": "18:00-22:00", "kwh": "1", "price_per_kwh": "0.6"}]},
                 "rates": {"vat": "10.000", "ssc": "0", "gateway_percent": "2", "gateway_fixed": "0.06",
                           "platform": "10", "location_owner": "0"}}
    lines, split = price_lines(amounts, breakdown, "USD")
    by_key = {line["key"]: line for line in lines}
    assert by_key["energy"]["note"] == "4 kWh × 0.5 base; 1 time-of-day band"
    assert by_key["vat"]["note"] == "10 %" and by_key["vat"]["amount"] == "$0.20"
    assert [s["key"] for s in split] == ["gross", "vat", "ssc", "gateway", "platform", "location_owner", "net_cpo"]
    assert split[-1]["amount"] == "$1.70"
