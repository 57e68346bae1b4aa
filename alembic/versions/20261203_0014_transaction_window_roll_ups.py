"""rolling windows for the Transactions breakdown

The per-charger breakdown of the 30- and 365-day presets over every organization would otherwise add up
to 380,000 daily and monthly rows per load. As the dashboard's windows do (migration 0008), each
charger's last 30 and 365 local start days are kept whole in `charger_start_window_stat`, per owner
snapshot, valid for the local day in `start_window_as_of`; the session trigger keeps them for that
day and `advance_start_windows(org, today)` moves them to a new day.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 03:45:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: Union[str, None] = "0013"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# Writers of an organization's sessions take this advisory lock shared; moving its windows takes it
# exclusively without waiting (as 0008's lock for the dashboard's windows).
LOCK = 80013
WINDOWS = "ARRAY[30, 365]"
FIGURES = ("sessions", "energy_wh", "gross", "net_cpo", "duration_s")
KEYS = "charger_id, organization_id, location_owner_id, currency"
CONFLICT = ("ON CONFLICT (days, charger_id, organization_id, currency, (coalesce(location_owner_id, 0))) "
            "DO UPDATE SET " + ", ".join(f"{c} = s.{c} + EXCLUDED.{c}" for c in FIGURES))
SUMS = ", ".join(f"sum(d.{c})" for c in FIGURES)

APPLY_SQL = f"""
CREATE FUNCTION start_windows_apply(r charging_session, sign integer) RETURNS void AS $$
DECLARE
    ds date;
    t date;
BEGIN
    IF r.status <> 'completed' OR r.priced_at IS NULL THEN
        RETURN;
    END IF;
    PERFORM pg_advisory_xact_lock_shared({LOCK}, r.organization_id);
    SELECT w.as_of, (r.started_at AT TIME ZONE o.timezone)::date INTO t, ds
    FROM organization o JOIN start_window_as_of w ON w.organization_id = o.id WHERE o.id = r.organization_id;
    IF t IS NULL THEN
        RETURN;  -- not built yet: built from the daily roll-up on first read
    END IF;
    INSERT INTO charger_start_window_stat AS s (days, {KEYS}, {", ".join(FIGURES)})
    SELECT w.days, r.charger_id, r.organization_id, r.location_owner_id, r.currency, sign,
           sign * coalesce(r.energy_wh, 0), sign * coalesce(r.amount_gross, 0), sign * coalesce(r.amount_net_cpo, 0),
           sign * extract(epoch FROM r.stopped_at - r.started_at)
    FROM unnest({WINDOWS}) AS w(days)
    WHERE ds > t - w.days AND ds <= t
    {CONFLICT};
END
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION session_period_stats_apply(r charging_session, sign integer) RETURNS void AS $$
BEGIN
    PERFORM session_period_day_stats_apply(r, sign);
    PERFORM start_windows_apply(r, sign);
END
$$ LANGUAGE plpgsql;
"""

# Window w as of day T covers the local start days (T - w, T]; as 0008's advance_session_windows.
ADVANCE_SQL = f"""
CREATE FUNCTION advance_start_windows(org integer, today date) RETURNS boolean AS $$
DECLARE
    prev date;
    w integer;
    add_lo date; add_hi date; sub_lo date; sub_hi date;
