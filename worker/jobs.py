"""What the worker does: a billing tick, and sending queued mail."""
from __future__ import annotations

import asyncio
import logging
from collections import Counter
from datetime import timedelta

from core.clock import utcnow
from core.config import get_settings
from core.db import SYSTEM, get_system_engine, owner_session, session_scope
from models.grid import GridRegion
from services.access import invitations
from services.access.permissions import Role
from services.access.scope import Scope
from services.billing import cycles as billing_cycle
from services.billing import invoicing, owner_statements
from services.customers import billing as customer_billing_svc
from services.grid import monitor as grid_monitor
from services.grid import readings as grid_readings
from services.grid import regions as grid_regions
from services.grid import response as grid_response
from services.grid import sensors as grid_sensors
from services.grid.ven import VenRunner
from services.notifications import alerts as notification_alerts
from services.notifications import composer as notification_composer
from services.notifications import delivery as notification_delivery
from services.ocpp import commands
from services.ocpp import frames as ocpp_frames
from services.ocpp import registry as ocpp_registry
from services.payments import ledger as payment_ledger
from services.payments import reconciliation as payment_reconciliation
from services.payments import sessions as payment_sessions
from services.payments import webhooks as payment_webhooks

log = logging.getLogger("worker")


def tick() -> dict[str, int]:
    """Invoice closed periods (catching up missed ones) and move unpaid invoices past due to Overdue."""
    with session_scope(SYSTEM) as session:
        outcomes = billing_cycle.run_due_cycles(session=session)
    for o in outcomes:
        level = logging.WARNING if o.outcome == "failed" else logging.INFO
        log.log(level, "%s: %s – %s", o.organization, o.outcome, o.reason)
    with session_scope(SYSTEM) as session:
        overdue = invoicing.mark_overdue(session=session)
    if overdue:
        log.info("overdue: %s", ", ".join(overdue))
    counts = Counter(o.outcome for o in outcomes)
    # Issue 14: location owners' monthly commission statements, once per owner and closed month.
    with session_scope(SYSTEM) as session:
        statements = owner_statements.make_due_statements(session=session)
    if statements:
        log.info("commission statements made: %s", statements)
    return {"made": counts["made"], "skipped": counts["skipped"], "failed": counts["failed"],
            "overdue": len(overdue), "statements": statements}


def send_mail() -> int:
    """Send the queued password-reset mails (services/access/invitations.py)."""
    with session_scope(SYSTEM) as session:
        sent = invitations.deliver_password_resets(session=session)
    if sent:
        log.info("password reset mails sent: %s", sent)
    return sent


def customer_billing() -> dict[str, int]:
    """Customers (issue 9): subscription invoices of closed billing periods and last month's reimbursement
    statements, each exactly once (services/customers/billing.py)."""
    with session_scope(SYSTEM) as session:
        made = customer_billing_svc.run_due(session=session)
    if any(made.values()):
        log.info("customers: %s", made)
    return made
def notifications() -> dict[str, int]:
    """Evaluate the charger alert rules, then send what is queued (services/notifications/)."""
    now = utcnow()
    with session_scope(SYSTEM) as session:
        result = notification_alerts.evaluate(session=session, now=now)
    with session_scope(SYSTEM) as session:
        notification_composer.expand_due(session=session, now=now)
    sent = 0
    while True:
        with session_scope(SYSTEM) as session:
            tried = notification_delivery.deliver(session=session, now=now)
        sent += tried
        if tried < notification_delivery.BATCH:
            break
    if result.opened or result.resolved or result.escalated or sent:
        log.info("notifications: %s opened, %s resolved, %s escalated, %s sent", result.opened, result.resolved,
                 result.escalated, sent)
    return {"opened": result.opened, "resolved": result.resolved, "escalated": result.escalated, "sent": sent}


# --- Payments (issue 10) -------------------------------------------------------------------------------------
# The system acts for no user when it stops a session whose payment failed.
_PAYMENTS_SCOPE = Scope(user_id=0, role=Role.ADMIN, org_ids=None)


def payments() -> dict[str, int]:
    """Take the session payments the OCPP server left as intents, then stop wallet sessions that ran out."""
    with session_scope(SYSTEM) as session:
        pending = payment_sessions.pending_intents(session=session)
    stops = []
    for intent_id in pending:
        stops += payment_sessions.process_intent(intent_id)
    with session_scope(SYSTEM) as session:
        stops += payment_sessions.exhausted(session)
    with session_scope(SYSTEM) as session:
        payment_webhooks.apply_waiting(session=session)
    for stop in stops:
        with session_scope(SYSTEM) as session:
            cmd = commands.create_command(session=session, scope=_PAYMENTS_SCOPE, charger_id=stop.charger_id,
                                          action="RemoteStopTransaction",
                                          payload={"transactionId": stop.transaction_id})
            log.info("session %s: RemoteStopTransaction (%s): %s", stop.transaction_id, stop.reason, cmd.status)
    return {"intents": len(pending), "stops": len(stops)}


