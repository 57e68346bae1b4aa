"""Revenue per charger for the four periods, totals per organization and roll-ups, inside the user's scope."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from core.clock import clock
from services.access.permissions import PermissionDenied
from services.access.scope import scope_for
from services.billing import finance
from tests.utils.factories import (
    make_charger,
    make_location_owner,
    make_operator,
    make_org,
    make_priced_session,
    make_user,
)

NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)


@pytest.fixture
def network(session):
    clock.set(NOW - timedelta(days=500))
    op = make_operator(session)
    parent = make_org(session, slug="parent", vat_rate=Decimal("0"))
    sub = make_org(session, slug="sub", parent=parent)
    usd = make_org(session, slug="dollar", currency="USD", timezone="America/New_York")
    owner = make_location_owner(session, parent, "Mall")
    p1 = make_charger(session, parent, ocpp_id="P1", location_owner=owner)
    p2 = make_charger(session, parent, ocpp_id="P2")
    s1 = make_charger(session, sub, ocpp_id="S1")
    u1 = make_charger(session, usd, ocpp_id="U1")
    ago = {"1h": timedelta(hours=1), "3d": timedelta(days=3), "20d": timedelta(days=20), "200d": timedelta(days=200),
           "400d": timedelta(days=400)}
    for key, energy in (("1h", "1.00"), ("3d", "2.00"), ("20d", "4.00"), ("200d", "8.00"), ("400d", "16.00")):
        make_priced_session(session, p1, stopped_at=NOW - ago[key], energy=energy, energy_wh=1000)
    make_priced_session(session, s1, stopped_at=NOW - ago["3d"], energy="10.00", energy_wh=5500)
    make_priced_session(session, u1, stopped_at=NOW - ago["1h"], energy="7.00", energy_wh=2000)
    clock.set(NOW)
    return dict(op=op, parent=parent, sub=sub, usd=usd, owner=owner, p2=p2)


def by_charger(rows):
    return {(r.ocpp_id, r.currency): r for r in rows}


def test_revenue_kwh_and_sessions_per_charger_for_the_four_periods(session, network):
    admin = scope_for(session, make_user(session, role="accounts"))
    rows = by_charger(finance.revenue_by_charger(session=session, scope=admin))
    p1 = rows[("P1", "EUR")].periods
    assert p1["24h"] == finance.Figures(Decimal("1.00"), Decimal("1.000"), 1)
    assert p1["7d"] == finance.Figures(Decimal("3.00"), Decimal("2.000"), 2)
    assert p1["30d"] == finance.Figures(Decimal("7.00"), Decimal("3.000"), 3)
    assert p1["365d"] == finance.Figures(Decimal("15.00"), Decimal("4.000"), 4)  # the 400-day-old one is out
    # A charger without sessions is listed with zeros, in its organization's currency.
    assert rows[("P2", "EUR")].periods["365d"] == finance.Figures()
    assert rows[("U1", "USD")].periods["24h"].revenue == Decimal("7.00")


def test_totals_roll_up_the_tree_and_never_add_different_currencies(session, network):
    admin = scope_for(session, make_user(session, role="accounts"))
    totals = {t.organization: t for t in finance.organization_totals(session=session, scope=admin)}
    assert totals["Parent"].own["EUR"]["7d"].revenue == Decimal("3.00")
    assert totals["Parent"].rollup["EUR"]["7d"] == finance.Figures(Decimal("13.00"), Decimal("7.500"), 3)
    operator = totals["Operator"]
    assert set(operator.rollup) == {"EUR", "USD"}  # kept apart, side by side
    assert operator.rollup["EUR"]["365d"].revenue == Decimal("25.00")
    assert operator.rollup["USD"]["365d"].revenue == Decimal("7.00")
    assert operator.own["USD"]["365d"] == finance.Figures()  # the operator has no chargers of its own


def test_a_charger_whose_organization_changed_currency_gets_one_row_per_currency(session, network):
    p2 = network["p2"]
    make_priced_session(session, p2, stopped_at=NOW - timedelta(hours=2), energy="5.00", currency="GBP")
    make_priced_session(session, p2, stopped_at=NOW - timedelta(hours=3), energy="6.00")
    admin = scope_for(session, make_user(session, role="accounts"))
    rows = by_charger(finance.revenue_by_charger(session=session, scope=admin))
    assert rows[("P2", "GBP")].periods["24h"].revenue == Decimal("5.00")
    assert rows[("P2", "EUR")].periods["24h"].revenue == Decimal("6.00")


def test_figures_stay_inside_the_users_scope(session, network):
    cpo = scope_for(session, make_user(session, role="cpo", orgs=[network["sub"]]))
    assert {r.ocpp_id for r in finance.revenue_by_charger(session=session, scope=cpo)} == {"S1"}
    assert [t.organization for t in finance.organization_totals(session=session, scope=cpo)] == ["Sub"]
    owner = scope_for(session, make_user(session, role="location_owner", location_owner=network["owner"]))
    assert {r.ocpp_id for r in finance.revenue_by_charger(session=session, scope=owner)} == {"P1"}
    support = scope_for(session, make_user(session, role="customer_support", orgs=[network["parent"]]))
    with pytest.raises(PermissionDenied):
        finance.revenue_by_charger(session=session, scope=support)


def test_search_keeps_the_chargers_whose_id_name_or_organization_matches_and_wildcards_are_plain_text(
        session, network):
    admin = scope_for(session, make_user(session, role="accounts"))
    assert {r.ocpp_id for r in finance.revenue_by_charger(session=session, scope=admin, search="p1")} == {"P1"}
    assert {r.ocpp_id for r in finance.revenue_by_charger(session=session, scope=admin, search="dollar")} == {"U1"}
    assert finance.revenue_by_charger(session=session, scope=admin, search="%") == []
    cpo = scope_for(session, make_user(session, role="cpo", orgs=[network["sub"]]))
    assert finance.revenue_by_charger(session=session, scope=cpo, search="P") == []  # never outside the scope


def test_a_page_of_chargers_in_order_with_the_count_for_the_pager(session, network):
    admin = scope_for(session, make_user(session, role="accounts"))
    everyone = finance.revenue_by_charger(session=session, scope=admin)
    first = finance.revenue_by_charger(session=session, scope=admin, limit=2, offset=0)
    second = finance.revenue_by_charger(session=session, scope=admin, limit=2, offset=2)
    assert [r.ocpp_id for r in first + second] == [r.ocpp_id for r in everyone] == ["U1", "P1", "P2", "S1"]
    assert second[1].periods["7d"] == everyone[3].periods["7d"]
    assert finance.count_chargers(session=session, scope=admin) == 4
    assert finance.count_chargers(session=session, scope=admin, search="p") == 2
    owner = scope_for(session, make_user(session, role="location_owner", location_owner=network["owner"]))
    assert finance.count_chargers(session=session, scope=owner) == 1


def test_a_location_owner_sees_its_commission_per_charger_and_period_under_its_contract(session):
    """Issue 14: a location owner's Finances show what it earned (its contract's share of each session), per charger
    and period; sessions on a charger after it moved to another owner are that owner's, never its own."""
    from tests.utils.factories import make_contract, make_tariff, make_transaction

    clock.set(NOW - timedelta(days=60))
    org = make_org(session, slug="lk-commission", vat_rate=Decimal("0"), gateway_fee_percent=Decimal("0"),
                   gateway_fee_fixed=Decimal("0"))
    mall, hotel = make_location_owner(session, org, "Mall"), make_location_owner(session, org, "Hotel")
    a = make_charger(session, org, ocpp_id="A", location_owner=mall)
    b = make_charger(session, org, ocpp_id="B", location_owner=mall)
    make_tariff(session, org, price_per_kwh="1.00")
    make_contract(session, org, kind="location_owner", location_owner=mall, rate="10", effective_from=NOW - ago(400))
    make_contract(session, org, kind="location_owner", location_owner=hotel, rate="25", effective_from=NOW - ago(400))

    def charge(charger, stopped_at, wh):
        return make_transaction(session, charger, started_at=stopped_at - timedelta(minutes=30), stopped_at=stopped_at,
                                energy_wh=wh)

    # Mall's 10 %: A 10 kWh two hours ago (1.00) and 20 kWh ten days ago (2.00); B 5.55 kWh three days ago (0.555→0.56).
    earned = [charge(a, NOW - timedelta(hours=2), 10_000), charge(a, NOW - ago(10), 20_000),
              charge(b, NOW - ago(3), 5_550)]
    assert [t.amount_location_owner for t in earned] == [Decimal("1.00"), Decimal("2.00"), Decimal("0.56")]
    a.location_owner_id = hotel.id  # A moves to the hotel: from now on its sessions are the hotel's (25 %)
    session.add(a)
    session.commit()
    charge(a, NOW - timedelta(hours=1), 40_000)
    clock.set(NOW)

    mall_scope = scope_for(session, make_user(session, role="location_owner", location_owner=mall))
    rows = by_charger(finance.revenue_by_charger(session=session, scope=mall_scope))
    assert rows[("A", "EUR")].periods["24h"] == finance.Figures(Decimal("10.00"), Decimal("10.000"), 1, Decimal("1.00"))
    assert rows[("A", "EUR")].periods["30d"] == finance.Figures(Decimal("30.00"), Decimal("30.000"), 2, Decimal("3.00"))
    assert rows[("B", "EUR")].periods["7d"] == finance.Figures(Decimal("5.55"), Decimal("5.550"), 1, Decimal("0.56"))
    assert rows[("B", "EUR")].periods["24h"] == finance.Figures()
    totals = {t.organization: t for t in finance.organization_totals(session=session, scope=mall_scope)}
    assert totals["Lk Commission"].own["EUR"]["365d"].commission == Decimal("3.56")
    assert totals["Lk Commission"].own["EUR"]["365d"].revenue == Decimal("35.55")

    hotel_scope = scope_for(session, make_user(session, role="location_owner", location_owner=hotel))
    rows = by_charger(finance.revenue_by_charger(session=session, scope=hotel_scope))
    assert set(rows) == {("A", "EUR")}
    assert rows[("A", "EUR")].periods["365d"] == finance.Figures(Decimal("40.00"), Decimal("40.000"), 1,
                                                                 Decimal("10.00"))

    # The CPO sees the revenue of every session; the commission figure is the owners' view only.
    cpo = scope_for(session, make_user(session, role="cpo", orgs=[org]))
    rows = by_charger(finance.revenue_by_charger(session=session, scope=cpo))
    assert rows[("A", "EUR")].periods["365d"].revenue == Decimal("70.00")


def ago(days: int) -> timedelta:
    return timedelta(days=days)
