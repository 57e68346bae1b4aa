"""What the worker does: a billing tick, and sending queued mail."""
from __future__ import annotations

import logging
from collections import Counter
from datetime import timedelta

from core.clock import utcnow
from core.config import get_settings
from core.db import session_scope
from services.access import invitations
from services.billing import cycles as billing_cycle
from services.billing import invoicing
from services.ocpp import frames as ocpp_frames
from services.ocpp import registry as ocpp_registry

log = logging.getLogger("worker")


def tick() -> dict[str, int]:
    """Invoice closed periods (catching up missed ones) and move unpaid invoices past due to Overdue."""
    with session_scope() as session:
        outcomes = billing_cycle.run_due_cycles(session=session)
    for o in outcomes:
        level = logging.WARNING if o.outcome == "failed" else logging.INFO
        log.log(level, "%s: %s – %s", o.organization, o.outcome, o.reason)
    with session_scope() as session:
        overdue = invoicing.mark_overdue(session=session)
    if overdue:
        log.info("overdue: %s", ", ".join(overdue))
    counts = Counter(o.outcome for o in outcomes)
    return {"made": counts["made"], "skipped": counts["skipped"], "failed": counts["failed"],
            "overdue": len(overdue)}


def send_mail() -> int:
    """Send the queued password-reset mails (services/access/invitations.py)."""
    with session_scope() as session:
        sent = invitations.deliver_password_resets(session=session)
    if sent:
        log.info("password reset mails sent: %s", sent)
    return sent


def sweep_ocpp_processes() -> int:
    """Chargers of an OCPP process that stopped renewing its liveness row go Offline (the OCPP processes sweep
    too; this covers the case where none is left). Returns how many."""
    dead_after = timedelta(seconds=get_settings().ocpp_process_dead_after_seconds)
    with session_scope() as session:
        offline = ocpp_registry.sweep_dead_processes(session=session, now=utcnow(), dead_after=dead_after)
    if offline:
        log.warning("%d chargers of dead OCPP processes marked Offline", len(offline))
    return len(offline)


def frame_log_partitions() -> list[str]:
    """The raw OCPP frame log: make the coming days' partitions, drop days past OCPP_FRAME_LOG_DAYS."""
    with session_scope() as session:
        dropped = ocpp_frames.maintain_partitions(session=session, today=utcnow().date(),
                                                  keep_days=get_settings().ocpp_frame_log_days)
    if dropped:
        log.info("frame log: dropped %s", ", ".join(dropped))
    return dropped
