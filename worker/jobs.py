"""What the worker does: a billing tick, and sending queued mail."""
from __future__ import annotations

import logging
from collections import Counter

from core.clock import utcnow
from core.db import SYSTEM, session_scope
from services.access import invitations
from services.billing import cycles as billing_cycle
from services.billing import invoicing, owner_statements
from services.customers import billing as customer_billing_svc
from services.notifications import alerts as notification_alerts
from services.notifications import composer as notification_composer
from services.notifications import delivery as notification_delivery

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
