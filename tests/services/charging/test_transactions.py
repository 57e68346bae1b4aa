"""Transactions: scoped list with local-date ranges, breakdowns, analytics, detail and CSV export."""
from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert

from core.clock import clock
from core.errors import NotFound, ValidationError
from models import OcppMessage, Transaction
from services.access.scope import scope_for
from services.charging import transactions as svc
from services.charging.transactions import TxFilter
from tests.utils.factories import make_charger, make_location_owner, make_org, make_tariff, make_transaction, make_user

COLOMBO = ZoneInfo("Asia/Colombo")
NY = ZoneInfo("America/New_York")


@pytest.fixture
def world(session):
    lanka = make_org(session, slug="lanka", currency="LKR", timezone="Asia/Colombo")
    gotham = make_org(session, slug="gotham", currency="USD", timezone="America/New_York")
    owner = make_location_owner(session, lanka, "Galle Face Hotel")
    lk1 = make_charger(session, lanka, ocpp_id="LK-1", location_owner=owner)
    lk2 = make_charger(session, lanka, ocpp_id="LK-2")
    us1 = make_charger(session, gotham, ocpp_id="US-1")
    make_tariff(session, lanka, price_per_kwh="100")
    make_tariff(session, gotham, price_per_kwh="0.50")
    return dict(lanka=lanka, gotham=gotham, owner=owner, lk1=lk1, lk2=lk2, us1=us1,
                admin=make_user(session, role="admin"))


def _session_at(session, charger, local_start: datetime, minutes: int = 30, wh: int = 10000, **kw) -> Transaction:
    return make_transaction(session, charger, started_at=local_start,
                            stopped_at=local_start + timedelta(minutes=minutes), energy_wh=wh, **kw)


def _ids(page) -> list[int]:
    return [r.id for r in page.items]


def test_date_range_uses_each_organizations_local_day_boundaries(session, world):
    # Sessions just inside and just outside 10 March, in Colombo (UTC+5:30) and New York (UTC-4 in March).
    inside = [
        _session_at(session, world["lk1"], datetime(2026, 3, 10, 0, 5, tzinfo=COLOMBO), id_tag="LK-IN-1"),  # 18:35Z
        _session_at(session, world["lk2"], datetime(2026, 3, 10, 23, 55, tzinfo=COLOMBO), id_tag="LK-IN-2"),  # 18:25Z
        _session_at(session, world["us1"], datetime(2026, 3, 10, 0, 5, tzinfo=NY), id_tag="US-IN-1"),  # 04:05Z
        _session_at(session, world["us1"], datetime(2026, 3, 10, 23, 55, tzinfo=NY), id_tag="US-IN-2"),  # 11th 03:55Z
    ]
    for local in (datetime(2026, 3, 9, 23, 55, tzinfo=COLOMBO), datetime(2026, 3, 11, 0, 5, tzinfo=COLOMBO)):
        _session_at(session, world["lk1"], local, id_tag="LK-OUT")
    for local in (datetime(2026, 3, 9, 23, 55, tzinfo=NY), datetime(2026, 3, 11, 0, 5, tzinfo=NY)):
        _session_at(session, world["us1"], local, id_tag="US-OUT")
    scope = scope_for(session, world["admin"])
    page = svc.list_transactions(session=session, scope=scope,
                                 filters=TxFilter(date_from=date(2026, 3, 10), date_to=date(2026, 3, 10)))
    assert sorted(_ids(page)) == sorted(t.id for t in inside)
    assert page.total == 4
    # The same range for one organization only.
    page = svc.list_transactions(session=session, scope=scope, filters=TxFilter(
        date_from=date(2026, 3, 10), date_to=date(2026, 3, 10), organization_id=world["gotham"].id))
    assert {r.id_tag for r in page.items} == {"US-IN-1", "US-IN-2"}


