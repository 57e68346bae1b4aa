"""Billing periods per organization: weekly, monthly or quarterly, starting on its billing day, in its timezone.

A period runs from its billing day to the day before the next one (both dates inclusive, local time).
It is invoiced once it has closed: at local midnight after its last day plus a grace period
(BILLING_GRACE_MINUTES) for late StopTransactions. The worker catches up every closed period not yet
covered, so a worker that was down over a billing day invoices the missed periods when it starts.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlmodel import Session

from core.clock import utcnow
from models import BillingRun, Invoice, Organization
from models.invoice import InvoiceKind, RunOutcome, RunTrigger
from models.organization import OrganizationKind
from services.access.permissions import Cap
from services.access.scope import Scope
from services.billing.invoicing import invoice_period
from services.billing.periods import (
    Period,
    invoiceable_from,
    local_today,
    period_containing,
)

# A worker that was down for years should not flood the books in one go; the rest follows on the next ticks.
MAX_CATCH_UP_PERIODS = 24


def run_at(org: Organization, period: Period) -> datetime:
    """When the worker invoices `period`: local midnight after it closes, plus the grace period (UTC)."""
    return invoiceable_from(period.end, org.timezone)


def covered_until(session: Session, org_id: int) -> date | None:
    """The last day of the schedule the worker has settled (invoiced, or nothing to bill, or already invoiced)."""
    return covered_until_by_org(session, [org_id]).get(org_id)


def covered_until_by_org(session: Session, org_ids: list[int]) -> dict[int, date]:
    """covered_until for many organizations in one query; an organization with nothing covered is absent.

    Only the worker's own runs count: a manual run (bulk, CLI, API) never moves the schedule, so every line of
    it stays a period of the organization's cycle. The worker then finds a manually invoiced period covered.
    """
    rows = session.execute(select(BillingRun.organization_id, func.max(BillingRun.period_end))
                           .where(BillingRun.organization_id.in_(org_ids), BillingRun.trigger == RunTrigger.WORKER,
                                  BillingRun.outcome.in_((RunOutcome.MADE, RunOutcome.SKIPPED)))
                           .group_by(BillingRun.organization_id))
    return {org_id: day for org_id, day in rows if day is not None}


def invoiced_until(session: Session, org_id: int) -> date | None:
    """The last day any invoice of the organization covers, however it was made."""
    return session.execute(select(func.max(Invoice.period_end)).where(
        Invoice.organization_id == org_id, Invoice.kind == InvoiceKind.INVOICE)).scalar()


def _first_open_period(session: Session, org: Organization) -> Period:
    return _open_period(org, covered_until(session, org.id))


def _open_period(org: Organization, done: date | None) -> Period:
    if done is None:
        return period_containing(org.billing_cycle, org.billing_day, local_today(org.timezone, org.created_at))
    first_day = done + timedelta(days=1)
    period = period_containing(org.billing_cycle, org.billing_day, first_day)
    # After a cycle change, bridge from the last covered day: never overlap.
    return Period(max(period.start, first_day), period.end)


def due_periods(session: Session, org: Organization, now: datetime | None = None) -> list[Period]:
    """Closed periods of `org` that are not invoiced yet, oldest first."""
    now = now or utcnow()
    period, due = _first_open_period(session, org), []
    while run_at(org, period) <= now and len(due) < MAX_CATCH_UP_PERIODS:
        due.append(period)
        start = period.end + timedelta(days=1)
        period = period_containing(org.billing_cycle, org.billing_day, start)
    return due


@dataclass(frozen=True)
class NextRun:
    organization_id: int
    organization: str
    billing_cycle: str
    billing_day: int
    timezone: str
    period_start: date
    period_end: date
    run_at: datetime  # UTC; in the past means the worker will catch it up on its next tick
    overdue_catch_up: bool


def next_runs(*, session: Session, scope: Scope, now: datetime | None = None) -> list[NextRun]:
    """The next scheduled billing run per organization in scope (the Finances page shows these)."""
    scope.require(Cap.VIEW_INVOICES)
    now = now or utcnow()
    orgs = session.execute(select(Organization).where(
        scope.org_filter(Organization.id), Organization.kind != OrganizationKind.OPERATOR)
        .order_by(Organization.name)).scalars().all()
    covered = covered_until_by_org(session, [org.id for org in orgs])
    rows = []
    for org in orgs:
        period = _open_period(org, covered.get(org.id))
        at = run_at(org, period)
        rows.append(NextRun(org.id, org.name, org.billing_cycle, org.billing_day, org.timezone,
                            period.start, period.end, at, at <= now))
    return rows


# A period whose run failed is retried on later ticks, but not more often than this (keeps the history readable).
RETRY_FAILED_AFTER = timedelta(hours=1)


def _failed_recently(session: Session, org_id: int, period: Period, now: datetime) -> bool:
    return session.execute(select(BillingRun.id).where(
        BillingRun.organization_id == org_id, BillingRun.period_start == period.start,
        BillingRun.period_end == period.end, BillingRun.outcome == RunOutcome.FAILED,
        BillingRun.started_at > now - RETRY_FAILED_AFTER).limit(1)).first() is not None


def run_due_cycles(*, session: Session, now: datetime | None = None, trigger: str = RunTrigger.WORKER) -> list:
    """Invoice every closed, not yet covered period of every client organization (catching up as needed).

    Safe to run in several workers at once: each (organization, period) is made once by the database's
    uniqueness and the per-organization lock; the others record 'skipped: already invoiced'.
    Returns the invoicing Outcomes, oldest period first per organization.
    """
    now = now or utcnow()
    batch = str(uuid.uuid4())
    orgs = session.execute(select(Organization).where(Organization.kind != OrganizationKind.OPERATOR)
                           .order_by(Organization.id)).scalars().all()
    session.commit()
    outcomes = []
    for org in orgs:
        for period in due_periods(session, org, now):
            if _failed_recently(session, org.id, period, now):
                break  # later periods wait for this one, so invoices stay in order
            # A manual invoice reaching into the period: invoice the rest, never the same days twice.
            invoiced = invoiced_until(session, org.id)
            start = invoiced + timedelta(days=1) if invoiced and period.start <= invoiced < period.end else period.start
            outcome = invoice_period(session=session, org=org, period_start=start, period_end=period.end,
                                     trigger=trigger, batch=batch)
            outcomes.append(outcome)
            if outcome.outcome == RunOutcome.FAILED:
                break
    return outcomes
