"""rolling window and monthly roll-ups

The performance table's last 7, 30 and 365 local days per charger, kept whole (models/stats.py), so
the 365-day table over 10,000 chargers reads 10,000 rows instead of 2.7 million daily ones
(docs/BENCHMARKS.md). The session trigger keeps them for the day they were built for; moving them to a
new day adds the daily rows that enter the window and subtracts those that leave it.

Monthly roll-ups per organization and per charger, so "this year" on the revenue tiles reads the
finished months whole and only the current month day by day.

Revision ID: 0008
Revises: 0004
Create Date: 2026-11-21 05:52:15.986881
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0008'
down_revision: Union[str, None] = "0004"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


# Writers of an organization's sessions take this advisory lock shared; moving its windows takes it
# exclusively (without waiting), so a session is never counted under one day and missed by the move.
LOCK = 80008

APPLY_SQL = f"""
CREATE OR REPLACE FUNCTION session_stats_apply(r charging_session, sign integer) RETURNS void AS $$
DECLARE
    d date;
    t date;
BEGIN
    SELECT (r.started_at AT TIME ZONE o.timezone)::date INTO d FROM organization o WHERE o.id = r.organization_id;
    INSERT INTO charger_day_stat AS s (charger_id, organization_id, location_owner_id, day, currency, sessions,
                                       energy_wh, revenue)
    VALUES (r.charger_id, r.organization_id, r.location_owner_id, d, r.currency, sign,
            sign * coalesce(r.energy_wh, 0), sign * coalesce(r.amount_gross, 0))
    ON CONFLICT (charger_id, day, currency, (coalesce(location_owner_id, 0))) DO UPDATE
        SET sessions = s.sessions + EXCLUDED.sessions, energy_wh = s.energy_wh + EXCLUDED.energy_wh,
            revenue = s.revenue + EXCLUDED.revenue;
    INSERT INTO org_day_stat AS s (organization_id, day, currency, sessions, energy_wh, revenue)
    VALUES (r.organization_id, d, r.currency, sign, sign * coalesce(r.energy_wh, 0),
            sign * coalesce(r.amount_gross, 0))
    ON CONFLICT (organization_id, day, currency) DO UPDATE
        SET sessions = s.sessions + EXCLUDED.sessions, energy_wh = s.energy_wh + EXCLUDED.energy_wh,
            revenue = s.revenue + EXCLUDED.revenue;
    INSERT INTO charger_month_stat AS s (charger_id, organization_id, location_owner_id, month, currency, sessions,
                                         energy_wh, revenue)
    VALUES (r.charger_id, r.organization_id, r.location_owner_id, date_trunc('month', d)::date, r.currency, sign,
            sign * coalesce(r.energy_wh, 0), sign * coalesce(r.amount_gross, 0))
    ON CONFLICT (charger_id, month, currency, (coalesce(location_owner_id, 0))) DO UPDATE
        SET sessions = s.sessions + EXCLUDED.sessions, energy_wh = s.energy_wh + EXCLUDED.energy_wh,
            revenue = s.revenue + EXCLUDED.revenue;
    INSERT INTO org_month_stat AS s (organization_id, month, currency, sessions, energy_wh, revenue)
    VALUES (r.organization_id, date_trunc('month', d)::date, r.currency, sign, sign * coalesce(r.energy_wh, 0),
            sign * coalesce(r.amount_gross, 0))
    ON CONFLICT (organization_id, month, currency) DO UPDATE
        SET sessions = s.sessions + EXCLUDED.sessions, energy_wh = s.energy_wh + EXCLUDED.energy_wh,
            revenue = s.revenue + EXCLUDED.revenue;
    -- The rolling windows, as of the day they were built for (read after taking the lock, so a
    -- concurrent move is either finished and seen, or waits for this transaction).
    PERFORM pg_advisory_xact_lock_shared({LOCK}, r.organization_id);
    SELECT as_of INTO t FROM session_window_as_of WHERE organization_id = r.organization_id;
    IF t IS NOT NULL THEN
        INSERT INTO charger_window_stat AS s (days, charger_id, organization_id, currency, sessions, energy_wh,
                                              revenue)
        SELECT w.days, r.charger_id, r.organization_id, r.currency, sign, sign * coalesce(r.energy_wh, 0),
               sign * coalesce(r.amount_gross, 0)
        FROM unnest(ARRAY[7, 30, 365]) AS w(days)
        WHERE d > t - w.days AND d <= t
        ON CONFLICT (days, charger_id, currency) DO UPDATE
            SET sessions = s.sessions + EXCLUDED.sessions, energy_wh = s.energy_wh + EXCLUDED.energy_wh,
                revenue = s.revenue + EXCLUDED.revenue;
    END IF;
