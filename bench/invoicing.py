"""Bulk invoicing benchmark: 1,000 organizations, 5 million priced sessions, invoices with PDFs.

    python bench/invoicing.py [--orgs 1000] [--sessions 5000000] [--processes 2] [--keep | --reuse URL]

Makes a scratch database on the local PostgreSQL (or BENCH_SERVER_URL), applies the migrations, fills it with
SQL (generate_series, one INSERT per table) and then times what a finance user would run:
  1. the bulk run for October 2026 (services.billing.invoicing.generate_bulk: one invoice per organization), and
  2. a PDF for every invoice (services.billing.pdf.render_invoice_pdf in --processes worker processes, each invoice
     handed over as soon as it is made, so rendering overlaps the database work).
Prints the total time and PDFs per second. The target is under 60 s for the timed part.
"""
from __future__ import annotations

import argparse
import os
import secrets
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DEMO_MODE", "1")

import psycopg  # noqa: E402

SERVER = os.environ.get("BENCH_SERVER_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
CHARGERS_PER_ORG = 5
CURRENCIES = ["EUR", "USD", "GBP", "LKR"]
TIMEZONES = ["Europe/Berlin", "America/New_York", "Europe/London", "Asia/Colombo"]

FILL_SQL = """
INSERT INTO organization (kind, slug, name, currency, timezone, region, legal_name, address, tax_number,
                          billing_email, billing_cycle, billing_day, payment_terms_days, vat_rate, ssc_levy_rate,
                          platform_commission_rate, gateway_fee_percent, gateway_fee_fixed, energy_cost_per_kwh)
VALUES ('operator', 'bench-platform', 'Bench Platform', 'USD', 'UTC', 'US', 'Bench Platform Ltd',
        '1 Grid Street, London', 'GB123456789', 'finance@bench.example', 'monthly', 1, 30, 0, 0, 0, 0, 0, 0);

INSERT INTO organization (parent_id, kind, slug, name, currency, timezone, region, legal_name, address, tax_number,
                          billing_email, billing_cycle, billing_day, payment_terms_days, vat_rate, ssc_levy_rate,
                          platform_commission_rate, gateway_fee_percent, gateway_fee_fixed, energy_cost_per_kwh)
SELECT 1, 'client', 'bench-' || lpad(g::text, 5, '0'), 'Bench Client ' || g,
       (ARRAY{currencies})[1 + g % 4], (ARRAY{timezones})[1 + g % 4], 'EU',
       'Bench Client ' || g || ' GmbH', g || ' Charging Street, 10117 Berlin', 'DE' || (100000000 + g),
       'billing' || g || '@bench.example', 'monthly', 1, 30,
       (ARRAY[19, 20, 8.875, 18])[1 + g % 4], (ARRAY[0, 0, 0, 2.5])[1 + g % 4], 8 + g % 5, 0, 0, 0
FROM generate_series(1, %(orgs)s) g;

INSERT INTO charger (ocpp_id, organization_id, name, address, lifecycle_status, visible, security_profile, status,
                     connected, created_at)
SELECT 'BENCH-' || lpad(c::text, 6, '0'), 2 + (c - 1) / {per_org}, 'Car park ' || c, 'Charging Street',
       'Active', true, 0, 'Available', false, now()
FROM generate_series(1, %(orgs)s * {per_org}) c;

CREATE TEMP TABLE rates AS
SELECT ch.id AS charger_id, o.id AS org_id, o.currency, o.vat_rate, o.ssc_levy_rate, o.platform_commission_rate
FROM charger ch JOIN organization o ON o.id = ch.organization_id;

INSERT INTO charging_session (charger_id, organization_id, connector_id, id_tag, status, meter_start, meter_stop,
    started_at, stopped_at, stop_reason, energy_wh, flags, currency, amount_energy, amount_time, amount_session_fee,
    amount_idle, amount_subtotal, amount_vat, amount_ssc, amount_gross, amount_gateway, amount_platform,
    amount_location_owner, amount_net_cpo, priced_at, created_at)
SELECT charger_id, org_id, 1, 'T' || g, 'completed', 0, wh, stop - interval '40 minutes', stop, 'Local', wh, '{{}}',
       currency, energy, time_amt, fee, 0, sub, vat, ssc, sub + vat + ssc,
       round((sub + vat + ssc) * 0.029 + 0.30, 2), platform, 0,
       sub + vat + ssc - vat - ssc - round((sub + vat + ssc) * 0.029 + 0.30, 2) - platform, stop, stop
FROM (
  SELECT g, charger_id, org_id, currency, wh, stop, energy, time_amt, fee, energy + time_amt + fee AS sub,
         round((energy + time_amt + fee) * vat_rate / 100, 2) AS vat,
         round((energy + time_amt + fee) * ssc_levy_rate / 100, 2) AS ssc,
         round((energy + time_amt + fee) * platform_commission_rate / 100, 2) AS platform
  FROM (
    SELECT g, r.charger_id, r.org_id, r.currency, r.vat_rate, r.ssc_levy_rate, r.platform_commission_rate,
           1000 + (g * 7919) % 60000 AS wh,
           timestamptz '2026-10-02 00:00+00' + ((g * 37) % (27 * 1440)) * interval '1 minute' AS stop,
           round((1000 + (g * 7919) % 60000) / 1000.0 * 0.45, 2) AS energy,
           round((g % 90) * 0.02, 2) AS time_amt,
           CASE WHEN g % 3 = 0 THEN 0.50 ELSE 0 END AS fee
    FROM generate_series(1::bigint, %(sessions)s) g
    JOIN rates r ON r.charger_id = 1 + (g - 1) % (%(orgs)s * {per_org})
  ) raw
) priced;
"""


def _quoted(values: list[str]) -> str:
    return "[" + ", ".join(f"'{v}'" for v in values) + "]"


def make_database(orgs: int, sessions: int) -> str:
    name = f"voltdesk_bench_{secrets.token_hex(3)}"
    with psycopg.connect(SERVER, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = SERVER.rsplit("/", 1)[0] + "/" + name
    os.environ["DATABASE_URL"] = url
    try:
        _fill(url, orgs, sessions)
    except BaseException:
        drop_database(url)
        raise
    return url


def _fill(url: str, orgs: int, sessions: int) -> None:
    from core.db import normalize_url
    from core.migrate import upgrade

    upgrade(normalize_url(url))
    sql = FILL_SQL.format(currencies=_quoted(CURRENCIES), timezones=_quoted(TIMEZONES), per_org=CHARGERS_PER_ORG)
    sql = sql.replace(" % ", " %% ")  # modulo, not a parameter
    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET synchronous_commit = off")
        with conn.transaction():
            # The dashboard roll-up trigger fires per row; bulk-load without it and rebuild the roll-ups once.
            conn.execute("ALTER TABLE charging_session DISABLE TRIGGER session_stats")
            for statement in sql.split(";\n"):
                if statement.strip():
                    conn.execute(statement, {"orgs": orgs, "sessions": sessions})
            conn.execute("ALTER TABLE charging_session ENABLE TRIGGER session_stats")
            conn.execute("SELECT rebuild_session_stats()")
        # Steady state, as autovacuum leaves a live table: hint bits set, visibility map and statistics current.
        conn.execute("VACUUM ANALYZE")
    print(f"data: {orgs:,} organizations, {orgs * CHARGERS_PER_ORG:,} chargers, {sessions:,} priced sessions "
          f"in {time.perf_counter() - started:.1f} s (not timed below)", flush=True)


def drop_database(url: str) -> None:
    from core.db import reset_engine

    reset_engine()
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(SERVER, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _render(args) -> int:
    """In a worker process: render one invoice and write it out; returns the size in bytes."""
    detail, out_dir = args
    from services.billing.pdf import pdf_filename, render_invoice_pdf

    data = render_invoice_pdf(detail)
    (Path(out_dir) / pdf_filename(detail)).write_bytes(data)
    return len(data)


def _warm() -> None:
    from services.billing.pdf import _subset_fonts

    _subset_fonts()


def reuse_database(url: str) -> str:
    """A database kept by an earlier --keep run: forget its invoices and time the run again."""
    os.environ["DATABASE_URL"] = url
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("TRUNCATE invoice, invoice_line, invoice_status_change, invoice_number_sequence, billing_run")
        conn.execute("VACUUM ANALYZE charging_session")
    return url


def run(orgs: int, sessions: int, processes: int, keep: bool, reuse: str | None = None) -> None:
    url = reuse_database(reuse) if reuse else make_database(orgs, sessions)
    keep = keep or bool(reuse)
    try:
        from sqlmodel import Session

        from core.db import get_engine
        from services.billing import invoicing

        with ProcessPoolExecutor(processes) as pool, tempfile.TemporaryDirectory() as out_dir:
            list(pool.map(_noop, range(processes)))  # start the workers and prepare fonts, untimed
            started = time.perf_counter()
            futures = []
            with Session(get_engine(), expire_on_commit=False) as s, Session(get_engine()) as reader:

                def render(outcome: invoicing.Outcome) -> None:
                    # Each invoice goes to a PDF worker as soon as it is made, while the next one is built.
                    if outcome.outcome == "made":
                        detail = invoicing.get_invoice(session=reader, scope=invoicing.SYSTEM_SCOPE,
                                                       invoice_id=outcome.invoice_id)
                        reader.rollback()
                        futures.append(pool.submit(_render, (detail, out_dir)))

                result = invoicing.generate_bulk(session=s, scope=invoicing.SYSTEM_SCOPE,
                                                 period_start=date(2026, 10, 1), period_end=date(2026, 10, 31),
                                                 on_outcome=render)
            generated = time.perf_counter()
            sizes = [f.result() for f in futures]
            done = time.perf_counter()
            pdfs = len(sizes)
            total = done - started
            print(f"bulk run: {result.summary} in {generated - started:.1f} s (PDFs rendering alongside)")
            print(f"PDFs: {pdfs:,} ({sum(sizes) / max(pdfs, 1) / 1024:.0f} KiB each), the last one "
                  f"{done - generated:.1f} s after the bulk run, with {processes} PDF processes")
            print(f"TOTAL: {total:.1f} s for {pdfs:,} invoices with PDFs = {pdfs / total:.1f} PDFs/s "
                  f"(target < 60 s)")
    finally:
        if keep:
            print(f"kept the database: {url}")
        else:
            drop_database(url)


def _noop(_: int) -> None:
    _warm()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--orgs", type=int, default=1000)
    p.add_argument("--sessions", type=int, default=5_000_000)
    p.add_argument("--processes", type=int, default=os.cpu_count() or 2, help="PDF worker processes")
    p.add_argument("--keep", action="store_true", help="keep the scratch database")
    p.add_argument("--reuse", metavar="URL", help="time again on a database kept with --keep (skips the fill)")
    args = p.parse_args()
    run(args.orgs, args.sessions, args.processes, args.keep, args.reuse)
    return 0


if __name__ == "__main__":
    sys.exit(main())
