"""Bulk (manual) invoicing and the worker's schedule: only ended periods, and manual runs never move the schedule."""
from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import func, select

from core.clock import clock
from models import Invoice
from services.access.scope import scope_for
from services.billing import cycles as billing_cycle
from services.billing import invoicing
from tests.utils.factories import make_charger, make_org, make_priced_session, make_user


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def bulk(session, scope, start, end):
    return invoicing.generate_bulk(session=session, scope=scope, period_start=start, period_end=end)


def schedule(session, scope) -> dict[str, tuple[date, date]]:
    return {n.organization: (n.period_start, n.period_end)
            for n in billing_cycle.next_runs(session=session, scope=scope)}


def test_bulk_invoicing_refuses_the_open_current_month_and_future_periods(session):
    clock.set(utc(2026, 10, 1))
    org = make_org(session, slug="berlin", vat_rate=Decimal("19"))
    make_priced_session(session, make_charger(session, org), stopped_at=utc(2026, 11, 10), energy="10")
    scope = scope_for(session, make_user(session, role="accounts"))
    clock.set(utc(2026, 11, 20, 12))
    current = bulk(session, scope, date(2026, 11, 1), date(2026, 11, 30))
    assert current.outcomes[0].outcome == "skipped" and "has not ended yet" in current.outcomes[0].reason
    future = bulk(session, scope, date(2027, 5, 1), date(2027, 5, 31))
    assert "has not ended yet" in future.outcomes[0].reason
    assert session.execute(select(func.count()).select_from(Invoice)).scalar() == 0
    # Within the grace time after the last local midnight the period is still open; after it, it is invoiced.
    clock.set(utc(2026, 11, 30, 23, 30))  # 00:30 in Berlin on 1 December, grace 60 minutes
    assert "has not ended yet" in bulk(session, scope, date(2026, 11, 1), date(2026, 11, 30)).outcomes[0].reason
    clock.set(utc(2026, 12, 1, 0, 5))
    assert bulk(session, scope, date(2026, 11, 1), date(2026, 11, 30)).outcomes[0].outcome == "made"


def test_manual_runs_never_move_the_schedule_and_every_line_matches_the_cycle(session):
    clock.set(utc(2026, 1, 5))
    monthly = make_org(session, slug="monthly-org")
    quarterly = make_org(session, slug="quarterly-org", billing_cycle="quarterly")
    for org in (monthly, quarterly):
        make_priced_session(session, make_charger(session, org), stopped_at=utc(2026, 1, 3, 12), energy="5")
    scope = scope_for(session, make_user(session, role="accounts"))
    clock.set(utc(2026, 2, 10))
    before = schedule(session, scope)
    assert before == {"Monthly Org": (date(2026, 1, 1), date(2026, 1, 31)),
                      "Quarterly Org": (date(2026, 1, 1), date(2026, 3, 31))}
    bulk(session, scope, date(2026, 1, 1), date(2026, 1, 7))    # a partial week, invoiced
    bulk(session, scope, date(2027, 5, 1), date(2027, 5, 31))   # a future month, skipped everywhere
    bulk(session, scope, date(2025, 12, 1), date(2025, 12, 31))  # an ended month with nothing to bill
    assert schedule(session, scope) == before
    # The worker bills the rest of each cycle period after the manual week, never the same days twice.
    clock.set(utc(2026, 4, 2))
    billing_cycle.run_due_cycles(session=session)
    periods = session.execute(select(Invoice.organization_id, Invoice.period_start, Invoice.period_end)
                              .order_by(Invoice.organization_id, Invoice.period_start)).all()
    assert [(p.period_start, p.period_end) for p in periods if p.organization_id == quarterly.id] == [
        (date(2026, 1, 1), date(2026, 1, 7))]  # the quarter's only session was in the manual week
    assert schedule(session, scope)["Quarterly Org"] == (date(2026, 4, 1), date(2026, 6, 30))
    assert schedule(session, scope)["Monthly Org"] == (date(2026, 4, 1), date(2026, 4, 30))
