"""Finances and Transactions at scale: 10,000 chargers, 5,000,000 sessions, 50 organizations.

    python -m bench.finance                 # create, migrate and seed a scratch database (~6 min), then time
    python -m bench.finance --reuse         # time again on the database seeded before (migrating it first)
    python -m bench.finance --reuse --runs 40

Times every view of both pages through the same service calls the pages make, per role: admin (all
organizations), CPO (one organization), location owner. Prints the median, p95 and fastest run in
milliseconds. The data is bench/seed_bulk.py's, made like bench/dashboard.py's in its own database.
"""
from __future__ import annotations

import argparse
import os
import sys
from datetime import timedelta

os.environ.setdefault("DEMO_MODE", "1")

from bench.dashboard import ADMIN_URL, _time, prepare, scopes_at, upgrade_only  # noqa: E402

DB_NAME = "voltdesk_bench_finance"
PAGE = 20      # state/finances.py PAGE_SIZE
TX_PAGE = 25   # state/transactions.py PAGE_SIZE
BREAKDOWN_PAGE = 20  # state/transactions.py BREAKDOWN_PAGE_SIZE


def run(url: str, runs: int) -> None:
    from sqlmodel import Session

    from core.clock import utcnow
    from core.db import get_engine
    from services.access.permissions import Cap
    from services.billing import cycles, finance, invoicing
    from services.charging import transactions as tx

    scopes = scopes_at(url)
    last_month_end = utcnow().date().replace(day=1) - timedelta(days=1)
    month = tx.TxFilter(date_from=last_month_end.replace(day=1), date_to=last_month_end)
    print(f"{'role':<18} {'measure':<52} {'median ms':>10} {'p95 ms':>8} {'min ms':>8}")
    for name, scope in scopes.items():
        with Session(get_engine()) as s:
            scope.enter(s)  # the application role under row-level security, as the pages run

            def finances_load(sc=scope):
                totals = finance.organization_totals(session=s, scope=sc)
                finance.currency_figures(totals)
                finance.count_chargers(session=s, scope=sc)
                finance.revenue_by_charger(session=s, scope=sc, limit=PAGE, offset=0)
                if sc.can(Cap.VIEW_INVOICES):  # as the page: billing schedule and runs
                    cycles.next_runs(session=s, scope=sc)
                    invoicing.billing_runs(session=s, scope=sc, limit=50)

            def tx_list(f, sc=scope):
                tx.list_transactions(session=s, scope=sc, filters=f, limit=TX_PAGE, offset=0)

            def tx_load(f, sc=scope):
                tx_list(f, sc)
                tx.charger_breakdown_page(session=s, scope=sc, filters=f, limit=BREAKDOWN_PAGE)
                tx.energy_analytics(session=s, scope=sc, filters=f, granularity="day")
                tx.display_timezone(session=s, scope=sc)

            measures = [
                ("finances load (totals, tree, page 1, billing)", finances_load),
                ("  totals + tree (organization roll-ups)",
                 lambda sc=scope: finance.organization_totals(session=s, scope=sc)),
                ("  charger table page (20 chargers, 4 periods)",
                 lambda sc=scope: finance.revenue_by_charger(session=s, scope=sc, limit=PAGE, offset=PAGE)),
                ("  charger table search 'Charger 1'",
                 lambda sc=scope: (finance.count_chargers(session=s, scope=sc, search="Charger 1"),
                                   finance.revenue_by_charger(session=s, scope=sc, search="Charger 1", limit=PAGE))),
            ]
            for label, f in (("30 days", tx.TxFilter(preset="30d")), ("365 days", tx.TxFilter(preset="365d")),
                             (f"custom {month.date_from:%Y-%m}", month)):
                measures += [
                    (f"transactions load, {label}", lambda f=f: tx_load(f)),
                    (f"  list + count + totals, {label}", lambda f=f: tx_list(f)),
                    (f"  per-charger breakdown (page of 20), {label}",
                     lambda f=f, sc=scope: tx.charger_breakdown_page(session=s, scope=sc, filters=f,
                                                                     limit=BREAKDOWN_PAGE)),
                    (f"  energy chart by day, {label}",
                     lambda f=f, sc=scope: tx.energy_analytics(session=s, scope=sc, filters=f)),
                ]
            for label, fn in measures:
                median, p95, fastest = _time(fn, runs)
                print(f"{name:<18} {label:<52} {median:>10.1f} {p95:>8.1f} {fastest:>8.1f}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reuse", action="store_true", help="time the database seeded by an earlier run")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--orgs", type=int, default=50)
    parser.add_argument("--chargers", type=int, default=10_000)
    parser.add_argument("--sessions", type=int, default=5_000_000)
    args = parser.parse_args(argv)
    from bench.seed_bulk import create_database

    url = ADMIN_URL.rsplit("/", 1)[0] + f"/{DB_NAME}"
    if args.reuse:
        upgrade_only(url)
    else:
        url = create_database(ADMIN_URL, DB_NAME)
        prepare(url, orgs=args.orgs, chargers=args.chargers, sessions=args.sessions)
    with open("/proc/loadavg") as f:
        print(f"load average before: {f.read().strip()}")
    run(url, args.runs)
    with open("/proc/loadavg") as f:
        print(f"load average after: {f.read().strip()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