def test_presets_are_rolling_windows_ending_now(session, world):
    clock.set(datetime(2026, 3, 20, 12, tzinfo=UTC))
    recent = _session_at(session, world["us1"], datetime(2026, 3, 20, 1, tzinfo=UTC))
    week = _session_at(session, world["us1"], datetime(2026, 3, 15, 1, tzinfo=UTC))
    _session_at(session, world["us1"], datetime(2025, 1, 1, 1, tzinfo=UTC))
    scope = scope_for(session, world["admin"])
    assert _ids(svc.list_transactions(session=session, scope=scope, filters=TxFilter(preset="24h"))) == [recent.id]
    assert _ids(svc.list_transactions(session=session, scope=scope, filters=TxFilter(preset="7d"))) == [
        recent.id, week.id]
    assert svc.list_transactions(session=session, scope=scope, filters=TxFilter(preset="365d")).total == 2


def test_filters_by_charger_connector_idtag_and_status(session, world):
    start = datetime(2026, 3, 10, 9, tzinfo=UTC)
    a = _session_at(session, world["lk1"], start, id_tag="CARD-A", connector_id=1)
    b = _session_at(session, world["lk1"], start, id_tag="CARD-B", connector_id=2, flags=["meter_backwards"])
    c = make_transaction(session, world["lk2"], started_at=start, id_tag="CARD-A")  # still charging
    scope = scope_for(session, world["admin"])

    def ids(**kw):
        return sorted(_ids(svc.list_transactions(session=session, scope=scope, filters=TxFilter(**kw))))

    assert ids(charger_id=world["lk1"].id) == sorted([a.id, b.id])
    assert ids(charger_id=world["lk1"].id, connector_id=2) == [b.id]
    assert ids(id_tag="card-a") == sorted([a.id, c.id])  # idTags compare case-insensitively
    assert ids(status="active") == [c.id]
    assert ids(status="completed") == sorted([a.id, b.id])
    assert ids(status="flagged") == [b.id]


def test_sort_and_pagination_happen_in_sql_with_a_stable_order(session, world):
    start = datetime(2026, 3, 10, 9, tzinfo=UTC)
    made = [_session_at(session, world["us1"], start + timedelta(hours=i), wh=1000 * (5 - i)) for i in range(5)]
    scope = scope_for(session, world["admin"])
    first = svc.list_transactions(session=session, scope=scope, sort="energy", descending=False, limit=2)
    second = svc.list_transactions(session=session, scope=scope, sort="energy", descending=False, limit=2, offset=2)
    assert _ids(first) + _ids(second) == [made[4].id, made[3].id, made[2].id, made[1].id]
    assert first.total == 5
    with pytest.raises(ValidationError, match="Sort by"):
        svc.list_transactions(session=session, scope=scope, sort="password")


def test_totals_are_per_currency_and_never_summed_across_currencies(session, world):
    start = datetime(2026, 3, 10, 9, tzinfo=UTC)
    _session_at(session, world["lk1"], start, wh=2000)   # 200.00 LKR
    _session_at(session, world["us1"], start, wh=2000)   # 1.00 USD
    _session_at(session, world["us1"], start + timedelta(hours=1), wh=4000)  # 2.00 USD
    page = svc.list_transactions(session=session, scope=scope_for(session, world["admin"]))
    assert [(t.currency, t.sessions, t.amount_gross) for t in page.totals] == [
        ("LKR", 1, Decimal("200.00")), ("USD", 2, Decimal("3.00"))]


def test_location_owner_sees_only_sessions_on_its_chargers_and_others_answer_not_found(session, world):
    start = datetime(2026, 3, 10, 9, tzinfo=UTC)
    mine = _session_at(session, world["lk1"], start)
    other = _session_at(session, world["lk2"], start)
    foreign = _session_at(session, world["us1"], start)
    owner_user = make_user(session, role="location_owner", location_owner=world["owner"])
    scope = scope_for(session, owner_user)
    assert _ids(svc.list_transactions(session=session, scope=scope)) == [mine.id]
    assert svc.get_transaction(session=session, scope=scope, transaction_id=mine.id).row.id == mine.id
    for tid in (other.id, foreign.id):
        with pytest.raises(NotFound):
            svc.get_transaction(session=session, scope=scope, transaction_id=tid)
    cpo = make_user(session, role="cpo", orgs=[world["gotham"]])
    assert _ids(svc.list_transactions(session=session, scope=scope_for(session, cpo))) == [foreign.id]
    with pytest.raises(NotFound):
        svc.list_transactions(session=session, scope=scope_for(session, cpo),
                              filters=TxFilter(organization_id=world["lanka"].id))