def reconciliation() -> dict[str, int]:
    """Compare each enabled gateway's settlement report with the ledger, for every closed day (UTC) of the last
    three that has no successful run yet: once a day in effect, catching up a missed night or a failed report."""
    today = utcnow().date()
    with session_scope(SYSTEM) as session:
        gateway_ids = payment_reconciliation.gateways_to_reconcile(session=session)
    runs = mismatches = failed = 0
    for gateway_id in gateway_ids:
        with session_scope(SYSTEM) as session:
            days = payment_reconciliation.days_due(session=session, gateway_id=gateway_id, today=today)
        for day in days:
            with session_scope(SYSTEM) as session:
                run = payment_reconciliation.reconcile_gateway(session=session, gateway_id=gateway_id, day=day)
                runs, mismatches, failed = runs + 1, mismatches + run.mismatches, failed + (run.status == "failed")
                if run.status != "matched":
                    log.warning("reconciliation of %s (gateway %s) for %s: %s, %s mismatches %s", run.gateway,
                                gateway_id, day, run.status, run.mismatches, run.message or "")
    return {"runs": runs, "mismatches": mismatches, "failed": failed}


def ledger_check() -> bool:
    """The nightly ledger check: every account sums to zero per organization and currency, every journal
    balances, every wallet's cache equals its entries. A mismatch is logged as an error (the alert)."""
    with session_scope(SYSTEM) as session:
        check = payment_ledger.check_ledger(session)
    for b in check.books:
        log.error("LEDGER ALERT: organization %s, %s: the accounts sum to %s, not 0", b.organization_id,
                  b.currency, b.total)
    for journal in check.journals:
        log.error("LEDGER ALERT: journal %s does not balance", journal)
    for w in check.wallets:
        log.error("LEDGER ALERT: wallet %s caches balance %s / held %s, its entries sum to %s / %s", w.wallet_id,
                  w.cached_balance, w.cached_held, w.ledger_balance, w.ledger_held)
    if check.ok:
        log.info("ledger check: balanced")
    return check.ok


# --- grid monitor and demand response (services/grid) -------------------------------------------------------

def grid() -> dict[str, int]:
    """Read the regions in use, classify them, then run each organization's demand response."""
    with session_scope(SYSTEM) as session:
        grid_regions.ensure_built_in(session=session)
        codes = grid_monitor.regions_in_use(session=session)
    failed = 0
    for code in codes:
        with session_scope(SYSTEM) as session:
            result = grid_monitor.poll(session=session, region=session.get(GridRegion, code))
            failed += result.error is not None
    with session_scope(SYSTEM) as session:
        grid_sensors.ask_chargers(session=session)
        grid_sensors.store_charger_readings(session=session)
        orgs = grid_response.organizations_to_run(session=session)
    for org_id in orgs:
        grid_response.step(engine=get_system_engine(), organization_id=org_id)
    return {"regions": len(codes), "failed": failed, "organizations": len(orgs)}


def openadr_vens() -> None:
    """The organizations' OpenADR 2.0b VENs (services/grid/ven.py), for as long as the worker runs: their
    VTNs' events become demand-response events, which the `grid` job applies."""
    asyncio.run(VenRunner(sessions=lambda: session_scope(SYSTEM)).run())


def grid_retention() -> int:
    with session_scope(SYSTEM) as session:
        return grid_readings.delete_older_than(session=session, days=get_settings().grid_retention_days)


def sweep_ocpp_processes() -> int:
    """Chargers of an OCPP process that stopped renewing its liveness row go Offline (the OCPP processes sweep
    too; this covers the case where none is left). Returns how many."""
    dead_after = timedelta(seconds=get_settings().ocpp_process_dead_after_seconds)
    with session_scope(SYSTEM) as session:
        offline = ocpp_registry.sweep_dead_processes(session=session, now=utcnow(), dead_after=dead_after)
    if offline:
        log.warning("%d chargers of dead OCPP processes marked Offline", len(offline))
    return len(offline)


def frame_log_partitions() -> list[str]:
    """The raw OCPP frame log: make the coming days' partitions, drop days past OCPP_FRAME_LOG_DAYS."""
    with owner_session() as session:  # DDL: only the tables' owner may add and drop partitions
        dropped = ocpp_frames.maintain_partitions(session=session, today=utcnow().date(),
                                                  keep_days=get_settings().ocpp_frame_log_days)
    if dropped:
        log.info("frame log: dropped %s", ", ".join(dropped))
    return dropped