END
$$ LANGUAGE plpgsql;
"""

# Window w as of day T covers the local days (T - w, T]. Moving from P to T adds the days in the new
# window only and subtracts those in the old one only: one interval each, whichever way the day moved.
# Far moves (or the first build) recompute the organization's windows from the daily roll-up.
ADVANCE_SQL = f"""
CREATE FUNCTION advance_session_windows(org integer, today date) RETURNS boolean AS $$
DECLARE
    prev date;
    w integer;
    add_lo date; add_hi date; sub_lo date; sub_hi date;
BEGIN
    IF NOT pg_try_advisory_xact_lock({LOCK}, org) THEN
        RETURN false;  -- sessions being written or another move under way: the caller reads the daily roll-up
    END IF;
    SELECT as_of INTO prev FROM session_window_as_of WHERE organization_id = org;
    IF prev = today THEN
        RETURN true;
    END IF;
    IF prev IS NULL OR abs(today - prev) > 31 THEN
        DELETE FROM charger_window_stat WHERE days IN (7, 30, 365) AND organization_id = org;
        INSERT INTO charger_window_stat (days, charger_id, organization_id, currency, sessions, energy_wh, revenue)
        SELECT w.days, d.charger_id, d.organization_id, d.currency, sum(d.sessions), sum(d.energy_wh),
               sum(d.revenue)
        FROM charger_day_stat d JOIN unnest(ARRAY[7, 30, 365]) AS w(days)
             ON d.day > today - w.days AND d.day <= today
        WHERE d.organization_id = org AND d.day > today - 365 AND d.day <= today
        GROUP BY 1, 2, 3, 4;
    ELSE
        FOREACH w IN ARRAY ARRAY[7, 30, 365] LOOP
            IF today > prev THEN
                add_lo := greatest(today - w, prev); add_hi := today;
                sub_lo := prev - w; sub_hi := least(prev, today - w);
            ELSE
                add_lo := today - w; add_hi := least(today, prev - w);
                sub_lo := greatest(prev - w, today); sub_hi := prev;
            END IF;
            INSERT INTO charger_window_stat AS s (days, charger_id, organization_id, currency, sessions, energy_wh,
                                                  revenue)
            SELECT w, d.charger_id, d.organization_id, d.currency,
                   sum(CASE WHEN d.day > add_lo AND d.day <= add_hi THEN d.sessions ELSE -d.sessions END),
                   sum(CASE WHEN d.day > add_lo AND d.day <= add_hi THEN d.energy_wh ELSE -d.energy_wh END),
                   sum(CASE WHEN d.day > add_lo AND d.day <= add_hi THEN d.revenue ELSE -d.revenue END)
            FROM charger_day_stat d
            WHERE d.organization_id = org
              AND ((d.day > add_lo AND d.day <= add_hi) OR (d.day > sub_lo AND d.day <= sub_hi))
            GROUP BY 2, 3, 4
            ON CONFLICT (days, charger_id, currency) DO UPDATE
                SET sessions = s.sessions + EXCLUDED.sessions, energy_wh = s.energy_wh + EXCLUDED.energy_wh,
                    revenue = s.revenue + EXCLUDED.revenue;
        END LOOP;
        -- Chargers whose sessions all left the window.
        DELETE FROM charger_window_stat
        WHERE days IN (7, 30, 365) AND organization_id = org AND sessions = 0 AND energy_wh = 0 AND revenue = 0;
    END IF;
    INSERT INTO session_window_as_of (organization_id, as_of) VALUES (org, today)
    ON CONFLICT (organization_id) DO UPDATE SET as_of = EXCLUDED.as_of;
    RETURN true;
