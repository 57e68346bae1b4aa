"""who earned on each charger

One row per charger, organization and location-owner snapshot with its count of priced, completed
sessions (`charger_earner_stat`, kept by the session trigger). The Finances charger table lists the
chargers in scope and every charger the scope earned on under another organization or owner; this finds
those few without reading the sessions.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 04:20:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: Union[str, None] = "0014"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

FUNCTIONS_SQL = """
CREATE FUNCTION charger_earner_apply(r charging_session, sign integer) RETURNS void AS $$
BEGIN
    IF r.status <> 'completed' OR r.priced_at IS NULL THEN
        RETURN;
    END IF;
    INSERT INTO charger_earner_stat AS s (charger_id, organization_id, location_owner_id, sessions)
    VALUES (r.charger_id, r.organization_id, r.location_owner_id, sign)
    ON CONFLICT (charger_id, organization_id, (coalesce(location_owner_id, 0)))
        DO UPDATE SET sessions = s.sessions + EXCLUDED.sessions;
END
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION session_period_stats_apply(r charging_session, sign integer) RETURNS void AS $$
BEGIN
    PERFORM session_period_day_stats_apply(r, sign);
    PERFORM start_windows_apply(r, sign);
    PERFORM charger_earner_apply(r, sign);
END
$$ LANGUAGE plpgsql;

CREATE FUNCTION rebuild_charger_earners() RETURNS void AS $$
BEGIN
    DELETE FROM charger_earner_stat;
    INSERT INTO charger_earner_stat (charger_id, organization_id, location_owner_id, sessions)
    SELECT charger_id, organization_id, location_owner_id, sum(sessions)
    FROM charger_start_month_stat GROUP BY 1, 2, 3;
END
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION rebuild_session_stats() RETURNS void AS $$
BEGIN
    PERFORM rebuild_session_day_stats();
    PERFORM rebuild_session_period_stats();
    PERFORM rebuild_charger_earners();
    DELETE FROM charger_start_window_stat;  -- rebuilt on first read
    DELETE FROM start_window_as_of;
END
$$ LANGUAGE plpgsql;
"""

RESTORE_SQL = """
CREATE OR REPLACE FUNCTION session_period_stats_apply(r charging_session, sign integer) RETURNS void AS $$
BEGIN
    PERFORM session_period_day_stats_apply(r, sign);
    PERFORM start_windows_apply(r, sign);
END
$$ LANGUAGE plpgsql;
CREATE OR REPLACE FUNCTION rebuild_session_stats() RETURNS void AS $$
BEGIN
    PERFORM rebuild_session_day_stats();
    PERFORM rebuild_session_period_stats();
    DELETE FROM charger_start_window_stat;
    DELETE FROM start_window_as_of;
END
$$ LANGUAGE plpgsql;
DROP FUNCTION rebuild_charger_earners();
DROP FUNCTION charger_earner_apply(charging_session, integer);
"""


def upgrade() -> None:
    op.create_table(
        "charger_earner_stat",
        sa.Column("id", sa.BigInteger(), autoincrement=True, primary_key=True),
        sa.Column("charger_id", sa.Integer(), sa.ForeignKey("charger.id", ondelete="CASCADE"), nullable=False),
        sa.Column("organization_id", sa.Integer(), sa.ForeignKey("organization.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("location_owner_id", sa.Integer(), sa.ForeignKey("location_owner.id", ondelete="SET NULL"),
                  nullable=True),
        sa.Column("sessions", sa.Integer(), nullable=False))
    op.create_index("uq_charger_earner_stat", "charger_earner_stat",
                    ["charger_id", "organization_id", sa.literal_column("coalesce(location_owner_id, 0)")],
                    unique=True)
    op.execute(FUNCTIONS_SQL)
    op.execute("SELECT rebuild_charger_earners()")


def downgrade() -> None:
    op.execute(RESTORE_SQL)
    op.drop_table("charger_earner_stat")
