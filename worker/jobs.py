"""What the worker does: a billing tick, and sending queued mail."""
from __future__ import annotations

import logging
from collections import Counter

from core.config import get_settings
from core.db import get_engine, session_scope
from models.grid import GridRegion
from services.access import invitations
from services.billing import cycles as billing_cycle
from services.billing import invoicing
from services.grid import monitor as grid_monitor
from services.grid import readings as grid_readings
from services.grid import regions as grid_regions
from services.grid import response as grid_response
from services.grid import sensors as grid_sensors

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


# --- grid monitor and demand response (services/grid) -------------------------------------------------------

def grid() -> dict[str, int]:
    """Read the regions in use, classify them, then run each organization's demand response."""
    with session_scope() as session:
        grid_regions.ensure_built_in(session=session)
        codes = grid_monitor.regions_in_use(session=session)
    failed = 0
    for code in codes:
        with session_scope() as session:
            result = grid_monitor.poll(session=session, region=session.get(GridRegion, code))
            failed += result.error is not None
    with session_scope() as session:
        grid_sensors.ask_chargers(session=session)
        grid_sensors.store_charger_readings(session=session)
        orgs = grid_response.organizations_to_run(session=session)
    for org_id in orgs:
        grid_response.step(engine=get_engine(), organization_id=org_id)
    return {"regions": len(codes), "failed": failed, "organizations": len(orgs)}


def grid_retention() -> int:
    with session_scope() as session:
        return grid_readings.delete_older_than(session=session, days=get_settings().grid_retention_days)
