"""`python -m worker`: the billing worker process, which also sends queued mail.

APScheduler runs one job every BILLING_WORKER_INTERVAL_SECONDS, the first right at start so missed periods
are caught up. Several workers may run at once; the database makes each invoice exactly once.
`python -m worker --once` runs a single tick and exits (cron, tests, operators).
"""
from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from datetime import UTC, datetime

from apscheduler.schedulers.blocking import BlockingScheduler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m worker", description="Voltdesk billing worker.")
    parser.add_argument("--once", action="store_true", help="run one billing tick, send queued mail and exit")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)

    from core.config import get_settings
    from services.access.audit import record_system_scope
    from worker.jobs import (
        customer_billing,
        frame_log_partitions,
        grid,
        grid_retention,
        ledger_check,
        notifications,
        openadr_vens,
        payments,
        reconciliation,
        send_mail,
        sweep_ocpp_processes,
        tick,
    )

    record_system_scope(process="worker")
    settings = get_settings()
    if args.once:
        print(tick(), send_mail(), customer_billing(), notifications(), payments())
        return 0
    scheduler = BlockingScheduler(timezone=UTC)
    scheduler.add_job(tick, "interval", seconds=settings.billing_worker_interval_seconds, id="billing",
                      next_run_time=datetime.now(UTC), coalesce=True, max_instances=1,
                      misfire_grace_time=settings.billing_worker_interval_seconds)
    scheduler.add_job(send_mail, "interval", seconds=settings.mail_worker_interval_seconds, id="mail",
                      next_run_time=datetime.now(UTC), coalesce=True, max_instances=1)
    scheduler.add_job(customer_billing, "interval", seconds=settings.billing_worker_interval_seconds,
                      id="customers", next_run_time=datetime.now(UTC), coalesce=True, max_instances=1)
    scheduler.add_job(notifications, "interval", seconds=settings.notifications_interval_seconds,
                      id="notifications", next_run_time=datetime.now(UTC), coalesce=True, max_instances=1)
    # Payments (issue 10): session payments off the OCPP event loop, and wallets that run out.
    scheduler.add_job(payments, "interval", seconds=settings.payments_worker_interval_seconds, id="payments",
                      next_run_time=datetime.now(UTC), coalesce=True, max_instances=1)
    # The gateways' settlement reports against the ledger, for closed days not yet reconciled (hourly, so a
    # missed night or a failed report is caught up; each gateway's day is reconciled once).
    scheduler.add_job(reconciliation, "interval", hours=1, id="reconciliation", next_run_time=datetime.now(UTC),
                      coalesce=True, max_instances=1)
    # The nightly ledger check (every account sums to zero per currency; wallets equal their entries).
    scheduler.add_job(ledger_check, "cron", hour=2, minute=15, id="ledger_check", coalesce=True, max_instances=1)
    scheduler.add_job(grid, "interval", seconds=settings.grid_poll_seconds, id="grid",
                      next_run_time=datetime.now(UTC), coalesce=True, max_instances=1)
    scheduler.add_job(grid_retention, "interval", hours=1, id="grid_retention", coalesce=True, max_instances=1)
    # OCPP processes that died: their chargers Offline within seconds (services/ocpp/registry.py).
    scheduler.add_job(sweep_ocpp_processes, "interval", seconds=settings.ocpp_process_renew_seconds,
                      id="ocpp_processes", coalesce=True, max_instances=1)
    # The raw OCPP frame log keeps OCPP_FRAME_LOG_DAYS days (services/ocpp/frames.py).
    scheduler.add_job(frame_log_partitions, "interval", hours=1, id="frame_log", next_run_time=datetime.now(UTC),
                      coalesce=True, max_instances=1)
    # OpenADR VENs (issue 16) poll their VTNs on an asyncio loop of their own.
    threading.Thread(target=openadr_vens, name="openadr-vens", daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *_: scheduler.shutdown(wait=False))
    logging.getLogger("worker").info("billing worker started; every %ss", settings.billing_worker_interval_seconds)
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
