"""Finances read roll-ups by local stop day for whole days (models/stats.py); the figures per charger and
per organization always equal a direct sum over the sessions stopped in each period.

Sessions stop on the edges: each period's start (to the microsecond), local midnights in a UTC+05:30
and a UTC-05:00 organization, exactly now and just after; one starts long before its window, one is
not priced, and a charger moves from one location owner to another.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from core.clock import clock
from services.access.scope import scope_for
from services.billing import finance
from tests.utils.factories import (
    make_charger,
    make_location_owner,
    make_org,
    make_priced_session,
    make_user,
)

NOW = datetime(2026, 11, 18, 4, 30, tzinfo=UTC)  # 10:00 in Colombo, 23:30 the day before in New York

DIRECT = """
    SELECT {key}, s.currency, count(*), coalesce(sum(s.energy_wh), 0), coalesce(sum(s.amount_gross), 0)
    FROM charging_session s
    WHERE s.status = 'completed' AND s.stopped_at >= :since AND s.stopped_at <= :now
      AND (CAST(:orgs AS int[]) IS NULL OR s.organization_id = ANY(:orgs))
      AND (CAST(:owner AS int) IS NULL OR s.location_owner_id = :owner)
    GROUP BY {key}, s.currency
"""


def _direct(session, scope, key: str) -> dict:
    orgs = None if scope.org_ids is None else sorted(scope.org_ids)
    out: dict = {}
    for p, d in finance.PERIODS.items():
        for *k, cur, n, wh, rev in session.execute(text(DIRECT.format(key=key)), dict(
                since=NOW - d, now=NOW, orgs=orgs, owner=scope.location_owner_id)):
            kwh = (Decimal(wh) / 1000).quantize(Decimal("0.001"))
            out[(tuple(k) if len(k) > 1 else k[0], cur, p)] = finance.Figures(Decimal(rev), kwh, n)
    return out


def _flat(figures: dict) -> dict:
    return {k: f for k, f in figures.items() if f.sessions}


def assert_matches_sessions(session, scope) -> None:
    rows = finance.revenue_by_charger(session=session, scope=scope)
    # One row per charger and the organization that earned on it, including chargers since moved away.
    assert _flat({((r.charger_id, r.organization_id), r.currency, p): f for r in rows
                  for p, f in r.periods.items()}) == _direct(session, scope, "s.charger_id, s.organization_id"), \
        scope.role
    assert finance.count_chargers(session=session, scope=scope) == len({(r.charger_id, r.organization_id)
                                                                         for r in rows})
    paged = [r for offset in range(0, len(rows), 2)
             for r in finance.revenue_by_charger(session=session, scope=scope, limit=2, offset=offset)]
    assert paged == rows
    totals = finance.organization_totals(session=session, scope=scope)
    assert _flat({(t.organization_id, cur, p): f for t in totals for cur, periods in t.own.items()
                  for p, f in periods.items()}) == _direct(session, scope, "s.organization_id"), scope.role
    session.commit()


def _local(zone: str, *args) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(zone)).astimezone(UTC)


@pytest.fixture
def world(session):
    clock.set(NOW - timedelta(days=500))
    colombo = make_org(session, slug="colombo", currency="LKR", timezone="Asia/Colombo")
    new_york = make_org(session, slug="new-york", currency="USD", timezone="America/New_York")
    mall, hotel = make_location_owner(session, colombo, "Mall"), make_location_owner(session, colombo, "Hotel")
    a = make_charger(session, colombo, ocpp_id="C-A", location_owner=mall)
    b = make_charger(session, colombo, ocpp_id="C-B")
    n = make_charger(session, new_york, ocpp_id="N-A")
    made = []

    def stop(charger, at, energy="3.00", **kw):
        made.append(make_priced_session(session, charger, stopped_at=at, energy=energy, energy_wh=3000, **kw))

    for i in range(40):  # over 400 days, every hour of the day
        stop((a, b, n)[i % 3], NOW - timedelta(hours=1 + i * 241), energy=f"{1 + i % 7}.00")
    for d in finance.PERIODS.values():  # each period's first microsecond, and the one before it
        stop(a, NOW - d)
        stop(n, NOW - d - timedelta(microseconds=1))
        for zone, charger in (("Asia/Colombo", b), ("America/New_York", n)):  # the first whole local day
            day = (NOW - d).astimezone(ZoneInfo(zone)).date() + timedelta(days=1)
            stop(charger, _local(zone, day.year, day.month, day.day) - timedelta(minutes=1))
            stop(charger, _local(zone, day.year, day.month, day.day))
    stop(a, _local("Asia/Colombo", 2026, 11, 18, 0, 0))   # today's first minute in Colombo
    stop(b, NOW)                                           # exactly now: in every period
    stop(b, NOW + timedelta(microseconds=1))               # just after: in none
    stop(n, NOW - timedelta(days=2), priced=False)         # stopped, not priced yet
    long = make_priced_session(session, b, stopped_at=NOW - timedelta(days=6), energy="9.00", energy_wh=9000,
                               commit=False)
    long.started_at = NOW - timedelta(days=40)  # started before the 30-day window, stopped inside it
    session.commit()
    # The charger passes to another owner: what Mall earned stays Mall's, the new sessions are Hotel's.
    a.location_owner_id = hotel.id
    session.add(a)
    session.commit()
    stop(a, NOW - timedelta(hours=5))
    clock.set(NOW)
    return dict(colombo=colombo, new_york=new_york, mall=mall, hotel=hotel, a=a, b=b, n=n, made=made)


def _scopes(session, world):
    return [scope_for(session, make_user(session, role="accounts")),
            scope_for(session, make_user(session, role="cpo", orgs=[world["colombo"]])),
            scope_for(session, make_user(session, role="location_owner", location_owner=world["mall"])),
            scope_for(session, make_user(session, role="location_owner", location_owner=world["hotel"]))]


def test_figures_per_charger_and_organization_equal_a_direct_sum_for_every_role(session, world):
    for scope in _scopes(session, world):
        assert_matches_sessions(session, scope)


def test_the_figures_follow_repricing_deletes_pricing_done_later_and_a_rebuild(session, world):
    made = world["made"]
    session.execute(text("UPDATE charging_session SET amount_gross = 1234.5 WHERE id = :id"), {"id": made[3].id})
    session.execute(text("DELETE FROM charging_session WHERE id = :id"), {"id": made[7].id})
    session.execute(text("UPDATE charging_session SET priced_at = stopped_at, amount_gross = 2, amount_net_cpo = 1 "
                         "WHERE priced_at IS NULL"))
    session.commit()
    for scope in _scopes(session, world):
        assert_matches_sessions(session, scope)

    # Rebuilt from the sessions (after a bulk load or a timezone change), they still agree.
    session.execute(text("SELECT rebuild_session_stats()"))
    session.commit()
    for scope in _scopes(session, world):
        assert_matches_sessions(session, scope)


def test_totals_per_currency_add_the_organizations_own_figures(session, world):
    admin = _scopes(session, world)[0]
    cards = {}
    for c in finance.currency_figures(finance.organization_totals(session=session, scope=admin)):
        cards[c.currency] = cards.get(c.currency, 0) + c.periods["365d"].sessions
    rows = finance.revenue_by_charger(session=session, scope=admin)
    assert cards == {cur: sum(r.periods["365d"].sessions for r in rows if r.currency == cur)
                     for cur in {r.currency for r in rows}}
