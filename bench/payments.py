"""Payments benchmark: N customer sessions start and stop concurrently against the stand-in gateways.

    python bench/payments.py [--sessions 1000] [--threads 8] [--workers 2]

Makes a scratch database on the local PostgreSQL (or BENCH_SERVER_URL), starts the CyberSource and Amex stand-ins
in this process, and runs N sessions (a third on wallets, the rest on cards routed to both gateways) through the
OCPP service functions from --threads threads, then the worker's payment job from --workers threads. Prints:
- payments per second (authorizations after the starts, captures/voids after the stops);
- the time StopTransaction spends writing the payment intent (the only money work on the OCPP path: one INSERT in
  the stop's own transaction, no commit of its own), p50/p99, and this process's CPU per StopTransaction;
- the command and the load average at start and at end (timings under load are not comparable; CPU is);
- whether the ledger balances to the cent: every wallet equals its entries, every journal sums to zero, every
  account sums to zero per currency (the nightly check), what we captured per gateway equals what the stand-in
  recorded, and the day's reconciliation of each gateway's settlement report finds no mismatch;
- the payments dashboard's reads over those payments (the first page with totals, gateway health and the
  reconciliation panel, as the page loads them), p50/p99 over --dashboard-runs.
"""
from __future__ import annotations

import argparse
import os
import secrets
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DEMO_MODE", "1")
os.environ.setdefault("PAYMENTS_RATE_LIMIT_STORAGE", "redis://127.0.0.1:6379/2")

import httpx  # noqa: E402
import psycopg  # noqa: E402

