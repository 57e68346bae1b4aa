"""roll-ups for the Finances and Transactions pages

Priced, completed sessions summed by the local day that dates each figure (models/stats.py): by start
day for Transactions (per charger, per charger and month, per organization and owner snapshot), by stop
day for Finances (per charger, per organization and owner snapshot, and per organization, owner
snapshot and UTC hour for the partial days at the edges of the rolling periods). The dashboard's trigger keeps them
too, so a bulk load that disables `session_stats` rebuilds them with `rebuild_session_stats()`.

Partial indexes find the sessions the roll-ups leave out (active, or completed but not priced), and the
covering indexes on start and stop time serve the partial days at the edges of a rolling window
(bench/finance.py, docs/BENCHMARKS.md).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 03:50:00
"""
from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FIGURES = ("sessions", "energy_wh", "gross", "net_cpo", "duration_s")
# table → (its key columns, the SQL for each key column given a session `r` and its local start/stop day)
TABLES = {
    "charger_start_day_stat": ("charger_id, organization_id, location_owner_id, day",
                               "r.charger_id, r.organization_id, r.location_owner_id, ds"),
    "charger_start_month_stat": ("charger_id, organization_id, location_owner_id, month",
                                 "r.charger_id, r.organization_id, r.location_owner_id, date_trunc('month', ds)::date"),
    "org_start_day_stat": ("organization_id, location_owner_id, day", "r.organization_id, r.location_owner_id, ds"),
    "charger_stop_day_stat": ("charger_id, organization_id, location_owner_id, day",
                              "r.charger_id, r.organization_id, r.location_owner_id, de"),
    "org_stop_day_stat": ("organization_id, location_owner_id, day", "r.organization_id, r.location_owner_id, de"),
    "org_stop_hour_stat": ("organization_id, location_owner_id, hour",
                           "r.organization_id, r.location_owner_id, date_trunc('hour', r.stopped_at, 'UTC')"),
}
# The unique key of each table: its key columns, currency and the owner snapshot (0 = none). A charger's
# rows also key on the organization: a charger moved to another one keeps each one's sessions apart.
CONFLICT = {
    "charger_start_day_stat": "charger_id, organization_id, day",
    "charger_start_month_stat": "charger_id, organization_id, month",
    "org_start_day_stat": "organization_id, day", "charger_stop_day_stat": "charger_id, organization_id, day",
    "org_stop_day_stat": "organization_id, day", "org_stop_hour_stat": "organization_id, hour",
}


def _upsert(table: str) -> str:
    keys, values = TABLES[table]
    sets = ", ".join(f"{c} = s.{c} + EXCLUDED.{c}" for c in FIGURES)
    return f"""
    INSERT INTO {table} AS s ({keys}, currency, {", ".join(FIGURES)})
    VALUES ({values}, r.currency, sign, sign * coalesce(r.energy_wh, 0), sign * coalesce(r.amount_gross, 0),
            sign * coalesce(r.amount_net_cpo, 0), sign * extract(epoch FROM r.stopped_at - r.started_at))
    ON CONFLICT ({CONFLICT[table]}, currency, (coalesce(location_owner_id, 0))) DO UPDATE SET {sets};"""


# Coarser roll-ups are summed from a finer one instead of the sessions: (table, source, source's key SQL).
DERIVED = {
    "charger_start_month_stat": ("charger_start_day_stat",
                                 "charger_id, organization_id, location_owner_id, date_trunc('month', day)::date"),
    "org_start_day_stat": ("charger_start_day_stat", "organization_id, location_owner_id, day"),
    "org_stop_day_stat": ("charger_stop_day_stat", "organization_id, location_owner_id, day"),
}


def _rebuild(table: str) -> str:
    keys, values = TABLES[table]
    grouped = ", ".join(str(i + 1) for i in range(len(keys.split(",")) + 1))
    if table in DERIVED:
        source, source_keys = DERIVED[table]
        return f"""
    DELETE FROM {table};
    INSERT INTO {table} ({keys}, currency, {", ".join(FIGURES)})
    SELECT {source_keys}, currency, {", ".join(f"sum({c})" for c in FIGURES)}
    FROM {source} GROUP BY {grouped};"""
    return f"""
    DELETE FROM {table};
    INSERT INTO {table} ({keys}, currency, {", ".join(FIGURES)})
    SELECT {values}, r.currency, count(*), coalesce(sum(r.energy_wh), 0), coalesce(sum(r.amount_gross), 0),
           coalesce(sum(r.amount_net_cpo), 0), sum(extract(epoch FROM r.stopped_at - r.started_at))
    FROM (SELECT s.*, (s.started_at AT TIME ZONE o.timezone)::date AS ds,
                 (s.stopped_at AT TIME ZONE o.timezone)::date AS de
          FROM charging_session s JOIN organization o ON o.id = s.organization_id
          WHERE s.status = 'completed' AND s.priced_at IS NOT NULL) r
    GROUP BY {grouped};"""


