"""The daily reconciliation: each gateway's settlement report for a day compared with our ledger.

Per payment reference, the gateway's net for the day (captures less refunds on its report) is compared with the
ledger's net through that gateway (the payment's `clearing` entries of the day, negated: a capture or a card
top-up takes clearing down by what the gateway collected, a refund puts it back). Every difference is a
mismatch: money the gateway moved that our ledger does not have, money our ledger moved that the gateway does not
show, or different amounts (or currencies). A run per gateway and day, replaced when run again; a report that
cannot be read leaves a failed run, tried again next time. The worker runs yesterday (UTC) once a day; the
dashboard can run today so far.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session

from core.clock import utcnow
from core.errors import ValidationError
from core.money import round_money
from models import LedgerEntry, Organization, Payment, PaymentGateway, ReconciliationMismatch, ReconciliationRun
from models.payment import Bucket, MismatchKind, ReconciliationStatus
from services.access.permissions import Cap
from services.access.scope import Scope
from services.payments.calls import call
from services.payments.gateway_config import adapter_for
from services.payments.gateways.base import GatewayError, GatewayTimeout, GatewayUnavailable

PANEL_DAYS = 7


@dataclass(frozen=True)
class RunRow:
    id: int
    organization_id: int
    organization: str
    gateway: str
    day: date
    status: str
    gateway_lines: int
    ledger_payments: int
    mismatches: int
    message: str | None
    ran_at: datetime


@dataclass(frozen=True)
class MismatchRow:
    id: int
    organization: str
    gateway: str
    day: date
    payment_reference: str
    payment_id: int | None
    kind: str
    currency: str
    gateway_amount: Decimal | None
    ledger_amount: Decimal | None
    detail: str


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=UTC)
    return start, start + timedelta(days=1)


def _ledger_side(session: Session, g: PaymentGateway, day: date) -> dict[str, tuple[int, Decimal, str]]:
    """reference → (payment id, net collected through the gateway that day, currency)."""
    start, end = _day_bounds(day)
    rows = session.execute(
        select(Payment.reference, Payment.id, LedgerEntry.currency, func.sum(LedgerEntry.amount))
        .join(LedgerEntry, LedgerEntry.payment_id == Payment.id)
        .where(Payment.payment_gateway_id == g.id, LedgerEntry.bucket == Bucket.CLEARING,
               LedgerEntry.created_at >= start, LedgerEntry.created_at < end)
        .group_by(Payment.reference, Payment.id, LedgerEntry.currency)).all()
    return {ref: (pid, -Decimal(total), currency) for ref, pid, currency, total in rows}


def reconcile_gateway(*, session: Session, gateway_id: int, day: date) -> ReconciliationRun:
    """Compare one gateway's report for `day` with the ledger; the run (its mismatches written with it)."""
    g = session.get(PaymentGateway, gateway_id)
    if g is None:
        raise ValidationError("No such gateway.", "gateway")
    org = session.get(Organization, g.organization_id)
    session.execute(delete(ReconciliationRun).where(ReconciliationRun.gateway_id == g.id,
                                                    ReconciliationRun.day == day))
    run = ReconciliationRun(organization_id=g.organization_id, gateway_id=g.id, gateway=g.gateway, day=day,
                            status=ReconciliationStatus.MATCHED, ran_at=utcnow())
    try:
        lines = call(g.id, "settlement", lambda: adapter_for(g).settlement(day=day.isoformat()),
                     per_second=g.rate_limit_per_second)
    except (GatewayError, GatewayTimeout, GatewayUnavailable) as exc:
        run.status, run.message = ReconciliationStatus.FAILED, f"The report could not be read: {exc}"[:300]
        session.add(run)
        session.flush()
        return run
    theirs: dict[str, tuple[Decimal, str]] = defaultdict(lambda: (Decimal(0), ""))
    for ln in lines:
        net, _ = theirs[ln.payment_reference]
        theirs[ln.payment_reference] = (net + (ln.amount if ln.kind == "capture" else -ln.amount),
                                        ln.currency or org.currency)
    ours = _ledger_side(session, g, day)
    run.gateway_lines, run.ledger_payments = len(lines), len(ours)
    session.add(run)
    session.flush()
    known = dict(session.execute(select(Payment.reference, Payment.id).where(
        Payment.organization_id == g.organization_id, Payment.reference.in_(list(theirs)))).all()) if theirs else {}
    found = []
    for ref in sorted(set(theirs) | set(ours)):
        g_net, g_cur = theirs[ref] if ref in theirs else (None, None)
        pid, l_net, l_cur = ours.get(ref, (known.get(ref), None, None))
        currency = g_cur or l_cur or org.currency
        if g_net is not None and l_net is None:
            if g_net == 0:
                continue
            kind, detail = MismatchKind.MISSING_IN_LEDGER, "On the gateway's report, not in our ledger."
        elif l_net is not None and g_net is None:
            if l_net == 0:
                continue
            kind, detail = MismatchKind.MISSING_AT_GATEWAY, "In our ledger, not on the gateway's report."
        elif g_net != l_net or g_cur != l_cur:
            kind, detail = MismatchKind.AMOUNT_DIFFERS, "The gateway and our ledger differ."
        else:
            continue
        found.append(dict(run_id=run.id, organization_id=g.organization_id, gateway=g.gateway, day=day,
                          payment_reference=ref[:64], payment_id=pid, kind=kind, currency=currency[:3],
                          gateway_amount=g_net, ledger_amount=l_net, detail=detail))
    if found:
        session.execute(insert(ReconciliationMismatch), found)
        run.status = ReconciliationStatus.MISMATCHED
    run.mismatches = len(found)
    session.add(run)
    session.flush()
    return run