def test_per_charger_breakdown_gives_kwh_revenue_sessions_and_average_duration(session, world):
    start = datetime(2026, 3, 10, 9, tzinfo=UTC)
    _session_at(session, world["lk1"], start, minutes=30, wh=2000)
    _session_at(session, world["lk1"], start + timedelta(hours=2), minutes=90, wh=3000)
    _session_at(session, world["us1"], start, minutes=60, wh=1000)
    rows = {r.charger_ocpp_id: r for r in svc.charger_breakdown(session=session,
                                                                  scope=scope_for(session, world["admin"]))}
    assert (rows["LK-1"].sessions, rows["LK-1"].energy_kwh, rows["LK-1"].revenue, rows["LK-1"].currency,
            rows["LK-1"].avg_duration_seconds) == (2, Decimal(5), Decimal("500.00"), "LKR", 3600)
    assert (rows["US-1"].revenue, rows["US-1"].currency) == (Decimal("0.50"), "USD")
    assert "LK-2" not in rows


@pytest.mark.parametrize("filters", [TxFilter(), TxFilter(preset="365d"), TxFilter(id_tag="PAGED")],
                         ids=["roll-ups", "kept window", "sessions"])
def test_breakdown_pages_continue_where_the_last_stopped_and_count_every_row(session, world, filters):
    extra = [make_charger(session, world["gotham"], ocpp_id=f"US-{n}") for n in range(2, 6)]
    start = clock.now() - timedelta(days=3)
    # US-2 and US-3 earn the same: the pages still split them in one fixed order.
    chargers = [world["lk1"], world["lk2"], world["us1"], *extra]
    for charger, wh in zip(chargers, [1000, 2000, 3000, 4000, 4000, 500, 0], strict=True):
        _session_at(session, charger, start, wh=wh, id_tag="PAGED")
    scope = scope_for(session, world["admin"])
    everything = svc.charger_breakdown(session=session, scope=scope, filters=filters)
    assert len(everything) == 7
    pages = [svc.charger_breakdown_page(session=session, scope=scope, filters=filters, limit=3, offset=o)
             for o in (0, 3, 6, 9)]
    assert [p.total for p in pages] == [7, 7, 7, 7]
    assert [len(p.items) for p in pages] == [3, 3, 1, 0]
    assert [b for p in pages for b in p.items] == everything
    with pytest.raises(ValidationError):
        svc.charger_breakdown_page(session=session, scope=scope, filters=filters, limit=0)


def test_energy_analytics_buckets_by_local_day_and_hour(session, world):
    # 23:30 and 00:30 New York time fall on two local days, though the same UTC day.
    _session_at(session, world["us1"], datetime(2026, 3, 10, 23, 30, tzinfo=NY), wh=1000)
    _session_at(session, world["us1"], datetime(2026, 3, 11, 0, 30, tzinfo=NY), wh=3000)
    _session_at(session, world["us1"], datetime(2026, 3, 11, 0, 45, tzinfo=NY), wh=2000)
    scope = scope_for(session, world["admin"])
    days = svc.energy_analytics(session=session, scope=scope, granularity="day")
    assert [(p.bucket, p.energy_kwh, p.revenue) for p in days] == [
        (datetime(2026, 3, 10), Decimal(1), Decimal("0.50")), (datetime(2026, 3, 11), Decimal(5), Decimal("2.50"))]
    hours = svc.energy_analytics(session=session, scope=scope, granularity="hour")
    assert [(p.bucket.hour, p.sessions) for p in hours] == [(23, 1), (0, 2)]