# Only priced, completed sessions are rolled up; a session counts once, on its local start and stop days.
FUNCTIONS_SQL = f"""
CREATE FUNCTION session_period_stats_apply(r charging_session, sign integer) RETURNS void AS $$
DECLARE
    ds date;
    de date;
BEGIN
    IF r.status <> 'completed' OR r.priced_at IS NULL THEN
        RETURN;
    END IF;
    SELECT (r.started_at AT TIME ZONE o.timezone)::date, (r.stopped_at AT TIME ZONE o.timezone)::date INTO ds, de
    FROM organization o WHERE o.id = r.organization_id;
    {"".join(_upsert(t) for t in TABLES)}
END
$$ LANGUAGE plpgsql;

CREATE FUNCTION rebuild_session_period_stats() RETURNS void AS $$
BEGIN
    {"".join(_rebuild(t) for t in TABLES)}
END
$$ LANGUAGE plpgsql;

-- One trigger keeps every roll-up: the dashboard's (start day, all completed sessions) and these.
CREATE OR REPLACE FUNCTION session_stats_trigger() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.status = NEW.status AND OLD.started_at = NEW.started_at
       AND OLD.charger_id = NEW.charger_id AND OLD.organization_id = NEW.organization_id
       AND OLD.currency = NEW.currency
       AND OLD.location_owner_id IS NOT DISTINCT FROM NEW.location_owner_id
       AND OLD.energy_wh IS NOT DISTINCT FROM NEW.energy_wh
       AND OLD.amount_gross IS NOT DISTINCT FROM NEW.amount_gross
       AND OLD.stopped_at IS NOT DISTINCT FROM NEW.stopped_at
       AND OLD.priced_at IS NOT DISTINCT FROM NEW.priced_at
       AND OLD.amount_net_cpo IS NOT DISTINCT FROM NEW.amount_net_cpo THEN
        RETURN NULL;  -- nothing the roll-ups count changed (meter values, flags, breakdown)
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status = 'completed' THEN
        PERFORM session_stats_apply(OLD, -1);
        PERFORM session_period_stats_apply(OLD, -1);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.status = 'completed' THEN
        PERFORM session_stats_apply(NEW, 1);
        PERFORM session_period_stats_apply(NEW, 1);
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

-- Every caller of rebuild_session_stats() (bulk loads, a timezone change) rebuilds these as well.
ALTER FUNCTION rebuild_session_stats() RENAME TO rebuild_session_day_stats;
CREATE FUNCTION rebuild_session_stats() RETURNS void AS $$
BEGIN
    PERFORM rebuild_session_day_stats();
    PERFORM rebuild_session_period_stats();
END
$$ LANGUAGE plpgsql;
"""

TRIGGER_0007_SQL = """
CREATE OR REPLACE FUNCTION session_stats_trigger() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.status = NEW.status AND OLD.started_at = NEW.started_at
       AND OLD.charger_id = NEW.charger_id AND OLD.organization_id = NEW.organization_id
       AND OLD.currency = NEW.currency
       AND OLD.location_owner_id IS NOT DISTINCT FROM NEW.location_owner_id
       AND OLD.energy_wh IS NOT DISTINCT FROM NEW.energy_wh
       AND OLD.amount_gross IS NOT DISTINCT FROM NEW.amount_gross THEN
        RETURN NULL;  -- nothing the roll-ups count changed (meter values, flags, breakdown)
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status = 'completed' THEN
        PERFORM session_stats_apply(OLD, -1);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.status = 'completed' THEN
        PERFORM session_stats_apply(NEW, 1);
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
"""

UNROLLED = "status <> 'completed' OR priced_at IS NULL"
# Enough to sum a partial day of sessions from the index alone.
COVER = ["charger_id", "organization_id", "location_owner_id", "status", "priced_at", "currency", "energy_wh",
         "amount_gross", "amount_net_cpo", "stopped_at"]


def _figures() -> list[sa.Column]:
    return [sa.Column("currency", sa.String(length=3), nullable=False),
            sa.Column("sessions", sa.Integer(), nullable=False),
            sa.Column("energy_wh", sa.BigInteger(), nullable=False),
            sa.Column("gross", sa.Numeric(precision=20, scale=4), nullable=False),
            sa.Column("net_cpo", sa.Numeric(precision=20, scale=4), nullable=False),
            sa.Column("duration_s", sa.Numeric(precision=20, scale=6), nullable=False)]


