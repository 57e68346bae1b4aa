"""The dashboard's roll-ups always equal a direct sum over sessions.

The performance table's rolling windows (7, 30, 365 local days) are kept by the session trigger and
moved to each organization's new local day on read; the revenue tiles add finished months from the
monthly roll-up to the current month's days (models/stats.py). Each test changes sessions or the day,
then compares the figures with a SUM over charging_session in the organization's own timezone.
"""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlmodel import Session

from core.clock import clock, utcnow
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

WINDOWS = {"7d": 7, "30d": 30, "365d": 365}

DIRECT = text("""
    WITH local AS (
        SELECT s.*, (s.started_at AT TIME ZONE o.timezone)::date AS day,
               (CAST(:now AS timestamptz) AT TIME ZONE o.timezone)::date AS today
        FROM charging_session s JOIN organization o ON o.id = s.organization_id
    )
    SELECT c.ocpp_id, s.currency, count(*), coalesce(sum(s.energy_wh), 0), coalesce(sum(s.amount_gross), 0)
    FROM local s JOIN charger c ON c.id = s.charger_id
    WHERE s.status = 'completed' AND s.day > s.today - :days AND s.day <= s.today
    GROUP BY 1, 2
""")


def _direct(session: Session, days: int, owner=None) -> dict[str, tuple[str, Decimal, Decimal, int]]:
    rows = session.execute(DIRECT, {"now": utcnow(), "days": days}).all()
    if owner is not None:  # the owner's chargers, sessions made while it held them (or with none recorded)
        mine = set(session.execute(text("""
            SELECT DISTINCT c.ocpp_id FROM charger c JOIN charging_session s ON s.charger_id = c.id
            WHERE c.location_owner_id = :o AND (s.location_owner_id = :o OR s.location_owner_id IS NULL)
        """), {"o": owner.id}).scalars())
        rows = [r for r in rows if r[0] in mine]
    return {ocpp: (cur, Decimal(rev), Decimal(wh) / 1000, n) for ocpp, cur, n, wh, rev in rows}


def _table(session: Session, scope, period: str) -> dict[str, tuple[str, Decimal, Decimal, int]]:
    rows, _ = dashboard.performance(session=session, scope=scope, period=period, limit=1000)
    return {r.ocpp_id: (r.currency, r.revenue, r.energy_kwh, r.sessions) for r in rows if r.sessions}


def _windows_as_of(session: Session, org):
    return session.execute(text("SELECT as_of FROM session_window_as_of WHERE organization_id = :o"),
                           {"o": org.id}).scalar_one_or_none()


def assert_windows_match_sessions(session: Session, scope, owner=None) -> None:
    for period, days in WINDOWS.items():
        assert _table(session, scope, period) == _direct(session, days, owner), (period, utcnow())
    session.commit()  # end the read transaction, as a page load does


@pytest.fixture
def colombo(session):
    """An organization at UTC+05:30 with two chargers, priced LKR 100/kWh; 'now' is 10:00 local."""
    clock.set(datetime(2026, 11, 18, 4, 30, tzinfo=UTC))
    org = make_org(session, slug="colombo", currency="LKR", timezone="Asia/Colombo")
    make_tariff(session, org, price_per_kwh="100")
    a, b = make_charger(session, org, ocpp_id="C-A"), make_charger(session, org, ocpp_id="C-B")
    return org, a, b, scope_for(session, make_user(session, role="admin"))


def _at(session, charger, start: datetime, kwh: int):
    return make_transaction(session, charger, started_at=start, stopped_at=start + timedelta(minutes=40),
                            energy_wh=kwh * 1000)


