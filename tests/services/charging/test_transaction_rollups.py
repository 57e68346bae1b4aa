"""Transactions read roll-ups by local start day for whole days (models/stats.py); what they show always
equals a direct sum over the sessions, compared in each organization's own timezone.

The sessions sit on the edges that matter: a preset's start, local midnights in a UTC+05:30 and a
UTC-05:00 organization, the ends of a custom month, a session running over midnight, an active and an
unpriced session; then a session is re-priced and another deleted.
"""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from core.clock import clock, utcnow
from services.access.scope import scope_for
from services.charging import transactions as tx
from tests.utils.factories import (
    make_charger,
    make_location_owner,
    make_org,
    make_tariff,
    make_transaction,
    make_user,
)

NOW = datetime(2026, 11, 18, 4, 30, tzinfo=UTC)  # 10:00 in Colombo, 23:30 the day before in New York
COLOMBO, NEW_YORK = ZoneInfo("Asia/Colombo"), ZoneInfo("America/New_York")

DIRECT = """
    SELECT {keys}, count(*), coalesce(sum(s.energy_wh), 0), coalesce(sum(s.amount_gross), 0),
           coalesce(sum(s.amount_net_cpo), 0), avg(extract(epoch FROM s.stopped_at - s.started_at))
    FROM (SELECT s.*, CASE WHEN s.priced_at IS NOT NULL THEN s.currency ELSE o.currency END AS cur,
                 date_trunc('day', timezone(o.timezone, s.started_at)) AS day
          FROM charging_session s JOIN organization o ON o.id = s.organization_id
          WHERE (CAST(:orgs AS int[]) IS NULL OR s.organization_id = ANY(:orgs))
            AND (CAST(:owner AS int) IS NULL OR s.location_owner_id = :owner)
            AND (CAST(:since AS timestamptz) IS NULL OR s.started_at >= :since)
            AND (CAST(:first AS date) IS NULL OR s.started_at >= timezone(o.timezone, CAST(:first AS timestamp)))
            AND (CAST(:last AS date) IS NULL
                 OR s.started_at < timezone(o.timezone, CAST(:last AS timestamp) + interval '1 day'))
            AND (CAST(:charger AS int) IS NULL OR s.charger_id = :charger)
            AND (CAST(:status AS text) IS NULL OR s.status = :status)) s
    GROUP BY {keys}
"""


def _direct(session, scope, f: tx.TxFilter, keys: str) -> dict:
    orgs = None if scope.org_ids is None else sorted(scope.org_ids)
    if f.organization_id is not None:
        orgs = [f.organization_id]
    rows = session.execute(text(DIRECT.format(keys=keys)), dict(
        orgs=orgs, owner=scope.location_owner_id, since=utcnow() - tx.PRESETS[f.preset] if f.preset else None,
        first=f.date_from, last=f.date_to, charger=f.charger_id, status=f.status)).all()
    return {tuple(r[:-5]): tuple(r[-5:]) for r in rows}


def assert_matches_sessions(session, scope, f: tx.TxFilter) -> None:
    where = (scope.role, f)
    page = tx.list_transactions(session=session, scope=scope, filters=f, limit=5)
    totals = _direct(session, scope, f, "s.cur")
    assert page.total == sum(n for n, *_ in totals.values()), where
    assert {(t.currency,): (t.sessions, t.energy_kwh, t.amount_gross, t.amount_net_cpo) for t in page.totals} == {
        k: (n, Decimal(wh) / 1000, Decimal(g), Decimal(net)) for k, (n, wh, g, net, _) in totals.items()}, where
    breakdown = _direct(session, scope, f, "s.charger_id, s.organization_id, s.cur")
    assert {(b.charger_id, b.organization_id, b.currency): (b.sessions, b.energy_kwh, b.revenue,
                                                            b.avg_duration_seconds)
            for b in tx.charger_breakdown(session=session, scope=scope, filters=f)} == {
        k: (n, Decimal(wh) / 1000, Decimal(g), None if avg is None else int(round(avg)))
        for k, (n, wh, g, _, avg) in breakdown.items()}, where
    days = _direct(session, scope, f, "s.day, s.cur")
    assert {(p.bucket, p.currency): (p.sessions, p.energy_kwh, p.revenue)
            for p in tx.energy_analytics(session=session, scope=scope, filters=f)} == {
        k: (n, Decimal(wh) / 1000, Decimal(g)) for k, (n, wh, g, _, _) in days.items()}, where
    tree = {(n.organization_id, cur): (t.sessions, t.amount_gross)
            for n in tx.org_tree_totals(session=session, scope=scope, filters=f) for cur, t in n.own.items()}
    assert tree == {k: (n, Decimal(g)) for k, (n, _, g, _, _) in _direct(session, scope, f, "s.organization_id, s.cur")
                    .items()}, where
    session.commit()


