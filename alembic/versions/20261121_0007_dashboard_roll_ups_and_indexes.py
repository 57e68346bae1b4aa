"""dashboard roll-ups and indexes

Daily per-charger and per-organization totals of completed sessions, kept by a trigger on
charging_session (models/stats.py), and the indexes the dashboard and charger table need at
10,000 chargers and millions of sessions (bench/dashboard.py, docs/BENCHMARKS.md).

Revision ID: 0007
Revises: 0002
Create Date: 2026-11-21 05:19:53.977186
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0007'
down_revision: Union[str, None] = '0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# A completed session counts once in each roll-up, on its start day in its organization's timezone.
# Re-pricing or correcting a session takes the old values out and puts the new ones in.
STATS_SQL = """
CREATE FUNCTION session_stats_apply(r charging_session, sign integer) RETURNS void AS $$
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

CREATE FUNCTION session_stats_trigger() RETURNS trigger AS $$
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

CREATE TRIGGER session_stats AFTER INSERT OR UPDATE OR DELETE ON charging_session
    FOR EACH ROW EXECUTE FUNCTION session_stats_trigger();

-- Recompute both roll-ups from the sessions: after bulk loads (bench/seed_bulk.py runs with the
-- trigger disabled) or when an organization's timezone changed.
CREATE FUNCTION rebuild_session_stats() RETURNS void AS $$
BEGIN
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
END
$$ LANGUAGE plpgsql;
"""


def upgrade() -> None:
    op.create_table('org_day_stat',
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('sessions', sa.Integer(), nullable=False),
    sa.Column('energy_wh', sa.BigInteger(), nullable=False),
    sa.Column('revenue', sa.Numeric(precision=20, scale=4), nullable=False),
    sa.PrimaryKeyConstraint('organization_id', 'day', 'currency')
    )
    op.create_table('charger_day_stat',
    sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('charger_id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('location_owner_id', sa.Integer(), nullable=True),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('sessions', sa.Integer(), nullable=False),
    sa.Column('energy_wh', sa.BigInteger(), nullable=False),
    sa.Column('revenue', sa.Numeric(precision=20, scale=4), nullable=False),
    sa.ForeignKeyConstraint(['charger_id'], ['charger.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['location_owner_id'], ['location_owner.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_charger_day_stat_day', 'charger_day_stat', ['day'], unique=False,
                    postgresql_include=['charger_id', 'organization_id', 'currency', 'location_owner_id', 'sessions',
                                        'energy_wh', 'revenue'])
    op.create_index('ix_charger_day_stat_org_day', 'charger_day_stat', ['organization_id', 'day'], unique=False,
                    postgresql_include=['charger_id', 'currency', 'location_owner_id', 'sessions', 'energy_wh',
                                        'revenue'])
    op.create_index('uq_charger_day_stat', 'charger_day_stat', ['charger_id', 'day', 'currency', sa.literal_column('coalesce(location_owner_id, 0)')], unique=True)
    op.execute(STATS_SQL)
    op.execute("SELECT rebuild_session_stats()")
    # The last 24 hours across all organizations, read from the index alone.
    op.create_index('ix_session_started_cover', 'charging_session', ['started_at'],
                    postgresql_include=['charger_id', 'organization_id', 'status', 'energy_wh', 'amount_gross',
                                        'currency', 'location_owner_id'])


def downgrade() -> None:
    op.drop_index('ix_session_started_cover', table_name='charging_session')
    op.execute("DROP TRIGGER IF EXISTS session_stats ON charging_session")
    op.execute("DROP FUNCTION IF EXISTS session_stats_trigger()")
    op.execute("DROP FUNCTION IF EXISTS session_stats_apply(charging_session, integer)")
    op.execute("DROP FUNCTION IF EXISTS rebuild_session_stats()")
    op.drop_index('uq_charger_day_stat', table_name='charger_day_stat')
    op.drop_index('ix_charger_day_stat_org_day', table_name='charger_day_stat')
    op.drop_index('ix_charger_day_stat_day', table_name='charger_day_stat')
    op.drop_table('charger_day_stat')
    op.drop_table('org_day_stat')