END
$$ LANGUAGE plpgsql;
"""

# Rebuilding the daily roll-ups (bulk loads, a timezone change) drops the windows; the next read
# rebuilds them for the day it needs.
REBUILD_SQL = """
CREATE OR REPLACE FUNCTION rebuild_session_stats() RETURNS void AS $$
BEGIN
    DELETE FROM charger_window_stat;
    DELETE FROM session_window_as_of;
    DELETE FROM charger_month_stat;
    DELETE FROM org_month_stat;
    DELETE FROM charger_day_stat;
    DELETE FROM org_day_stat;
    INSERT INTO charger_day_stat (charger_id, organization_id, location_owner_id, day, currency, sessions,
                                  energy_wh, revenue)
    SELECT s.charger_id, s.organization_id, s.location_owner_id, (s.started_at AT TIME ZONE o.timezone)::date,
           s.currency, count(*), coalesce(sum(s.energy_wh), 0), coalesce(sum(s.amount_gross), 0)
    FROM charging_session s JOIN organization o ON o.id = s.organization_id
    WHERE s.status = 'completed'
    GROUP BY 1, 2, 3, 4, 5;
    INSERT INTO org_day_stat (organization_id, day, currency, sessions, energy_wh, revenue)
    SELECT organization_id, day, currency, sum(sessions), sum(energy_wh), sum(revenue)
    FROM charger_day_stat GROUP BY 1, 2, 3;
    INSERT INTO charger_month_stat (charger_id, organization_id, location_owner_id, month, currency, sessions,
                                    energy_wh, revenue)
    SELECT charger_id, organization_id, location_owner_id, date_trunc('month', day)::date, currency, sum(sessions),
           sum(energy_wh), sum(revenue)
    FROM charger_day_stat GROUP BY 1, 2, 3, 4, 5;
    INSERT INTO org_month_stat (organization_id, month, currency, sessions, energy_wh, revenue)
    SELECT organization_id, date_trunc('month', day)::date, currency, sum(sessions), sum(energy_wh), sum(revenue)
    FROM org_day_stat GROUP BY 1, 2, 3;
END
$$ LANGUAGE plpgsql;
"""

# 0007's versions, restored on downgrade.
APPLY_0007_SQL = """
CREATE OR REPLACE FUNCTION session_stats_apply(r charging_session, sign integer) RETURNS void AS $$
DECLARE
    d date;
BEGIN
    SELECT (r.started_at AT TIME ZONE o.timezone)::date INTO d FROM organization o WHERE o.id = r.organization_id;
    INSERT INTO charger_day_stat AS s (charger_id, organization_id, location_owner_id, day, currency, sessions,
                                       energy_wh, revenue)
    VALUES (r.charger_id, r.organization_id, r.location_owner_id, d, r.currency, sign,
            sign * coalesce(r.energy_wh, 0), sign * coalesce(r.amount_gross, 0))
    ON CONFLICT (charger_id, day, currency, (coalesce(location_owner_id, 0))) DO UPDATE
        SET sessions = s.sessions + EXCLUDED.sessions, energy_wh = s.energy_wh + EXCLUDED.energy_wh,
            revenue = s.revenue + EXCLUDED.revenue;
    INSERT INTO org_day_stat AS s (organization_id, day, currency, sessions, energy_wh, revenue)
    VALUES (r.organization_id, d, r.currency, sign, sign * coalesce(r.energy_wh, 0),
            sign * coalesce(r.amount_gross, 0))
    ON CONFLICT (organization_id, day, currency) DO UPDATE
        SET sessions = s.sessions + EXCLUDED.sessions, energy_wh = s.energy_wh + EXCLUDED.energy_wh,
            revenue = s.revenue + EXCLUDED.revenue;