def gateways_to_reconcile(*, session: Session, organization_ids: list[int] | None = None) -> list[int]:
    """Every enabled gateway (of these organizations), in id order."""
    q = select(PaymentGateway.id).where(PaymentGateway.enabled.is_(True))
    if organization_ids is not None:
        q = q.where(PaymentGateway.organization_id.in_(organization_ids))
    return list(session.execute(q.order_by(PaymentGateway.id)).scalars())


def days_due(*, session: Session, gateway_id: int, today: date, back: int = 3) -> list[date]:
    """The last `back` closed days (UTC) this gateway has no successful run for, oldest first: a missed night
    or a failed report is caught up."""
    wanted = [today - timedelta(days=n) for n in range(back, 0, -1)]
    done = set(session.execute(select(ReconciliationRun.day).where(
        ReconciliationRun.gateway_id == gateway_id, ReconciliationRun.day.in_(wanted),
        ReconciliationRun.status != ReconciliationStatus.FAILED)).scalars())
    return [d for d in wanted if d not in done]


def reconcile_now(*, session: Session, scope: Scope, day: date | None = None) -> list[RunRow]:
    """The dashboard's button: every enabled gateway of the organizations in scope, for `day` (today)."""
    scope.require(Cap.MANAGE_PAYMENTS)
    day = day or utcnow().date()
    if day > utcnow().date():
        raise ValidationError("A day in the future has nothing to reconcile.", "day")
    ids = list(session.execute(select(PaymentGateway.id).where(scope.payment_filter(PaymentGateway),
                                                               PaymentGateway.enabled.is_(True))
                               .order_by(PaymentGateway.id)).scalars())
    runs = [reconcile_gateway(session=session, gateway_id=gid, day=day) for gid in ids]
    return [_run_row(r, session.get(Organization, r.organization_id).name) for r in runs]


def _run_row(r: ReconciliationRun, org: str) -> RunRow:
    return RunRow(r.id, r.organization_id, org, r.gateway, r.day, r.status, r.gateway_lines, r.ledger_payments,
                  r.mismatches, r.message, r.ran_at)


@dataclass(frozen=True)
class Panel:
    runs: list[RunRow]
    mismatches: list[MismatchRow]


def panel(*, session: Session, scope: Scope, organization_id: int | None = None, days: int = PANEL_DAYS,
          limit: int = 200) -> Panel:
    """The reconciliation panel: the last `days` days' runs and their mismatches, newest first."""
    scope.require(Cap.VIEW_PAYMENTS)
    since = utcnow().date() - timedelta(days=days)
    rq = (select(ReconciliationRun, Organization.name).join(Organization,
                                                            Organization.id == ReconciliationRun.organization_id)
          .where(scope.payment_filter(ReconciliationRun), ReconciliationRun.day >= since))
    mq = (select(ReconciliationMismatch, Organization.name)
          .join(Organization, Organization.id == ReconciliationMismatch.organization_id)
          .where(scope.payment_filter(ReconciliationMismatch), ReconciliationMismatch.day >= since))
    if organization_id is not None:
        rq = rq.where(ReconciliationRun.organization_id == organization_id)
        mq = mq.where(ReconciliationMismatch.organization_id == organization_id)
    runs = session.execute(rq.order_by(ReconciliationRun.day.desc(), ReconciliationRun.gateway)
                           .limit(limit)).all()
    rows = session.execute(mq.order_by(ReconciliationMismatch.day.desc(), ReconciliationMismatch.id)
                           .limit(limit)).all()
    return Panel([_run_row(r, org) for r, org in runs],
                 [MismatchRow(m.id, org, m.gateway, m.day, m.payment_reference, m.payment_id, m.kind, m.currency,
                              None if m.gateway_amount is None else round_money(Decimal(m.gateway_amount), m.currency),
                              None if m.ledger_amount is None else round_money(Decimal(m.ledger_amount), m.currency),
                              m.detail) for m, org in rows])
