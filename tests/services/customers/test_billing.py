"""Reimbursement statements and subscription invoices: amounts, and exactly once under two workers."""
from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlmodel import Session

from models import CustomerInvoice, CustomerInvoiceLine, ReimbursementStatement
from services.access.scope import scope_for
from services.billing.periods import Period
from services.customers import accounts, assets, billing
from services.customers.auth import customer_principal, login
from tests.utils.customers import CUSTOMER_PASSWORD, active_customer, make_plan, open_signup
from tests.utils.factories import make_charger, make_transaction, make_user


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def _employee_with_home_charger(session, world, rate="0.3333", use="employee"):
    org = world["alpha"]
    open_signup(session, world["scope"], org)
    boss = active_customer(session, org, "boss@acme.test", kind="business")
    sub = accounts.invite_sub_account(session=session, scope=world["scope"], account_id=boss.account_id, use=use,
                                      name="Ann", email="ann@acme.test", kind="consumer", reimbursement_rate=rate)
    charger = make_charger(session, org, ocpp_id="ANN-HOME")
    plan = make_plan(session, world["scope"], org, name="Home", price="4.00", for_card=False)
    code = assets.claim_code(session=session, scope=world["scope"], charger_id=charger.id)
    assets.activate_asset(session=session, scope=world["scope"], account_id=sub.account_id, kind="charger",
                          ocpp_id="ANN-HOME", claim_code=code, plan_id=plan.id)
    return org, boss, sub, charger


def test_a_month_of_home_sessions_is_reimbursed_at_rate_times_kwh_rounded_once(session, world):
    org, boss, sub, charger = _employee_with_home_charger(session, world)
    # Three sessions of 1.111 kWh in November (Berlin time); per-session rounding would give 3 × 0.37 = 1.11.
    for day in (3, 10, 17):
        make_transaction(session, charger, started_at=utc(2026, 11, day, 18), stopped_at=utc(2026, 11, day, 20),
                         energy_wh=1111)
    # Outside the month in local time: stopped 30 Nov 23:30 UTC = 1 Dec 00:30 in Berlin.
    make_transaction(session, charger, started_at=utc(2026, 11, 30, 22), stopped_at=utc(2026, 11, 30, 23, 30),
                     energy_wh=5000)
    assert billing.make_statements(session=session, org=org, month=Period(date(2026, 11, 1),
                                                                           date(2026, 11, 30))) == 1
    st = session.execute(select(ReimbursementStatement)).scalar_one()
    assert (st.session_count, st.energy_wh, st.rate) == (3, 3333, Decimal("0.3333"))
    assert st.amount == Decimal("1.11") == billing.reimbursement_amount(Decimal("0.3333"), 3333, "EUR")
    assert st.status == "payable"  # Employee: automated, a payable line
    # The same month again changes nothing.
    assert billing.make_statements(session=session, org=org, month=Period(date(2026, 11, 1),
                                                                           date(2026, 11, 30))) is None
    # The employee sees its statement; an Accounts user marks it paid.
    _, scope = customer_principal(session=session, token=login(session=session, email="boss@acme.test",
                                                               password=CUSTOMER_PASSWORD).token)
    assert [s.amount_text for s in billing.list_statements(session=session, scope=scope)] == ["€1.11"]


def test_subsidiary_statements_wait_for_an_accounts_user(session, world):
    org, boss, sub, charger = _employee_with_home_charger(session, world, rate="0.25", use="subsidiary")
    make_transaction(session, charger, started_at=utc(2026, 11, 3, 8), stopped_at=utc(2026, 11, 3, 9),
                     energy_wh=10_000)
    billing.make_statements(session=session, org=org, month=Period(date(2026, 11, 1), date(2026, 11, 30)))
    st = session.execute(select(ReimbursementStatement)).scalar_one()
    assert (st.status, st.amount) == ("awaiting", Decimal("2.50"))
    accounts_user = scope_for(session, make_user(session, role="accounts"))
    assert billing.mark_statement_paid(session=session, scope=accounts_user, statement_id=st.id).status == "paid"


def test_subscriptions_are_billed_exactly_once_under_two_workers(session, world, engine):
    org, boss, sub, charger = _employee_with_home_charger(session, world)
    card_plan = make_plan(session, world["scope"], org, name="Card", price="9.99", session_fee="0.50",
                          fee_kind="fixed", for_ac=False, for_dc=False)
    assets.activate_asset(session=session, scope=world["scope"], account_id=boss.account_id, kind="card",
                          id_tag="BOSS-CARD", plan_id=card_plan.id)
    now = utc(2026, 12, 2, 12)  # November closed (monthly cycle, day 1) and past the grace
    barrier, results, errors = threading.Barrier(2), [], []

    def worker():
        try:
            with Session(engine, expire_on_commit=False) as s:
                barrier.wait()
                results.append(billing.run_due(session=s, now=now))
        except Exception as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    invoices = session.execute(select(CustomerInvoice).order_by(CustomerInvoice.seq)).scalars().all()
    assert sum(r["customer_invoices"] for r in results) == len(invoices) == 2  # the boss's card, Ann's charger
    assert [i.number for i in invoices] == ["CUS-ALPHA-00001", "CUS-ALPHA-00002"]
    assert sorted(i.total for i in invoices) == [Decimal("4.00"), Decimal("9.99")]
    assert session.execute(select(func.count()).select_from(CustomerInvoiceLine)).scalar() == 2
    assert billing.run_due(session=session, now=now + timedelta(days=1)) == {"customer_invoices": 0,
                                                                            "reimbursement_statements": 0}


def test_renewals_count_monthly_and_yearly_dates_in_a_period():
    assert billing.renewals(date(2026, 1, 31), "month", date(2026, 2, 1), date(2026, 2, 28)) == 1  # 28 Feb
    assert billing.renewals(date(2026, 1, 15), "month", date(2026, 1, 1), date(2026, 3, 31)) == 3
    assert billing.renewals(date(2026, 1, 15), "year", date(2026, 2, 1), date(2026, 12, 31)) == 0
    assert billing.renewals(date(2026, 1, 15), "month", date(2026, 1, 1), date(2026, 3, 31), date(2026, 2, 1)) == 1