BEGIN
    IF NOT pg_try_advisory_xact_lock({LOCK}, org) THEN
        RETURN false;  -- sessions being written or another move under way: the caller reads the daily roll-up
    END IF;
    SELECT as_of INTO prev FROM start_window_as_of WHERE organization_id = org;
    IF prev = today THEN
        RETURN true;
    END IF;
    IF prev IS NULL OR abs(today - prev) > 31 THEN
        DELETE FROM charger_start_window_stat WHERE organization_id = org;
        INSERT INTO charger_start_window_stat (days, {KEYS}, {", ".join(FIGURES)})
        SELECT w.days, d.charger_id, d.organization_id, d.location_owner_id, d.currency, {SUMS}
        FROM charger_start_day_stat d JOIN unnest({WINDOWS}) AS w(days)
             ON d.day > today - w.days AND d.day <= today
        WHERE d.organization_id = org AND d.day > today - 365 AND d.day <= today
        GROUP BY 1, 2, 3, 4, 5;
    ELSE
        FOREACH w IN ARRAY {WINDOWS} LOOP
            IF today > prev THEN
                add_lo := greatest(today - w, prev); add_hi := today;
                sub_lo := prev - w; sub_hi := least(prev, today - w);
            ELSE
                add_lo := today - w; add_hi := least(today, prev - w);
                sub_lo := greatest(prev - w, today); sub_hi := prev;
            END IF;
            INSERT INTO charger_start_window_stat AS s (days, {KEYS}, {", ".join(FIGURES)})
            SELECT w, d.charger_id, d.organization_id, d.location_owner_id, d.currency,
                   {", ".join(f"sum(CASE WHEN d.day > add_lo AND d.day <= add_hi THEN d.{c} ELSE -d.{c} END)"
                              for c in FIGURES)}
            FROM charger_start_day_stat d
            WHERE d.organization_id = org
              AND ((d.day > add_lo AND d.day <= add_hi) OR (d.day > sub_lo AND d.day <= sub_hi))
            GROUP BY 2, 3, 4, 5
            {CONFLICT};
        END LOOP;
        DELETE FROM charger_start_window_stat WHERE organization_id = org AND sessions = 0;
    END IF;
    INSERT INTO start_window_as_of (organization_id, as_of) VALUES (org, today)
        ON CONFLICT (organization_id) DO UPDATE SET as_of = EXCLUDED.as_of;
    RETURN true;
END
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION rebuild_session_stats() RETURNS void AS $$
BEGIN
    PERFORM rebuild_session_day_stats();
    PERFORM rebuild_session_period_stats();
    DELETE FROM charger_start_window_stat;  -- rebuilt on first read
    DELETE FROM start_window_as_of;
END
$$ LANGUAGE plpgsql;
"""

RESTORE_SQL = """
DROP FUNCTION session_period_stats_apply(charging_session, integer);
ALTER FUNCTION session_period_day_stats_apply(charging_session, integer) RENAME TO session_period_stats_apply;
CREATE OR REPLACE FUNCTION rebuild_session_stats() RETURNS void AS $$
BEGIN
    PERFORM rebuild_session_day_stats();
    PERFORM rebuild_session_period_stats();
END
$$ LANGUAGE plpgsql;
DROP FUNCTION advance_start_windows(integer, date);
DROP FUNCTION start_windows_apply(charging_session, integer);
"""


def upgrade() -> None:
    op.create_table(
        "start_window_as_of",
        sa.Column("organization_id", sa.Integer(), sa.ForeignKey("organization.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("as_of", sa.Date(), nullable=False))
    op.create_table(
        "charger_start_window_stat",
        sa.Column("id", sa.BigInteger(), autoincrement=True, primary_key=True),
        sa.Column("days", sa.SmallInteger(), nullable=False),
        sa.Column("charger_id", sa.Integer(), sa.ForeignKey("charger.id", ondelete="CASCADE"), nullable=False),
        sa.Column("organization_id", sa.Integer(), sa.ForeignKey("organization.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("location_owner_id", sa.Integer(), sa.ForeignKey("location_owner.id", ondelete="SET NULL"),
                  nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("sessions", sa.Integer(), nullable=False),
        sa.Column("energy_wh", sa.BigInteger(), nullable=False),
        sa.Column("gross", sa.Numeric(precision=20, scale=4), nullable=False),
        sa.Column("net_cpo", sa.Numeric(precision=20, scale=4), nullable=False),
        sa.Column("duration_s", sa.Numeric(precision=20, scale=6), nullable=False))
    op.create_index("uq_charger_start_window_stat", "charger_start_window_stat",
                    ["days", "charger_id", "organization_id", "currency",
                     sa.literal_column("coalesce(location_owner_id, 0)")],
                    unique=True)
    op.create_index("ix_charger_start_window_stat_days_org", "charger_start_window_stat", ["days", "organization_id"],
                    postgresql_include=["charger_id", "location_owner_id", "currency", "sessions", "energy_wh",
                                        "gross", "duration_s"])
    op.execute("ALTER FUNCTION session_period_stats_apply(charging_session, integer) "
               "RENAME TO session_period_day_stats_apply")
    op.execute(APPLY_SQL)
    op.execute(ADVANCE_SQL)


def downgrade() -> None:
    op.execute(RESTORE_SQL)
    op.drop_table("charger_start_window_stat")
    op.drop_table("start_window_as_of")