def _local(zone: ZoneInfo, *args) -> datetime:
    return datetime(*args, tzinfo=zone).astimezone(UTC)


@pytest.fixture
def world(session):
    clock.set(NOW)
    colombo = make_org(session, slug="colombo", currency="LKR", timezone="Asia/Colombo")
    new_york = make_org(session, slug="new-york", currency="USD", timezone="America/New_York")
    make_tariff(session, colombo, price_per_kwh="100")
    make_tariff(session, new_york, price_per_kwh="0.40")
    mall = make_location_owner(session, colombo, "Mall")
    a = make_charger(session, colombo, ocpp_id="C-A", location_owner=mall)
    b = make_charger(session, colombo, ocpp_id="C-B")
    n = make_charger(session, new_york, ocpp_id="N-A")
    made = []

    def at(charger, start, minutes=40, kwh=3, **kw):
        stop = None if minutes is None else start + timedelta(minutes=minutes)
        made.append(make_transaction(session, charger, started_at=start, stopped_at=stop, energy_wh=kwh * 1000,
                                     id_tag=f"T{len(made)}", **kw))

    for i in range(40):  # spread over 400 days, every hour of the day
        at((a, b, n)[i % 3], NOW - timedelta(hours=17 + i * 241), kwh=1 + i % 7)
    for zone, charger in ((COLOMBO, a), (NEW_YORK, n)):
        at(charger, _local(zone, 2026, 9, 30, 23, 59))   # around the custom month of October
        at(charger, _local(zone, 2026, 10, 1, 0, 1))
        at(charger, _local(zone, 2026, 10, 31, 23, 50), minutes=20)  # runs into November
        at(charger, _local(zone, 2026, 11, 1, 0, 0))
    for minutes in (-10, 10):  # the 30-day preset's start, and the local midnight after it
        at(b, NOW - timedelta(days=30, minutes=minutes))
        first_whole = (NOW - timedelta(days=30)).astimezone(COLOMBO).date() + timedelta(days=1)
        at(b, _local(COLOMBO, *first_whole.timetuple()[:3]) + timedelta(minutes=minutes))
    at(a, NOW - timedelta(hours=2), minutes=None)            # still charging
    at(b, NOW - timedelta(days=3), price=False)              # completed, not priced
    at(n, NOW + timedelta(hours=1))                          # started after "now" (a clock set back)
    return dict(colombo=colombo, new_york=new_york, mall=mall, a=a, b=b, n=n, made=made)


def _scopes(session, world):
    return [scope_for(session, make_user(session, role="admin")),
            scope_for(session, make_user(session, role="cpo", orgs=[world["colombo"]])),
            scope_for(session, make_user(session, role="location_owner", location_owner=world["mall"]))]


def _filters(world):
    return [tx.TxFilter(preset=p) for p in tx.PRESETS] + [
        tx.TxFilter(), tx.TxFilter(date_from=date(2026, 10, 1), date_to=date(2026, 10, 31)),
        tx.TxFilter(date_from=date(2026, 10, 1)), tx.TxFilter(date_to=date(2026, 10, 31)),
        tx.TxFilter(preset="30d", charger_id=world["b"].id), tx.TxFilter(preset="365d", status="completed"),
        tx.TxFilter(preset="365d", organization_id=world["new_york"].id)]


def test_every_view_equals_a_direct_sum_for_presets_custom_ranges_and_roles(session, world):
    for scope in _scopes(session, world):
        for f in _filters(world):
            if f.organization_id is not None and not scope.all_orgs:
                continue
            assert_matches_sessions(session, scope, f)