def test_windows_equal_a_direct_sum_after_repricing_late_inserts_and_deletes(session, colombo):
    org, a, b, scope = colombo
    now = utcnow()
    _at(session, a, now - timedelta(hours=3), 10)
    _at(session, a, now - timedelta(days=8), 20)
    doomed = _at(session, b, now - timedelta(days=29), 30)
    repriced = _at(session, b, now - timedelta(days=100), 40)
    assert_windows_match_sessions(session, scope)
    # The windows are built and used now (not the daily fallback).
    assert _windows_as_of(session, org) == datetime(2026, 11, 18).date()

    session.execute(text("UPDATE charging_session SET amount_gross = 1234.5 WHERE id = :id"), {"id": repriced.id})
    session.commit()
    assert_windows_match_sessions(session, scope)
    assert _table(session, scope, "365d")["C-B"][1] == Decimal("1234.5") + Decimal("3000")

    # Sessions arriving late, for days already inside (and outside) each window.
    _at(session, a, now - timedelta(days=2), 5)
    _at(session, b, now - timedelta(days=20), 6)
    _at(session, b, now - timedelta(days=364), 7)
    _at(session, b, now - timedelta(days=400), 8)   # older than a year: in no window
    assert_windows_match_sessions(session, scope)

    session.execute(text("DELETE FROM charging_session WHERE id = :id"), {"id": doomed.id})
    session.commit()
    assert_windows_match_sessions(session, scope)
    assert _table(session, scope, "30d")["C-B"][3] == 1


def test_windows_follow_the_local_day_across_a_month_end_in_a_non_utc_timezone(session, colombo):
    org, a, b, scope = colombo
    # 23:50 and 00:10 local around the end of November in Colombo, i.e. 18:20 and 18:40 UTC on the 30th.
    clock.set(datetime(2026, 11, 30, 18, 25, tzinfo=UTC))  # 23:55 on the 30th in Colombo
    _at(session, a, datetime(2026, 11, 30, 18, 20, tzinfo=UTC), 11)
    _at(session, b, datetime(2026, 11, 24, 18, 31, tzinfo=UTC), 12)  # 00:01 on the 25th: the 7-day edge
    _at(session, b, datetime(2026, 11, 1, 18, 29, tzinfo=UTC), 13)   # 23:59 on Nov 1: the 30-day edge
    _at(session, a, datetime(2025, 11, 30, 18, 31, tzinfo=UTC), 14)  # 00:01 on 2025-12-01: 365-day edge
    assert_windows_match_sessions(session, scope)
    assert _table(session, scope, "7d")["C-B"][3] == 1 and _table(session, scope, "30d")["C-B"][3] == 2

    clock.set(datetime(2026, 11, 30, 18, 40, tzinfo=UTC))  # 00:10 on December 1st in Colombo
    _at(session, a, datetime(2026, 11, 30, 18, 35, tzinfo=UTC), 15)
    assert_windows_match_sessions(session, scope)
    assert _windows_as_of(session, org) == datetime(2026, 12, 1).date()
    # Day by day through December, then a long jump (rebuilt) and back in time (tests set clocks back).
    for step in [timedelta(days=1)] * 8 + [timedelta(days=10), timedelta(days=45), timedelta(days=-3),
                                          timedelta(days=-60), timedelta(days=400)]:
        clock.advance(step)
        _at(session, b, utcnow() - timedelta(days=6, hours=23), 1)
        assert_windows_match_sessions(session, scope)


