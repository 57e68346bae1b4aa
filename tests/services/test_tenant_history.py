"""Charging history stays with whoever earned it (services/access/scope.py, docs/adr/0004-scoping.md).

A charger moves from one location owner to another, or from one organization to another. For every role,
the Dashboard, Transactions (list, count, totals), Finances, the CSV export and the REST API then count
the same sessions and sums for the same period, and each owner sees only what it earned.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from app.api.main import create_api
from core.clock import clock
from core.errors import NotFound
from models import Transaction
from services.access.permissions import Cap
from services.access.scope import scope_for
from services.billing import finance
from services.charging import transactions as tx_svc
from services.network import chargers as charger_svc
from services.network import dashboard
from tests.utils.factories import (
    auth_headers,
    make_charger,
    make_location_owner,
    make_org,
    make_tariff,
    make_transaction,
    make_user,
)

NOW = datetime(2026, 6, 17, 10, 0, tzinfo=UTC)  # a Wednesday; every session below is in June
JUNE = tx_svc.TxFilter(date_from=date(2026, 6, 1), date_to=date(2026, 6, 17))
STAFF = ("admin", "technical", "accounts", "network_manager", "customer_support", "cpo")


@pytest.fixture
def client(session):
    with TestClient(create_api()) as c:
        yield c


@dataclass(frozen=True)
class Seen:
    ids: set[int]
    revenue: Decimal
    energy_kwh: Decimal

    @classmethod
    def of(cls, txs: list[Transaction]) -> Seen:
        return cls({t.id for t in txs}, sum((t.amount_gross for t in txs), Decimal(0)),
                   sum((Decimal(t.energy_wh) / 1000 for t in txs), Decimal(0)))


def _charge(session, charger, day: int, kwh: int, hour: int = 9) -> Transaction:
    start = datetime(2026, 6, day, hour, 0, tzinfo=UTC)
    tx = make_transaction(session, charger, started_at=start, stopped_at=start + timedelta(hours=1),
                          energy_wh=kwh * 1000)
    assert tx.amount_gross > 0
    return tx


def _move(session, charger, **fields) -> None:
    admin = scope_for(session, make_user(session, role="admin"))
    charger_svc.update_charger(session=session, scope=admin, user_id=None, charger_id=charger.id, **fields)
    session.commit()


def _assert_everywhere(session, client, user, expected: Seen) -> None:
    """Every page, export and API route shows `user` exactly the expected sessions and sums for June."""
    scope = scope_for(session, user)
    n = len(expected.ids)

    page = tx_svc.list_transactions(session=session, scope=scope, filters=JUNE, limit=1000)
    assert {r.id for r in page.items} == expected.ids
    assert page.total == n
    assert sum((t.sessions for t in page.totals), 0) == n
    assert sum((t.amount_gross for t in page.totals), Decimal(0)) == expected.revenue
    assert sum((t.energy_kwh for t in page.totals), Decimal(0)) == expected.energy_kwh
    breakdown = tx_svc.charger_breakdown(session=session, scope=scope, filters=JUNE)
    assert sum(b.sessions for b in breakdown) == n
    assert sum((b.revenue for b in breakdown), Decimal(0)) == expected.revenue
    tree = tx_svc.org_tree_totals(session=session, scope=scope, filters=JUNE)
    assert sum(c.sessions for node in tree for c in node.own.values()) == n

    rows = list(csv.DictReader(io.StringIO("".join(tx_svc.iter_csv(session=session, scope=scope, filters=JUNE)))))
    assert {int(r["session_id"]) for r in rows} == expected.ids
    assert sum((Decimal(r["gross"]) for r in rows), Decimal(0)) == expected.revenue

    params = {"date_from": "2026-06-01", "date_to": "2026-06-17", "limit": 1000}
    api = client.get("/api/v1/transactions", headers=auth_headers(user), params=params)
    assert api.status_code == 200, api.text
    assert {i["id"] for i in api.json()["items"]} == expected.ids and api.json()["total"] == n
    exported = client.get("/api/v1/transactions.csv", headers=auth_headers(user), params=params)
    assert exported.status_code == 200
    assert {int(r["session_id"]) for r in csv.DictReader(io.StringIO(exported.text))} == expected.ids

    summary = dashboard.summary(session=session, scope=scope)
    month = [c.periods["month"] for c in summary.currencies]
    assert sum(m.sessions for m in month) == n
    assert sum((m.revenue for m in month), Decimal(0)) == expected.revenue
    assert sum((m.energy_kwh for m in month), Decimal(0)) == expected.energy_kwh
    assert sum(p.sessions for p in summary.days) == n

    if scope.can(Cap.VIEW_FINANCE):
        by_charger = finance.revenue_by_charger(session=session, scope=scope)
        assert sum(r.periods["30d"].sessions for r in by_charger) == n
        assert sum((r.periods["30d"].revenue for r in by_charger), Decimal(0)) == expected.revenue
        assert finance.count_chargers(session=session, scope=scope) == len(by_charger)
        paged = [r for offset in range(0, len(by_charger), 2) for r in finance.revenue_by_charger(
            session=session, scope=scope, limit=2, offset=offset)]
        assert paged == by_charger
        totals = finance.organization_totals(session=session, scope=scope, charger_rows=by_charger)
        assert sum(f["30d"].sessions for t in totals for f in t.own.values()) == n
        revenue = client.get("/api/v1/finance/revenue", headers=auth_headers(user)).json()
        assert sum(r["periods"]["30d"]["sessions"] for r in revenue["chargers"]) == n
        assert sum((Decimal(r["periods"]["30d"]["revenue"]) for r in revenue["chargers"]),
                   Decimal(0)) == expected.revenue


# ------------------------------------------------------------------------------- between location owners

@pytest.fixture
def owners(session):
    """Owner 1 earns two sessions on the mall charger; it passes to owner 2, which earns one. A charger
    with no owner earns one."""
    clock.set(NOW)
    org = make_org(session, slug="alpha")
    make_tariff(session, org, price_per_kwh="0.50")
    one, two = make_location_owner(session, org, "Owner 1"), make_location_owner(session, org, "Owner 2")
    mall = make_charger(session, org, ocpp_id="MALL", location_owner=one)
    street = make_charger(session, org, ocpp_id="STREET")
    earned_1 = [_charge(session, mall, 10, 10), _charge(session, mall, 11, 20)]
    _move(session, mall, location_owner_id=two.id)
    earned_2 = [_charge(session, mall, 14, 4)]
    nobody = [_charge(session, street, 13, 6)]
    return dict(org=org, one=one, two=two, mall=mall, street=street, earned_1=earned_1, earned_2=earned_2,
                nobody=nobody)


@pytest.mark.parametrize("role", STAFF)
def test_staff_see_every_session_of_their_organization_the_same_everywhere_after_an_owner_change(
        session, client, owners, role):
    user = make_user(session, role=role, orgs=[owners["org"]])
    _assert_everywhere(session, client, user,
                       Seen.of(owners["earned_1"] + owners["earned_2"] + owners["nobody"]))


@pytest.mark.parametrize("which", ["one", "two"])
def test_each_location_owner_sees_exactly_what_it_earned_the_same_everywhere(session, client, owners, which):
    user = make_user(session, role="location_owner", location_owner=owners[which])
    _assert_everywhere(session, client, user, Seen.of(owners[f"earned_{'1' if which == 'one' else '2'}"]))


def test_the_previous_owner_keeps_its_revenue_on_finances_and_the_dashboard(session, owners):
    # Issue 17: owner 1 saw the session in Transactions but not on Finances or the Dashboard.
    scope = scope_for(session, make_user(session, role="location_owner", location_owner=owners["one"]))
    earned = Seen.of(owners["earned_1"])
    rows = finance.revenue_by_charger(session=session, scope=scope)
    assert [(r.ocpp_id, r.periods["30d"].sessions, r.periods["30d"].revenue) for r in rows] == [
        ("MALL", 2, earned.revenue)]
    assert dashboard.summary(session=session, scope=scope).currencies[0].periods["month"].revenue == earned.revenue
    # The Transactions page's charger filter still finds the charger it earned on.
    mall = tx_svc.resolve_charger(session=session, scope=scope, ocpp_id="mall")
    page = tx_svc.list_transactions(session=session, scope=scope, filters=tx_svc.TxFilter(charger_id=mall))
    assert {r.id for r in page.items} == earned.ids


def test_the_new_owner_sees_none_of_its_predecessors_revenue(session, client, owners):
    # Issue 17: owner 2 saw owner 1's revenue on Finances.
    user = make_user(session, role="location_owner", location_owner=owners["two"])
    scope = scope_for(session, user)
    rows = finance.revenue_by_charger(session=session, scope=scope)
    assert [(r.ocpp_id, r.periods["30d"].sessions) for r in rows] == [("MALL", 1)]
    detail = charger_svc.charger_detail(session=session, scope=scope, charger_id=owners["mall"].id)
    assert [s.id for s in detail.transactions] == [t.id for t in owners["earned_2"]]
    earlier = owners["earned_1"][0].id
    with pytest.raises(NotFound):
        tx_svc.get_transaction(session=session, scope=scope, transaction_id=earlier)
    assert client.get(f"/api/v1/transactions/{earlier}", headers=auth_headers(user)).status_code == 404


def test_a_session_with_no_owner_at_start_stays_with_the_organization_when_an_owner_takes_the_charger(
        session, client, owners):
    _move(session, owners["street"], location_owner_id=owners["one"].id)
    user = make_user(session, role="location_owner", location_owner=owners["one"])
    _assert_everywhere(session, client, user, Seen.of(owners["earned_1"]))
    cpo = make_user(session, role="cpo", orgs=[owners["org"]])
    _assert_everywhere(session, client, cpo, Seen.of(owners["earned_1"] + owners["earned_2"] + owners["nobody"]))


def test_a_location_owner_holds_revenue_but_no_invoices(session, client, owners):
    user = make_user(session, role="location_owner", location_owner=owners["one"])
    headers = auth_headers(user)
    assert client.get("/api/v1/finance/revenue", headers=headers).status_code == 200
    for url in ("/api/v1/invoices", "/api/v1/finance/billing-runs", "/api/v1/finance/billing-schedule"):
        assert client.get(url, headers=headers).status_code == 403, url
    cpo = make_user(session, role="cpo", orgs=[owners["org"]])
    assert client.get("/api/v1/invoices", headers=auth_headers(cpo)).status_code == 200


# ------------------------------------------------------------------------------- between organizations

@pytest.fixture
def moved(session):
    """The charger earns two sessions for Alpha (EUR), then moves to Bravo (LKR) and earns one there."""
    clock.set(NOW)
    alpha = make_org(session, slug="alpha", currency="EUR", timezone="Europe/Berlin")
    bravo = make_org(session, slug="bravo", currency="LKR", timezone="Asia/Colombo")
    make_tariff(session, alpha, price_per_kwh="0.50")
    make_tariff(session, bravo, price_per_kwh="100")
    charger = make_charger(session, alpha, ocpp_id="ROAMER")
    for_alpha = [_charge(session, charger, 10, 10), _charge(session, charger, 15, 20)]
    _move(session, charger, organization_id=bravo.id)
    for_bravo = [_charge(session, charger, 15, 5, hour=14)]  # the same local day as Alpha's last one
    return dict(alpha=alpha, bravo=bravo, charger=charger, for_alpha=for_alpha, for_bravo=for_bravo)


@pytest.mark.parametrize("org", ["alpha", "bravo"])
@pytest.mark.parametrize("role", ["network_manager", "customer_support", "cpo"])
def test_a_charger_moved_between_organizations_keeps_its_history_with_the_one_that_earned_it(
        session, client, moved, org, role):
    user = make_user(session, role=role, orgs=[moved[org]])
    _assert_everywhere(session, client, user, Seen.of(moved[f"for_{org}"]))


@pytest.mark.parametrize("role", ["admin", "technical", "accounts"])
def test_operator_wide_roles_see_both_organizations_history_of_a_moved_charger(session, client, moved, role):
    user = make_user(session, role=role)
    _assert_everywhere(session, client, user, Seen.of(moved["for_alpha"] + moved["for_bravo"]))
    rows = finance.revenue_by_charger(session=session, scope=scope_for(session, user))
    assert [(r.ocpp_id, r.organization, r.currency, r.periods["30d"].sessions) for r in rows] == [
        ("ROAMER", "Alpha", "EUR", 2), ("ROAMER", "Bravo", "LKR", 1)]


def test_the_performance_table_counts_a_moved_charger_for_its_new_organization_only(session, moved):
    scope = scope_for(session, make_user(session, role="cpo", orgs=[moved["bravo"]]))
    for period in ("24h", "7d", "30d"):
        rows, _ = dashboard.performance(session=session, scope=scope, period=period)
        assert [(r.ocpp_id, r.sessions) for r in rows] == [("ROAMER", 0 if period == "24h" else 1)], period


def test_roll_ups_keep_two_organizations_apart_on_one_charger_day_and_currency(session, client):
    # The roll-up rows are keyed by organization as well: the same charger, local day and currency under
    # two organizations are two rows, not one row credited to whichever organization came first.
    clock.set(NOW)
    alpha, bravo = make_org(session, slug="alpha"), make_org(session, slug="bravo")
    make_tariff(session, alpha, price_per_kwh="0.50")
    make_tariff(session, bravo, price_per_kwh="0.70")
    charger = make_charger(session, alpha, ocpp_id="ROAMER")
    for_alpha = [_charge(session, charger, 15, 10)]
    _move(session, charger, organization_id=bravo.id)
    for_bravo = [_charge(session, charger, 15, 5, hour=14)]
    for org, earned in ((alpha, for_alpha), (bravo, for_bravo)):
        user = make_user(session, role="cpo", orgs=[org])
        _assert_everywhere(session, client, user, Seen.of(earned))
    scope = scope_for(session, make_user(session, role="cpo", orgs=[bravo]))
    rows, _ = dashboard.performance(session=session, scope=scope, period="7d")
    assert [(r.ocpp_id, r.sessions, r.revenue) for r in rows] == [("ROAMER", 1, Seen.of(for_bravo).revenue)]
    admin = scope_for(session, make_user(session, role="admin"))
    rows, _ = dashboard.performance(session=session, scope=admin, period="7d")
    assert [(r.ocpp_id, r.sessions) for r in rows] == [("ROAMER", 2)]
