"""Revenue tiles and the per-charger performance table, built on priced sessions and their daily roll-ups."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text

from core.clock import clock
from core.errors import ValidationError
from services.access.scope import scope_for
from services.network import dashboard
from tests.utils.factories import (
    make_charger,
    make_location_owner,
    make_org,
    make_tariff,
    make_transaction,
    make_user,
)

NOW = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)  # a Wednesday


def _session(session, charger, start: datetime, kwh: int):
    return make_transaction(session, charger, started_at=start, stopped_at=start + timedelta(hours=1),
                            energy_wh=kwh * 1000)


@pytest.fixture
def priced(session):
    """Alpha charges EUR 0.50/kWh in Berlin, Bravo LKR 100/kWh in Colombo."""
    clock.set(NOW)
    a = make_org(session, slug="alpha", currency="EUR", timezone="Europe/Berlin")
    b = make_org(session, slug="bravo", currency="LKR", timezone="Asia/Colombo")
    make_tariff(session, a, price_per_kwh="0.50")
    make_tariff(session, b, price_per_kwh="100")
    return a, b, make_charger(session, a, ocpp_id="A1"), make_charger(session, b, ocpp_id="B1")


def test_revenue_tiles_split_today_week_month_year_per_currency_without_summing_currencies(session, priced):
    a, b, a1, b1 = priced
    _session(session, a1, NOW - timedelta(hours=2), 10)     # today
    _session(session, a1, NOW - timedelta(days=2), 20)      # Monday: this week
    _session(session, a1, NOW - timedelta(days=10), 30)     # this month
    _session(session, a1, NOW - timedelta(days=200), 40)    # this year
    _session(session, a1, NOW - timedelta(days=400), 50)    # last year: not counted
    _session(session, b1, NOW - timedelta(hours=1), 5)
    s = dashboard.summary(session=session, scope=scope_for(session, make_user(session, role="admin")))
    by = {c.currency: c.periods for c in s.currencies}
    assert set(by) == {"EUR", "LKR"}
    assert [by["EUR"][p].revenue for p in dashboard.PERIODS] == [Decimal("5"), Decimal("15"), Decimal("30"),
                                                                  Decimal("50")]
    assert [by["EUR"][p].sessions for p in dashboard.PERIODS] == [1, 2, 3, 4]
    assert by["EUR"]["year"].energy_kwh == Decimal(100)
    assert by["LKR"]["today"].revenue == Decimal("500")
    assert [(o.name, o.currency) for o in s.organizations] == [("Alpha", "EUR"), ("Bravo", "LKR")]
    # The chart has this month's days per currency.
    assert {(p.day.isoformat(), p.currency) for p in s.days} == {
        ("2026-11-08", "EUR"), ("2026-11-16", "EUR"), ("2026-11-18", "EUR"), ("2026-11-18", "LKR")}


def test_today_follows_the_organizations_timezone(session, priced):
    _, _, _, b1 = priced
    # 19:00 UTC on the 17th is already 00:30 on the 18th in Colombo (UTC+5:30): that is "today" there.
    _session(session, b1, datetime(2026, 11, 17, 19, 0, tzinfo=UTC), 1)
    _session(session, b1, datetime(2026, 11, 17, 18, 0, tzinfo=UTC), 2)  # 23:30 on the 17th: yesterday
    s = dashboard.summary(session=session, scope=scope_for(session, make_user(session, role="admin")))
    lkr = next(c for c in s.currencies if c.currency == "LKR")
    assert lkr.periods["today"].sessions == 1 and lkr.periods["today"].revenue == Decimal("100")


def test_cpo_tiles_hold_only_its_organization(session, priced):
    a, b, a1, b1 = priced
    _session(session, a1, NOW - timedelta(hours=2), 10)
    _session(session, b1, NOW - timedelta(hours=2), 10)
    s = dashboard.summary(session=session, scope=scope_for(session, make_user(session, role="cpo", orgs=[a])))
    assert [c.currency for c in s.currencies] == ["EUR"]


def test_location_owner_tiles_and_table_count_only_its_chargers(session, priced):
    a, _, a1, _ = priced
    owner = make_location_owner(session, a, "Mall")
    mine = make_charger(session, a, ocpp_id="MALL-1", location_owner=owner)
    _session(session, mine, NOW - timedelta(hours=2), 8)
    _session(session, a1, NOW - timedelta(hours=2), 10)
    scope = scope_for(session, make_user(session, role="location_owner", location_owner=owner))
    s = dashboard.summary(session=session, scope=scope)
    assert s.currencies[0].periods["today"].revenue == Decimal("4")
    rows, total = dashboard.performance(session=session, scope=scope, period="7d")
    assert [(r.ocpp_id, r.energy_kwh) for r in rows] == [("MALL-1", Decimal(8))] and total == 1


def test_repricing_a_session_replaces_its_amount_in_the_totals(session, priced):
    a, _, a1, _ = priced
    tx = _session(session, a1, NOW - timedelta(hours=2), 10)
    session.execute(text("UPDATE charging_session SET amount_gross = 7 WHERE id = :id"), {"id": tx.id})
    session.commit()
    s = dashboard.summary(session=session, scope=scope_for(session, make_user(session, role="admin")))
    assert s.currencies[0].periods["today"].revenue == Decimal("7")
    assert s.currencies[0].periods["today"].sessions == 1


def test_performance_table_ranks_chargers_over_the_chosen_period_and_lists_idle_ones_last(session, priced):
    a, _, a1, _ = priced
    a2 = make_charger(session, a, ocpp_id="A2")
    make_charger(session, a, ocpp_id="A3")  # never used
    _session(session, a1, NOW - timedelta(hours=3), 5)
    _session(session, a2, NOW - timedelta(days=3), 40)
    scope = scope_for(session, make_user(session, role="cpo", orgs=[a]))
    rows, total = dashboard.performance(session=session, scope=scope, period="24h")
    assert [(r.ocpp_id, r.sessions) for r in rows] == [("A1", 1), ("A2", 0), ("A3", 0)] and total == 3
    rows, _ = dashboard.performance(session=session, scope=scope, period="7d")
    assert [(r.ocpp_id, r.energy_kwh, r.revenue) for r in rows][:2] == [("A2", Decimal(40), Decimal("20")),
                                                                         ("A1", Decimal(5), Decimal("2.5"))]
    rows, _ = dashboard.performance(session=session, scope=scope, period="7d", limit=1, offset=1)
    assert [r.ocpp_id for r in rows] == ["A1"]
    with pytest.raises(ValidationError):
        dashboard.performance(session=session, scope=scope, period="2w")


def test_live_event_filter_lets_through_only_the_scopes_own_chargers(session, priced):
    a, b, a1, b1 = priced
    cpo = scope_for(session, make_user(session, role="cpo", orgs=[a]))
    accept = dashboard.event_filter(session=session, scope=cpo)
    assert accept({"type": "charger_status", "charger_id": a1.id, "organization_id": a.id})
    assert not accept({"type": "charger_status", "charger_id": b1.id, "organization_id": b.id})
    owner = make_location_owner(session, a, "Mall")
    mine = make_charger(session, a, ocpp_id="MALL-1", location_owner=owner)
    lo = scope_for(session, make_user(session, role="location_owner", location_owner=owner))
    accept = dashboard.event_filter(session=session, scope=lo)
    assert accept({"type": "charger_status", "charger_id": mine.id, "organization_id": a.id})
    assert not accept({"type": "charger_status", "charger_id": a1.id, "organization_id": a.id})