def test_a_location_owners_table_from_whole_months_and_edge_days_equals_a_direct_sum(session, colombo):
    """A location owner's windows are summed from the monthly and daily roll-ups: check every edge
    (month ends, year end, February, mid-month) for 7, 30 and 365 days, for the owner and for the admin."""
    org, a, b, admin = colombo
    owner = make_location_owner(session, org, "Galle Face Hotel")
    hotel = make_charger(session, org, ocpp_id="HOTEL-1", location_owner=owner)
    lo = scope_for(session, make_user(session, role="location_owner", location_owner=owner))
    start = datetime(2025, 10, 1, 18, 0, tzinfo=UTC)
    for i in range(0, 520, 3):  # a session every third day, just before or after local midnight in turn
        moment = start + timedelta(days=i, minutes=(20 if i % 2 else 40))
        _at(session, hotel if (i // 3) % 3 else a, moment, 1 + i % 7)
        if i % 5 == 0:
            _at(session, b, moment, 2)
    for local_day in ("2026-11-30", "2026-12-01", "2026-12-31", "2027-01-01", "2027-02-28", "2027-03-01",
                      "2026-11-18", "2026-10-31"):
        # 10:00 in Colombo on that day
        clock.set(datetime.fromisoformat(local_day).replace(hour=4, minute=30, tzinfo=UTC))
        assert_windows_match_sessions(session, lo, owner)
        assert_windows_match_sessions(session, admin)
    assert _table(session, lo, "365d")["HOTEL-1"][3] > 50  # the owner's table is not trivially empty


def test_a_reader_in_the_middle_of_writing_sessions_gets_exact_figures(session, colombo):
    """The windows cannot move while this organization's sessions are being written, so the read sums
    the daily roll-up instead (and sees its own uncommitted session)."""
    org, a, b, scope = colombo
    _at(session, a, utcnow() - timedelta(hours=1), 10)
    clock.advance(timedelta(days=1))
    _at(session, a, utcnow() - timedelta(hours=1), 7)  # committed; the windows are a day behind now
    session.execute(text("UPDATE charging_session SET energy_wh = 9000 WHERE energy_wh = 7000"))  # not committed
    for period, days in WINDOWS.items():
        assert _table(session, scope, period) == _direct(session, days)
    assert _table(session, scope, "7d")["C-A"][2] == Decimal(19)
    session.rollback()
    assert_windows_match_sessions(session, scope)


def test_ranking_by_revenue_never_compares_amounts_in_different_currencies(session, colombo):
    org, a, b, scope = colombo
    euro = make_org(session, slug="euro", currency="EUR", timezone="Europe/Berlin")
    make_tariff(session, euro, price_per_kwh="0.50")
    e1, e2 = make_charger(session, euro, ocpp_id="E-1"), make_charger(session, euro, ocpp_id="E-2")
    now = utcnow()
    _at(session, a, now - timedelta(hours=2), 1)    # LKR 100
    _at(session, b, now - timedelta(hours=2), 3)    # LKR 300
    _at(session, e1, now - timedelta(hours=2), 10)  # EUR 5
    _at(session, e2, now - timedelta(hours=2), 20)  # EUR 10
    for period in ("24h", "7d", "365d"):
        rows, _ = dashboard.performance(session=session, scope=scope, period=period, sort="revenue")
        assert [(r.ocpp_id, r.currency) for r in rows] == [("E-2", "EUR"), ("E-1", "EUR"), ("C-B", "LKR"),
                                                           ("C-A", "LKR")], period


LOCAL_SESSIONS = text("""
    SELECT o.name, s.currency, (s.started_at AT TIME ZONE o.timezone)::date,
           (CAST(:now AS timestamptz) AT TIME ZONE o.timezone)::date, coalesce(s.energy_wh, 0),
           coalesce(s.amount_gross, 0)
    FROM charging_session s JOIN organization o ON o.id = s.organization_id
    WHERE s.status = 'completed'
""")


def _direct_tiles(session: Session) -> dict[tuple[str, str], dict[str, dashboard.Totals]]:
    out: dict[tuple[str, str], dict[str, dashboard.Totals]] = {}
    for name, currency, day, today, wh, amount in session.execute(LOCAL_SESSIONS, {"now": utcnow()}):
        starts = {"today": today, "week": today - timedelta(days=today.weekday()), "month": today.replace(day=1),
                  "year": today.replace(month=1, day=1)}
        if not min(starts.values()) <= day <= today:
            continue  # in no period (this week may begin last year)
        tiles = out.setdefault((name, currency), {p: dashboard.Totals() for p in dashboard.PERIODS})
        for p, first in starts.items():
            if day >= first:
                tiles[p] += dashboard.Totals(Decimal(amount), Decimal(wh) / 1000, 1)
    return out


def assert_tiles_match_sessions(session: Session, scope) -> None:
    s = dashboard.summary(session=session, scope=scope)
    assert {(o.name, o.currency): o.periods for o in s.organizations} == _direct_tiles(session)
    session.commit()


def test_revenue_tiles_equal_a_direct_sum_across_month_and_year_ends_in_a_non_utc_timezone(session, colombo):
    org, a, b, scope = colombo
    # Wednesday 2 December 2026, 09:00 in Colombo: this week began on Monday 30 November, last month.
    clock.set(datetime(2026, 12, 2, 3, 30, tzinfo=UTC))
    _at(session, a, datetime(2026, 11, 29, 18, 31, tzinfo=UTC), 1)   # 00:01 Mon 30 Nov local: week, not month
    _at(session, a, datetime(2026, 11, 29, 18, 29, tzinfo=UTC), 2)   # 23:59 Sun 29 Nov local: year only
    _at(session, b, datetime(2026, 12, 1, 18, 31, tzinfo=UTC), 3)    # 00:01 today local
    _at(session, b, datetime(2026, 1, 14, 12, 0, tzinfo=UTC), 4)     # this year
    _at(session, b, datetime(2025, 12, 31, 18, 29, tzinfo=UTC), 5)   # 23:59 on 31 Dec 2025: last year
    _at(session, b, datetime(2025, 12, 31, 18, 31, tzinfo=UTC), 6)   # 00:01 on 1 Jan 2026: this year
    assert_tiles_match_sessions(session, scope)
    lkr = dashboard.summary(session=session, scope=scope).organizations[0].periods
    assert [lkr[p].sessions for p in dashboard.PERIODS] == [1, 2, 1, 5]

    # Re-priced, inserted late into a finished month, deleted.
    late = _at(session, a, datetime(2026, 3, 3, 3, 0, tzinfo=UTC), 7)
    session.execute(text("UPDATE charging_session SET amount_gross = 99.99 WHERE id = :id"), {"id": late.id})
    session.execute(text("DELETE FROM charging_session WHERE energy_wh = 4000"))
    session.commit()
    assert_tiles_match_sessions(session, scope)

    for moment in (datetime(2026, 12, 31, 18, 20, tzinfo=UTC),   # 23:50 on New Year's Eve local
                   datetime(2026, 12, 31, 18, 40, tzinfo=UTC),   # 00:10 on 1 January 2027 local
                   datetime(2027, 2, 1, 0, 0, tzinfo=UTC)):
        clock.set(moment)
        _at(session, a, moment - timedelta(minutes=30), 8)
        assert_tiles_match_sessions(session, scope)
    assert date(2027, 2, 1).weekday() == 0  # a Monday: week and month begin the same day


def test_changing_an_organizations_timezone_moves_its_sessions_to_their_new_local_days(session):
    from datetime import datetime

    from sqlalchemy import text

    from services.access.scope import scope_for
    from services.billing.org_settings import update_organization
    from tests.utils.factories import make_charger, make_org, make_priced_session, make_user

    org = make_org(session, slug="shifty", currency="USD", timezone="UTC")
    charger = make_charger(session, org, ocpp_id="SHIFT-1")
    # 02:00 UTC on 10 March is still 9 March in New York.
    make_priced_session(session, charger, stopped_at=datetime(2026, 3, 10, 2, 30, tzinfo=UTC))
    session.commit()
    days = "SELECT day FROM org_day_stat WHERE organization_id = :o"
    assert [str(d) for d in session.execute(text(days), {"o": org.id}).scalars()] == ["2026-03-10"]
    admin = make_user(session, role="admin")
    update_organization(session=session, scope=scope_for(session, admin), user_id=admin.id, org_id=org.id,
                        changes={"timezone": "America/New_York"})
    session.commit()
    assert [str(d) for d in session.execute(text(days), {"o": org.id}).scalars()] == ["2026-03-09"]