END
$$ LANGUAGE plpgsql;
"""
REBUILD_0007_SQL = REBUILD_SQL[:REBUILD_SQL.index("    INSERT INTO charger_month_stat")] + "END\n$$ LANGUAGE plpgsql;\n"
REBUILD_0007_SQL = "\n".join(line for line in REBUILD_0007_SQL.splitlines()
                             if "window" not in line and "month_stat" not in line)


def upgrade() -> None:
    # ### commands auto generated by Alembic - please adjust! ###
    op.create_table('org_month_stat',
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('sessions', sa.Integer(), nullable=False),
    sa.Column('energy_wh', sa.BigInteger(), nullable=False),
    sa.Column('revenue', sa.Numeric(precision=20, scale=4), nullable=False),
    sa.PrimaryKeyConstraint('organization_id', 'month', 'currency')
    )
    op.create_table('charger_month_stat',
    sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('charger_id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('location_owner_id', sa.Integer(), nullable=True),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('sessions', sa.Integer(), nullable=False),
    sa.Column('energy_wh', sa.BigInteger(), nullable=False),
    sa.Column('revenue', sa.Numeric(precision=20, scale=4), nullable=False),
    sa.ForeignKeyConstraint(['charger_id'], ['charger.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['location_owner_id'], ['location_owner.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('uq_charger_month_stat', 'charger_month_stat',
                    ['charger_id', 'month', 'currency', sa.literal_column('coalesce(location_owner_id, 0)')],
                    unique=True)
    op.create_table('session_window_as_of',
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('organization_id')
    )
    op.create_table('charger_window_stat',
    sa.Column('days', sa.SmallInteger(), nullable=False),
    sa.Column('charger_id', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('sessions', sa.Integer(), nullable=False),
    sa.Column('energy_wh', sa.BigInteger(), nullable=False),
    sa.Column('revenue', sa.Numeric(precision=20, scale=4), nullable=False),
    sa.ForeignKeyConstraint(['charger_id'], ['charger.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('days', 'charger_id', 'currency')
    )
    op.create_index('ix_charger_window_stat_days_org', 'charger_window_stat', ['days', 'organization_id'],
                    unique=False, postgresql_include=['charger_id', 'currency', 'sessions', 'energy_wh', 'revenue'])
    # ### end Alembic commands ###
    op.execute(APPLY_SQL)
    op.execute(ADVANCE_SQL)
    op.execute(REBUILD_SQL)
    # Fill the monthly roll-ups from the daily ones (the windows build on first read).
    op.execute("""
        INSERT INTO charger_month_stat (charger_id, organization_id, location_owner_id, month, currency, sessions,
                                        energy_wh, revenue)
        SELECT charger_id, organization_id, location_owner_id, date_trunc('month', day)::date, currency,
               sum(sessions), sum(energy_wh), sum(revenue)
        FROM charger_day_stat GROUP BY 1, 2, 3, 4, 5
    """)
    op.execute("""
        INSERT INTO org_month_stat (organization_id, month, currency, sessions, energy_wh, revenue)
        SELECT organization_id, date_trunc('month', day)::date, currency, sum(sessions), sum(energy_wh),
               sum(revenue)
        FROM org_day_stat GROUP BY 1, 2, 3
    """)


def downgrade() -> None:
    op.execute(REBUILD_0007_SQL)
    op.execute(APPLY_0007_SQL)
    op.execute("DROP FUNCTION IF EXISTS advance_session_windows(integer, date)")
    # ### commands auto generated by Alembic - please adjust! ###
    op.drop_index('ix_charger_window_stat_days_org', table_name='charger_window_stat')
    op.drop_table('charger_window_stat')
    op.drop_table('session_window_as_of')
    op.drop_index('uq_charger_month_stat', table_name='charger_month_stat')
    op.drop_table('charger_month_stat')
    op.drop_table('org_month_stat')
    # ### end Alembic commands ###