def test_session_detail_has_curve_breakdown_and_raw_ocpp_only_for_technical_and_admin(session, world):
    start = datetime(2026, 3, 10, 9, tzinfo=UTC)
    tx = make_transaction(session, world["lk1"], started_at=start, stopped_at=start + timedelta(hours=1),
                          meter_start=500, stop_reason="EVDisconnected", flags=["late_delivery"],
                          meter_values=[(start + timedelta(minutes=30), 5500), (start + timedelta(minutes=60), 8000)],
                          power_values=[(start + timedelta(minutes=60), 4800)])
    session.add(OcppMessage(charger_id=world["lk1"].id, transaction_id=tx.id, direction="in", action="MeterValues",
                            frame='[2,"1","MeterValues",{}]', created_at=start + timedelta(minutes=30)))
    session.commit()
    for role, sees_raw in (("admin", True), ("technical", True), ("accounts", False), ("network_manager", False)):
        orgs = None if role in ("admin", "technical", "accounts") else [world["lanka"]]
        user = make_user(session, role=role, orgs=orgs)
        d = svc.get_transaction(session=session, scope=scope_for(session, user), transaction_id=tx.id)
        assert (d.raw_messages is not None) is sees_raw
    assert [m.action for m in d.raw_messages or []] == []
    assert d.row.stop_reason == "EVDisconnected" and d.row.flags == ["late_delivery"]
    assert d.amounts["gross"] == Decimal("750.00") and d.price_breakdown["energy"]["kwh"] == "7.5"
    # Energy since start, power from the sample or derived from the energy (5 kWh in 30 min = 10 kW).
    assert [(p.energy_kwh, p.power_kw) for p in d.meter_curve] == [(Decimal(5), Decimal("10.000")),
                                                             (Decimal("7.5"), Decimal("4.8"))]
    admin = svc.get_transaction(session=session, scope=scope_for(session, world["admin"]), transaction_id=tx.id)
    assert [m.action for m in admin.raw_messages] == ["MeterValues"]


def test_bad_filters_are_refused_with_a_clear_message():
    with pytest.raises(ValidationError, match="on or before"):
        TxFilter(date_from=date(2026, 3, 2), date_to=date(2026, 3, 1))
    with pytest.raises(ValidationError, match="preset"):
        TxFilter(preset="2d")
    with pytest.raises(ValidationError, match="Status"):
        TxFilter(status="paid")


def test_organization_tree_totals_roll_up_only_inside_the_users_scope(session, world):
    sub = make_org(session, slug="lanka-south", currency="LKR", timezone="Asia/Colombo", parent=world["lanka"])
    sub_charger = make_charger(session, sub, ocpp_id="LK-S1")
    start = datetime(2026, 3, 10, 9, tzinfo=UTC)
    _session_at(session, world["lk1"], start, wh=1000)      # lanka 100.00 (the tariff of lanka)
    _session_at(session, sub_charger, start, wh=2000)       # sub: inherits lanka's default tariff: 200.00
    _session_at(session, world["us1"], start, wh=2000)      # gotham 1.00 USD
    nodes = {n.name: n for n in svc.org_tree_totals(session=session, scope=scope_for(session, world["admin"]))}
    assert nodes["Lanka"].own["LKR"].amount_gross == Decimal("100.00")
    assert nodes["Lanka"].rolled_up["LKR"].amount_gross == Decimal("300.00")
    op = nodes["Operator"]
    assert op.depth == 0 and nodes["Lanka South"].depth == 2
    assert {c: t.amount_gross for c, t in op.rolled_up.items()} == {"LKR": Decimal("300.00"), "USD": Decimal("1.00")}
    # A CPO of the sub-organization sees only its own subtree: no operator, no sibling totals.
    cpo = make_user(session, role="cpo", orgs=[sub])
    nodes = svc.org_tree_totals(session=session, scope=scope_for(session, cpo))
    assert [(n.name, n.depth, n.rolled_up["LKR"].amount_gross) for n in nodes] == [
        ("Lanka South", 0, Decimal("200.00"))]


