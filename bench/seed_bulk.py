"""Bulk data for the benchmarks: organizations, chargers and millions of priced sessions, made in SQL.

Sessions satisfy the pricing invariant (gross = vat + ssc + gateway + platform + location owner + net),
so invoices and revenue views built on them are meaningful.
"""
from __future__ import annotations

import time

import psycopg

CURRENCIES = [("USD", "America/New_York"), ("EUR", "Europe/Berlin"), ("LKR", "Asia/Colombo"),
              ("GBP", "Europe/London"), ("AED", "Asia/Dubai")]


def create_database(admin_url: str, name: str) -> str:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


def seed(url: str, *, orgs: int, chargers: int, sessions: int, days: int = 365, log=print) -> None:
    t0 = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("""INSERT INTO organization (kind, slug, name, currency, timezone, region, billing_cycle,
                        billing_day, payment_terms_days, vat_rate, ssc_levy_rate, platform_commission_rate,
                        gateway_fee_percent, gateway_fee_fixed, energy_cost_per_kwh)
                        VALUES ('operator', 'operator', 'Operator', 'USD', 'UTC', 'US', 'monthly', 1, 30,
                        0, 0, 0, 0, 0, 0) ON CONFLICT DO NOTHING""")
        values = ", ".join(
            f"('client', 'org-{i:04d}', 'Organization {i:04d}', '{CURRENCIES[i % 5][0]}', "
            f"'{CURRENCIES[i % 5][1]}', 'EU', 'monthly', 1, 30, 18, 2, 10, 2.5, 0.25, 0.1, "
            f"(SELECT id FROM organization WHERE kind = 'operator'))"
            for i in range(orgs))
        conn.execute(f"""INSERT INTO organization (kind, slug, name, currency, timezone, region, billing_cycle,
                         billing_day, payment_terms_days, vat_rate, ssc_levy_rate, platform_commission_rate,
                         gateway_fee_percent, gateway_fee_fixed, energy_cost_per_kwh, parent_id) VALUES {values}""")
        conn.execute("""INSERT INTO location_owner (organization_id, name)
                        SELECT id, 'Host of ' || name FROM organization WHERE kind = 'client'""")
        conn.execute(f"""
            WITH o AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM organization WHERE kind='client')
            INSERT INTO charger (ocpp_id, organization_id, name, address, latitude, longitude, lifecycle_status,
                                 visible, security_profile, status, connected, location_owner_id)
            SELECT 'BENCH-' || lpad(g::text, 6, '0'), o.id, 'Charger ' || g, g || ' Bench Street',
                   (random() * 120 - 60)::numeric(9, 6), (random() * 340 - 170)::numeric(9, 6),
                   (ARRAY['Active','Active','Active','Inactive','Maintenance'])[1 + g % 5], g % 17 <> 0, 0,
                   (ARRAY['Available','Charging','Faulted','Offline','Preparing'])[1 + g % 5], g % 5 <> 3,
                   CASE WHEN g % 4 = 0 THEN (SELECT id FROM location_owner lo WHERE lo.organization_id = o.id)
                   END
            FROM generate_series(1, {chargers}) g JOIN o ON o.n = g % {orgs}""")
        conn.execute("""INSERT INTO connector (charger_id, connector_id, status, standard)
                        SELECT id, c, status, 'Type2' FROM charger, generate_series(1, 2) c""")
        log(f"  {orgs} organizations, {chargers} chargers in {time.perf_counter() - t0:.1f}s")
        t1 = time.perf_counter()
        batch = 1_000_000
        for start in range(0, sessions, batch):
            n = min(batch, sessions - start)
            conn.execute(f"""
                WITH ch AS (SELECT c.id, c.organization_id, c.location_owner_id, o.currency,
                                   row_number() OVER (ORDER BY c.id) - 1 AS n
                            FROM charger c JOIN organization o ON o.id = c.organization_id),
                     s AS (
                  SELECT g, ch.id AS charger_id, ch.organization_id, ch.location_owner_id, ch.currency,
                         now() - (random() * interval '{days} days') AS started_at,
                         (2000 + random() * 40000)::bigint AS wh
                  FROM generate_series({start}, {start + n - 1}) g JOIN ch ON ch.n = g % {chargers}),
                     p AS (
                  SELECT s.*, round(s.wh / 1000.0 * 0.40, 2) AS subtotal FROM s),
                     q AS (
                  SELECT p.*, round(subtotal * 0.18, 2) AS vat, round(subtotal * 0.02, 2) AS ssc FROM p),
                     r AS (
                  SELECT q.*, subtotal + vat + ssc AS gross FROM q),
                     t AS (
                  SELECT r.*, round(gross * 0.025 + 0.25, 2) AS gateway, round(subtotal * 0.10, 2) AS platform,
                         CASE WHEN location_owner_id IS NULL THEN 0 ELSE round(subtotal * 0.05, 2) END AS lo
                  FROM r)
                INSERT INTO charging_session (charger_id, organization_id, connector_id, id_tag, status,
                    meter_start, meter_stop, started_at, stopped_at, stop_reason, energy_wh, location_owner_id,
                    currency, amount_energy, amount_time, amount_session_fee, amount_idle, amount_subtotal,
                    amount_vat, amount_ssc, amount_gross, amount_gateway, amount_platform, amount_location_owner,
                    amount_net_cpo, priced_at)
                SELECT charger_id, organization_id, 1 + g % 2, 'TAG' || (g % 5000), 'completed', 0, wh,
                       started_at, started_at + interval '40 minutes', 'Local', wh, location_owner_id,
                       currency,
                       subtotal, 0, 0, 0, subtotal, vat, ssc, gross, gateway, platform, lo,
                       gross - vat - ssc - gateway - platform - lo, started_at + interval '40 minutes'
                FROM t""")
            log(f"  {start + n:,} sessions ({time.perf_counter() - t1:.0f}s)")
        conn.execute("ANALYZE")
    log(f"  seeded in {time.perf_counter() - t0:.1f}s")