def test_the_sums_follow_repricing_deletes_a_session_completed_later_and_a_rebuild(session, world):
    made = world["made"]
    session.execute(text("UPDATE charging_session SET amount_gross = 1234.5, amount_net_cpo = 1000 WHERE id = :id"),
                    {"id": made[5].id})
    session.execute(text("DELETE FROM charging_session WHERE id = :id"), {"id": made[8].id})
    session.execute(text("UPDATE charging_session SET status = 'completed', stopped_at = :t, energy_wh = 1000, "
                         "priced_at = :t, amount_gross = 7, amount_net_cpo = 5 WHERE status = 'active'"),
                    {"t": NOW - timedelta(minutes=5)})
    session.commit()
    for scope in _scopes(session, world):
        for f in _filters(world)[:6]:
            assert_matches_sessions(session, scope, f)

    # Rebuilt from the sessions (after a bulk load or a timezone change), they still agree.
    session.execute(text("SELECT rebuild_session_stats()"))
    session.commit()
    for scope in _scopes(session, world):
        for f in _filters(world)[:6]:
            assert_matches_sessions(session, scope, f)


def test_a_custom_month_counts_each_organizations_own_local_days(session, world):
    admin = _scopes(session, world)[0]
    october = tx.TxFilter(date_from=date(2026, 10, 1), date_to=date(2026, 10, 31))
    page = tx.list_transactions(session=session, scope=admin, filters=october)
    # Per organization: 00:01 on the 1st and 23:50 on the 31st are in, 23:59 on the 30th and midnight after are out.
    ours = {(t.currency, t.sessions) for t in page.totals}
    direct = _direct(session, admin, october, "s.cur")
    assert ours == {(k[0], v[0]) for k, v in direct.items()}
    assert page.total >= 4


def test_the_breakdowns_kept_windows_follow_the_local_day_and_late_sessions(session, world):
    admin, cpo, owner = _scopes(session, world)
    presets = [tx.TxFilter(preset="30d"), tx.TxFilter(preset="365d")]
    for f in presets:
        assert_matches_sessions(session, admin, f)
    # The windows are built and used (Colombo's; New York's 30 days cross a DST change and are summed).
    as_of = session.execute(text("SELECT organization_id, as_of FROM start_window_as_of")).all()
    assert (world["colombo"].id, date(2026, 11, 18)) in as_of
    # Day by day, then a long jump (rebuilt) and back in time, with sessions arriving for past days.
    for step in [timedelta(days=1)] * 3 + [timedelta(days=10), timedelta(days=45), timedelta(days=-3),
                                          timedelta(days=-60)]:
        clock.advance(step)
        make_transaction(session, world["a"], started_at=utcnow() - timedelta(days=6, hours=23),
                         stopped_at=utcnow() - timedelta(days=6, hours=22), energy_wh=2000, id_tag="LATE")
        make_transaction(session, world["b"], started_at=utcnow() - timedelta(days=29, hours=20),
                         stopped_at=utcnow() - timedelta(days=29, hours=19), energy_wh=1000, id_tag="LATE")
        for scope in (admin, cpo, owner):
            for f in presets:
                assert_matches_sessions(session, scope, f)


def test_a_charger_moved_to_another_organization_keeps_each_ones_sessions_apart(session, world):
    """Sessions on the same charger, day and month under two organizations stay with the one that held it."""
    b, colombo = world["b"], world["colombo"]
    other = make_org(session, slug="other", currency="LKR", timezone="Asia/Colombo")
    make_tariff(session, other, price_per_kwh="50")
    make_transaction(session, b, started_at=NOW - timedelta(hours=3), stopped_at=NOW - timedelta(hours=2),
                     energy_wh=1000, id_tag="BEFORE")
    b.organization_id = other.id
    session.add(b)
    session.commit()
    make_transaction(session, b, started_at=NOW - timedelta(hours=1), stopped_at=NOW - timedelta(minutes=30),
                     energy_wh=1000, id_tag="AFTER")
    admin, cpo, _ = _scopes(session, world)
    theirs = scope_for(session, make_user(session, role="cpo", orgs=[other]))
    for scope in (admin, cpo, theirs):
        for f in _filters(world)[:6]:
            assert_matches_sessions(session, scope, f)
    assert tx.list_transactions(session=session, scope=theirs, filters=tx.TxFilter(preset="24h")).total == 1
    assert colombo.id != other.id