def test_csv_export_streams_thousands_of_rows_with_local_times_and_amounts(session, world):
    start = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)
    rows = [dict(charger_id=world["us1"].id, organization_id=world["gotham"].id, connector_id=1, id_tag=f"T{i}",
                 status="completed", meter_start=0, meter_stop=1000 + i, energy_wh=1000 + i,
                 started_at=start + timedelta(minutes=i), stopped_at=start + timedelta(minutes=i + 30),
                 currency="USD", amount_gross=Decimal("1.25"), amount_net_cpo=Decimal("1.00"),
                 priced_at=start, flags=[]) for i in range(3000)]
    session.execute(insert(Transaction), rows)
    _session_at(session, world["lk1"], start, id_tag="=HYPERLINK()")
    session.commit()
    chunks = list(svc.iter_csv(session=session, scope=scope_for(session, world["admin"]),
                               filters=TxFilter(organization_id=world["gotham"].id), sort="started_at",
                               descending=False, batch=500))
    assert len(chunks) > 3  # it came in pieces, not one string
    table = list(csv.DictReader(io.StringIO("".join(chunks))))
    assert len(table) == 3000
    first = table[0]
    assert first["started_at"] == "2026-03-10T00:00:00-04:00" and first["timezone"] == "America/New_York"
    assert (first["id_tag"], first["energy_kwh"], first["gross"], first["net_to_cpo"], first["duration_minutes"]) == (
        "T0", "1", "1.25", "1.00", "30.00")
    assert table[-1]["id_tag"] == "T2999"
    lanka_only = TxFilter(organization_id=world["lanka"].id)
    lanka = list(csv.DictReader(io.StringIO("".join(svc.iter_csv(
        session=session, scope=scope_for(session, world["admin"]), filters=lanka_only)))))
    assert lanka[0]["id_tag"] == "'=HYPERLINK()"  # defused for spreadsheets


def test_a_location_owners_totals_carry_its_commission_and_nobody_elses(session):
    """Issue 14: the owner's Transactions totals show what it earned (its contract's share), not only the revenue."""
    from tests.utils.factories import make_contract

    clock.set(datetime(2026, 11, 1, tzinfo=UTC))
    org = make_org(session, slug="lk-tx-commission", vat_rate=Decimal("0"))
    mall, hotel = make_location_owner(session, org, "Mall"), make_location_owner(session, org, "Hotel")
    a = make_charger(session, org, ocpp_id="A", location_owner=mall)
    b = make_charger(session, org, ocpp_id="B", location_owner=hotel)
    make_tariff(session, org, price_per_kwh="1.00")
    make_contract(session, org, kind="location_owner", location_owner=mall, rate="10",
                  effective_from=datetime(2026, 1, 1, tzinfo=UTC))
    make_contract(session, org, kind="location_owner", location_owner=hotel, rate="50",
                  effective_from=datetime(2026, 1, 1, tzinfo=UTC))
    for hour, (charger, wh) in enumerate(((a, 10_000), (a, 5_000), (b, 8_000))):
        start = datetime(2026, 10, 20, 9 + hour, tzinfo=UTC)
        make_transaction(session, charger, started_at=start, stopped_at=start + timedelta(hours=1), energy_wh=wh)
    mall_scope = scope_for(session, make_user(session, role="location_owner", location_owner=mall))
    [total] = svc.list_transactions(session=session, scope=mall_scope, filters=TxFilter(preset="30d")).totals
    assert (total.sessions, total.amount_gross, total.amount_location_owner) == (2, Decimal("15.00"), Decimal("1.50"))
    hotel_scope = scope_for(session, make_user(session, role="location_owner", location_owner=hotel))
    [total] = svc.list_transactions(session=session, scope=hotel_scope, filters=TxFilter(preset="30d")).totals
    assert (total.sessions, total.amount_gross, total.amount_location_owner) == (1, Decimal("8.00"), Decimal("4.00"))