SERVER = os.environ.get("BENCH_SERVER_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--dashboard-runs", type=int, default=50)
    args = parser.parse_args(argv)
    print("command: python bench/payments.py " + " ".join(argv if argv is not None else sys.argv[1:]))
    print("load average at start: " + _load())
    name = f"voltdesk_bench_pay_{secrets.token_hex(3)}"
    with psycopg.connect(SERVER, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = SERVER.rsplit("/", 1)[0] + "/" + name
    os.environ["DATABASE_URL"] = url
    try:
        run(args.sessions, args.threads, args.workers, args.dashboard_runs)
    finally:
        from core.db import reset_engine
        reset_engine()
        with psycopg.connect(SERVER, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        print("load average at end: " + _load())
    return 0


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f} (1, 5, 15 min) on {os.cpu_count()} CPUs"


def run(n: int, threads: int, workers: int, dashboard_runs: int = 50) -> None:
    from sqlalchemy import func, select, update

    from core.db import normalize_url, session_scope
    from core.migrate import upgrade
    from models import Payment, Transaction
    from services.access.permissions import Role
    from services.access.scope import Scope
    from services.ocpp import transactions as ocpp_tx
    from services.payments import ledger, queries, reconciliation, sessions
    from tests.services.payments.conftest import configure_amex, configure_cybersource
    from tests.utils import standins
    from tests.utils.factories import make_charger, make_org, make_tariff
    from tests.utils.payments import make_account, make_card, make_wallet

    upgrade(normalize_url(os.environ["DATABASE_URL"]))
    cs, amex = standins.cybersource(), standins.amex()
    per_charger = 8
    with session_scope() as s:
        org = make_org(s, currency="USD", timezone="UTC")
        make_tariff(s, org, price_per_kwh="0.50")
        configure_cybersource(s, org, cs, priority=1, methods=["visa", "mastercard"], rate_limit_per_second=1000)
        configure_amex(s, org, amex, priority=2, methods=["amex"], rate_limit_per_second=1000)
        chargers = [make_charger(s, org, connectors=per_charger) for _ in range((n + per_charger - 1) // per_charger)]
        accounts = []
        for i in range(n):
            if i % 3 == 0:
                accounts.append(make_wallet(s, org, balance="100.00").customer_account_id)
            else:
                a = make_account(s, org)
                make_card(s, a, brand="amex" if i % 3 == 2 else "visa")
                accounts.append(a.id)
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    spots = [(chargers[i // per_charger].id, i % per_charger + 1) for i in range(n)]
    intent_times: list[float] = []
    real_enqueue = ocpp_tx.enqueue_payment

    intent_cpu: list[float] = []

    def timed_enqueue(**kw):  # measures the money path's share of Start/StopTransaction
        # The stop's own pending rows are flushed first: otherwise the intent's INSERT would autoflush them and
        # their writes would be counted as the money path's.
        kw["session"].flush()
        started, cpu_started = time.perf_counter(), time.thread_time()
        real_enqueue(**kw)
        if kw["action"] == "stop":
            intent_times.append(time.perf_counter() - started)
            intent_cpu.append(time.thread_time() - cpu_started)

    ocpp_tx.enqueue_payment = timed_enqueue

    def start(i: int) -> int:
        charger_id, connector = spots[i]
        with session_scope() as s:
            r = ocpp_tx.start_transaction(session=s, charger_id=charger_id, connector_id=connector,
                                          id_tag=f"B{i}", meter_start=0, timestamp=t0, reservation_id=None, now=t0)
            s.execute(update(Transaction).where(Transaction.id == r.transaction_id)
                      .values(customer_account_id=accounts[i]))
            return r.transaction_id

    stop_times: list[float] = []

    def stop(i: int, tx_id: int) -> None:
        charger_id, _ = spots[i]
        at = t0 + timedelta(minutes=30)
        energy = 0 if i % 10 == 9 else 5000 + i * 7
        started = time.perf_counter()
        with session_scope() as s:
            ocpp_tx.stop_transaction(session=s, charger_id=charger_id, transaction_id=tx_id, meter_stop=energy,
                                     timestamp=at, reason=None, id_tag=None, transaction_data=None, now=at)
        stop_times.append(time.perf_counter() - started)

    def drain() -> float:
        started = time.perf_counter()
        while True:
            with session_scope() as s:
                ids = sessions.pending_intents(session=s, limit=10_000)
            if not ids:
                return time.perf_counter() - started
            with ThreadPoolExecutor(workers) as pool:
                list(pool.map(sessions.process_intent, ids))

    with ThreadPoolExecutor(threads) as pool:
        tx_ids = list(pool.map(start, range(n)))
    auth_s = drain()
    cpu = time.process_time()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(stop, range(n), tx_ids))
    stop_cpu_ms = (time.process_time() - cpu) * 1000 / n
    capture_s = drain()

    with session_scope() as s:
        statuses = dict(s.execute(select(Payment.status, func.count()).group_by(Payment.status)).all())
        ours = dict(s.execute(select(Payment.gateway, func.sum(Payment.amount_captured))
                              .where(Payment.method == "card").group_by(Payment.gateway)).all())
        gross = s.execute(select(func.sum(Transaction.amount_gross))).scalar() or 0
        captured = s.execute(select(func.sum(Payment.amount_captured))).scalar() or 0
        check = ledger.check_ledger(s)
        wallets_ok, journals_ok, books_ok = not check.wallets, not check.journals, not check.books
    admin = Scope(user_id=0, role=Role.ADMIN, org_ids=None)
    with session_scope() as s:
        runs = reconciliation.reconcile_now(session=s, scope=admin)
    dashboard_times: list[float] = []
    for _ in range(dashboard_runs):
        started = time.perf_counter()
        with session_scope() as s:
            queries.list_payments(session=s, scope=admin, limit=25)
            queries.gateway_health(session=s, scope=admin)
            reconciliation.panel(session=s, scope=admin)
        dashboard_times.append(time.perf_counter() - started)
    theirs = {}
    for gw, server, op in (("cybersource", cs, "captures"), ("amex", amex, "capture")):
        report = httpx.get(f"{server.url}/__report").json()["operations"]
        theirs[gw] = sum(Decimal(o["amount"]) for o in report if o["op"] == op)

    def pct(values: list[float], q: float) -> float:
        return sorted(values)[min(len(values) - 1, int(q * len(values)))] * 1000

    print(f"sessions: {n} ({threads} OCPP threads, {workers} payment workers); payments: {statuses}")
    print(f"authorizations: {n / auth_s:.1f} payments/s ({auth_s:.1f} s); "
          f"captures and voids: {n / capture_s:.1f} payments/s ({capture_s:.1f} s)")
    print(f"StopTransaction: p50 {pct(stop_times, 0.5):.1f} ms, p99 {pct(stop_times, 0.99):.1f} ms in all; "
          f"of which the payment intent: p50 {pct(intent_times, 0.5):.2f} ms, p99 {pct(intent_times, 0.99):.2f} ms; "
          f"this process's CPU per StopTransaction {stop_cpu_ms:.2f} ms, per intent INSERT "
          f"{sum(intent_cpu) * 1000 / max(len(intent_cpu), 1):.3f} ms (the database's own CPU not included)")
    print(f"ledger: wallets equal their entries: {wallets_ok}; journals balance: {journals_ok}; "
          f"accounts sum to zero per currency: {books_ok}; "
          f"captured {captured} of sessions' {gross}; card captures ours vs gateway: "
          + ", ".join(f"{g} {Decimal(ours.get(g, 0)):.2f} vs {theirs[g]:.2f}" for g in theirs))
    print("reconciliation: " + ", ".join(f"{r.gateway} {r.status} ({r.gateway_lines} report lines, "
                                         f"{r.ledger_payments} ledger payments, {r.mismatches} mismatches)"
                                         for r in runs))
    print(f"payments dashboard reads ({dashboard_runs} runs over {n} payments): p50 {pct(dashboard_times, 0.5):.1f} ms,"
          f" p99 {pct(dashboard_times, 0.99):.1f} ms")
    cs.shutdown()
    amex.shutdown()


if __name__ == "__main__":
    sys.exit(main())
