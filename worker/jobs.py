"""What the worker does: a billing tick, and sending queued mail."""
from __future__ import annotations

import logging
from collections import Counter

from core.db import SYSTEM, session_scope
from services.access import invitations
from services.billing import cycles as billing_cycle
from services.billing import invoicing

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
    return {"made": counts["made"], "skipped": counts["skipped"], "failed": counts["failed"],
            "overdue": len(overdue)}


def send_mail() -> int:
    """Send the queued password-reset mails (services/access/invitations.py)."""
    with session_scope(SYSTEM) as session:
        sent = invitations.deliver_password_resets(session=session)
    if sent:
        log.info("password reset mails sent: %s", sent)
    return sent