def _keys(charger: bool, period: str) -> list:
    kind = sa.DateTime(timezone=True) if period == "hour" else sa.Date()
    cols = [sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False, primary_key=True)]
    if charger:
        cols.append(sa.Column("charger_id", sa.Integer(), sa.ForeignKey("charger.id", ondelete="CASCADE"),
                              nullable=False))
    return cols + [
        sa.Column("organization_id", sa.Integer(), sa.ForeignKey("organization.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("location_owner_id", sa.Integer(), sa.ForeignKey("location_owner.id", ondelete="SET NULL"),
                  nullable=True),
        sa.Column(period, kind, nullable=False)]


def upgrade() -> None:
    for table in TABLES:
        charger = table.startswith("charger_")
        period = table.split("_")[-2]  # day, month or hour
        op.create_table(table, *_keys(charger, period), *_figures())
        op.create_index(f"uq_{table}", table, [*CONFLICT[table].split(", "), "currency",
                                               sa.literal_column("coalesce(location_owner_id, 0)")], unique=True)
    op.create_index("ix_charger_start_day_stat_day", "charger_start_day_stat", ["day"],
                    postgresql_include=["charger_id", "organization_id", "location_owner_id", "currency", "sessions",
                                        "energy_wh", "gross", "duration_s"])
    op.create_index("ix_charger_start_month_stat_month", "charger_start_month_stat", ["month"],
                    postgresql_include=["charger_id", "organization_id", "location_owner_id", "currency", "sessions",
                                        "energy_wh", "gross", "duration_s"])
    op.create_index("ix_org_start_day_stat_day", "org_start_day_stat", ["day"],
                    postgresql_include=["organization_id", "location_owner_id", "currency", "sessions", "energy_wh",
                                        "gross", "net_cpo"])
    op.create_index("ix_org_stop_day_stat_day", "org_stop_day_stat", ["day"],
                    postgresql_include=["organization_id", "location_owner_id", "currency", "sessions", "energy_wh",
                                        "gross"])
    op.create_index("ix_org_stop_hour_stat_hour", "org_stop_hour_stat", ["hour"],
                    postgresql_include=["organization_id", "location_owner_id", "currency", "sessions", "energy_wh",
                                        "gross"])
    op.execute(FUNCTIONS_SQL)
    op.execute("SELECT rebuild_session_period_stats()")
    # The sessions the roll-ups leave out, by start (Transactions) and by stop (Finances).
    op.create_index("ix_session_unrolled_started", "charging_session", ["started_at"],
                    postgresql_where=sa.text(UNROLLED))
    op.create_index("ix_session_unpriced_stopped", "charging_session", ["stopped_at"],
                    postgresql_where=sa.text("status = 'completed' AND priced_at IS NULL"))
    # The partial day at a Transactions preset's start, read from the index alone (replaces 0007's), and
    # the partial days of one page of Finances chargers.
    op.drop_index("ix_session_started_cover", table_name="charging_session")
    op.create_index("ix_session_started_cover", "charging_session", ["started_at"], postgresql_include=COVER)
    op.create_index("ix_session_charger_stopped", "charging_session", ["charger_id", "stopped_at"],
                    postgresql_include=["organization_id", "location_owner_id", "priced_at", "currency", "energy_wh",
                                        "amount_gross"],
                    postgresql_where=sa.text("status = 'completed'"))


def downgrade() -> None:
    op.drop_index("ix_session_charger_stopped", table_name="charging_session")
    op.drop_index("ix_session_started_cover", table_name="charging_session")
    op.create_index("ix_session_started_cover", "charging_session", ["started_at"],
                    postgresql_include=["charger_id", "organization_id", "status", "energy_wh", "amount_gross",
                                        "currency", "location_owner_id"])
    op.drop_index("ix_session_unpriced_stopped", table_name="charging_session")
    op.drop_index("ix_session_unrolled_started", table_name="charging_session")
    op.execute("DROP FUNCTION rebuild_session_stats()")
    op.execute("ALTER FUNCTION rebuild_session_day_stats() RENAME TO rebuild_session_stats")
    op.execute(TRIGGER_0007_SQL)
    op.execute("DROP FUNCTION rebuild_session_period_stats()")
    op.execute("DROP FUNCTION session_period_stats_apply(charging_session, integer)")
    for table in reversed(list(TABLES)):
        op.drop_table(table)
