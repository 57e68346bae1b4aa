"""Billing cycles: periods per organization, catch-up after downtime, exactly once across workers, overdue."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from core.clock import clock
from core.config import ROOT
from models import BillingRun, Invoice, Organization, Transaction
from services.access.scope import scope_for
from services.billing import cycles as billing_cycle
from services.billing import invoicing
from services.billing.periods import Period, period_containing
from tests.utils.factories import make_charger, make_org, make_priced_session, make_user


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize("cycle, day, on, expected", [
    ("monthly", 1, date(2026, 3, 15), Period(date(2026, 3, 1), date(2026, 3, 31))),
    ("monthly", 5, date(2026, 3, 4), Period(date(2026, 2, 5), date(2026, 3, 4))),
    ("monthly", 28, date(2026, 1, 2), Period(date(2025, 12, 28), date(2026, 1, 27))),
    ("weekly", 1, date(2026, 11, 21), Period(date(2026, 11, 16), date(2026, 11, 22))),  # Monday to Sunday
    ("weekly", 7, date(2026, 11, 21), Period(date(2026, 11, 15), date(2026, 11, 21))),
    ("quarterly", 1, date(2026, 5, 20), Period(date(2026, 4, 1), date(2026, 6, 30))),
    ("quarterly", 10, date(2026, 1, 5), Period(date(2025, 10, 10), date(2026, 1, 9))),
])
def test_billing_periods_start_on_the_billing_day(cycle, day, on, expected):
    assert period_containing(cycle, day, on) == expected


@pytest.fixture
def berlin(session):
    """A monthly Berlin organization created in January 2026, with sessions in Jan, Feb and April."""
    clock.set(utc(2026, 1, 10))
    org = make_org(session, slug="berlin", vat_rate=Decimal("19"), payment_terms_days=14)
    ch = make_charger(session, org)
    for month in (1, 2, 4):
        make_priced_session(session, ch, stopped_at=utc(2026, month, 20), energy="10.00")
    return org


def run(session, now):
    clock.set(now)
    return billing_cycle.run_due_cycles(session=session)


def test_nothing_runs_before_the_period_has_closed_in_the_organizations_timezone(session, berlin):
    # Berlin midnight on 1 Feb is 23:00 UTC on 31 Jan; the run waits one more hour of grace.
    assert run(session, utc(2026, 1, 31, 23, 59)) == []
    outcomes = run(session, utc(2026, 2, 1, 0, 0))
    assert [(o.outcome, o.number) for o in outcomes] == [("made", "INV-BERLIN-00001")]
    inv = session.execute(select(Invoice)).scalar_one()
    assert (inv.period_start, inv.period_end, inv.status) == (date(2026, 1, 1), date(2026, 1, 31), "draft")


def test_after_downtime_the_worker_catches_up_every_missed_period_once(session, berlin):
    run(session, utc(2026, 2, 1, 6))  # January
    # The worker was down from early February to mid May.
    outcomes = run(session, utc(2026, 5, 15, 9))
    assert [(o.outcome, o.reason.split(":")[0]) for o in outcomes] == [
        ("made", "Invoice INV-BERLIN-00002 created."), ("skipped", "Nothing to bill"),
        ("made", "Invoice INV-BERLIN-00003 created.")]
    periods = session.execute(select(Invoice.period_start).order_by(Invoice.seq)).scalars().all()
    assert periods == [date(2026, 1, 1), date(2026, 2, 1), date(2026, 4, 1)]
    assert run(session, utc(2026, 5, 20)) == []  # nothing twice
    admin = scope_for(session, make_user(session, role="accounts"))
    nxt = billing_cycle.next_runs(session=session, scope=admin)
    assert [(n.organization, n.period_start, n.period_end, n.run_at) for n in nxt] == [
        ("Berlin", date(2026, 5, 1), date(2026, 5, 31), utc(2026, 5, 31, 23))]  # 00:00 CEST = 22:00 UTC, + 1 h
    history = invoicing.billing_runs(session=session, scope=admin)
    assert [(h["period_start"].month, h["outcome"]) for h in history] == [(4, "made"), (3, "skipped"), (2, "made"),
                                                                          (1, "made")]


def test_the_schedule_of_many_organizations_takes_each_ones_own_covered_days(session, berlin):
    lisbon = make_org(session, slug="lisbon", timezone="Europe/Lisbon")  # created 10 January, nothing invoiced
    make_org(session, slug="oslo", timezone="Europe/Oslo")
    run(session, utc(2026, 3, 5))  # Berlin: January and February
    nxt = billing_cycle.next_runs(session=session, scope=scope_for(session, make_user(session, role="accounts")))
    by_name = {n.organization: (n.period_start, n.period_end) for n in nxt}
    assert by_name["Berlin"] == (date(2026, 3, 1), date(2026, 3, 31))
    assert by_name[lisbon.name] == (date(2026, 3, 1), date(2026, 3, 31))  # Jan and Feb settled: nothing to bill
    for n in nxt:  # the same as one organization at a time
        org = session.get(Organization, n.organization_id)
        assert Period(n.period_start, n.period_end) == billing_cycle._first_open_period(session, org)


def test_two_workers_on_one_period_make_one_invoice(session, engine, berlin):
    clock.set(utc(2026, 2, 1, 6))
    barrier, results, errors = threading.Barrier(2), [], []

    def worker():
        try:
            with Session(engine, expire_on_commit=False) as s:
                barrier.wait()
                results.extend(billing_cycle.run_due_cycles(session=s))
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    # One made it; the other either lost the race ('skipped: already invoiced') or found the period covered.
    assert [o.outcome for o in results].count("made") == 1
    assert all(o.outcome in ("made", "skipped") for o in results)
    assert session.execute(select(func.count()).select_from(Invoice)).scalar() == 1


def test_two_worker_processes_started_together_invoice_each_period_once(session, berlin, database_url):
    # Real processes on the real clock: the organization's history lies in the past.
    now = datetime.now(UTC)
    org = session.get(Organization, berlin.id)
    org.created_at = now - timedelta(days=80)
    ch = make_charger(session, org)
    for days in (75, 45, 15):
        make_priced_session(session, ch, stopped_at=now - timedelta(days=days), energy="3.00")
    session.commit()
    env = {**os.environ, "DATABASE_URL": database_url}
    procs = [subprocess.Popen([sys.executable, "-m", "worker", "--once"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    session.expire_all()
    invoices = session.execute(select(Invoice.period_start, func.count()).group_by(Invoice.period_start)).all()
    assert invoices and all(n == 1 for _, n in invoices)
    made = session.execute(select(func.count()).select_from(BillingRun).where(BillingRun.outcome == "made")).scalar()
    assert made == len(invoices)


def test_sent_invoices_become_overdue_the_day_after_the_due_date_in_local_time(session, berlin):
    run(session, utc(2026, 2, 1, 6))  # January, issued 1 Feb, due 15 Feb (14 days)
    admin = scope_for(session, make_user(session, role="accounts"))
    inv = session.execute(select(Invoice)).scalar_one()
    assert inv.due_date == date(2026, 2, 15)
    assert invoicing.mark_overdue(session=session, now=utc(2026, 2, 20)) == []  # a draft is not overdue
    invoicing.change_status(session=session, scope=admin, invoice_id=inv.id, status="sent")
    assert invoicing.mark_overdue(session=session, now=utc(2026, 2, 15, 22, 59)) == []  # 23:59 on 15 Feb in Berlin
    assert invoicing.mark_overdue(session=session, now=utc(2026, 2, 15, 23, 0)) == ["INV-BERLIN-00001"]
    assert invoicing.mark_overdue(session=session, now=utc(2026, 2, 16, 9)) == []  # once
    detail = invoicing.get_invoice(session=session, scope=admin, invoice_id=inv.id)
    assert detail.status == "overdue"
    assert (detail.history[-1].from_status, detail.history[-1].to_status, detail.history[-1].changed_by) == (
        "sent", "overdue", "system")
    paid = invoicing.change_status(session=session, scope=admin, invoice_id=inv.id, status="paid")
    assert paid.status == "paid"


def test_a_failed_period_is_retried_later_and_holds_back_the_next_ones(session, berlin):
    make_priced_session(session, make_charger(session, berlin), stopped_at=utc(2026, 1, 25), energy="1", priced=False)
    outcomes = run(session, utc(2026, 3, 2))
    assert [o.outcome for o in outcomes] == ["failed"]
    assert "not priced yet" in outcomes[0].reason
    assert run(session, utc(2026, 3, 2, 0, 30)) == []  # not retried every tick
    tx = session.execute(select(Transaction).where(Transaction.priced_at.is_(None))).scalar_one()
    tx.priced_at, tx.amount_gross, tx.amount_net_cpo = utc(2026, 3, 2), Decimal("1.00"), Decimal("1.00")
    for col in ("amount_energy", "amount_subtotal"):
        setattr(tx, col, Decimal("1.00"))
    for col in ("amount_time", "amount_session_fee", "amount_idle", "amount_vat", "amount_ssc", "amount_gateway",
                "amount_platform", "amount_location_owner"):
        setattr(tx, col, Decimal("0"))
    session.commit()
    outcomes = run(session, utc(2026, 3, 2, 2))
    assert [(o.outcome, o.number) for o in outcomes] == [("made", "INV-BERLIN-00001"), ("made", "INV-BERLIN-00002")]
