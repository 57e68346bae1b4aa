"""roll-ups keyed by organization

A session's roll-up row follows the session's own organization (the snapshot at start), like its
location owner. The per-charger rows were keyed without it, so a charger moved to another organization
added the new organization's sessions to the old one's row for the same day, month or window. The keys
gain `organization_id`; the trigger functions keep their bodies, with only their ON CONFLICT targets
widened (rewritten from their stored definitions, so this migration does not copy 0008's SQL); the
roll-ups are rebuilt so rows merged before are split.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 03:30:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: Union[str, None] = "0011"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

OWNER = sa.literal_column("coalesce(location_owner_id, 0)")
# (old, new) ON CONFLICT targets in session_stats_apply and advance_session_windows.
TARGETS = [
    ("(charger_id, day, currency, (coalesce(location_owner_id, 0)))",
     "(charger_id, day, currency, organization_id, (coalesce(location_owner_id, 0)))"),
    ("(charger_id, month, currency, (coalesce(location_owner_id, 0)))",
     "(charger_id, month, currency, organization_id, (coalesce(location_owner_id, 0)))"),
    ("(days, charger_id, currency)", "(days, charger_id, organization_id, currency)"),
]
FUNCTIONS = ("session_stats_apply(charging_session, integer)", "advance_session_windows(integer, date)")


def _retarget(forward: bool) -> None:
    bind = op.get_bind()
    for fn in FUNCTIONS:
        sql = bind.execute(sa.text(f"SELECT pg_get_functiondef('{fn}'::regprocedure)")).scalar_one()
        for old, new in TARGETS:
            sql = sql.replace(*((old, new) if forward else (new, old)))
        bind.execute(sa.text(sql.replace(":", r"\:")))


def _keys(with_org: bool) -> None:
    org = ["organization_id"] if with_org else []
    op.drop_index("uq_charger_day_stat", table_name="charger_day_stat")
    op.create_index("uq_charger_day_stat", "charger_day_stat", ["charger_id", "day", "currency", *org, OWNER],
                    unique=True)
    op.drop_index("uq_charger_month_stat", table_name="charger_month_stat")
    op.create_index("uq_charger_month_stat", "charger_month_stat", ["charger_id", "month", "currency", *org, OWNER],
                    unique=True)
    op.drop_constraint("charger_window_stat_pkey", "charger_window_stat", type_="primary")
    op.create_primary_key("charger_window_stat_pkey", "charger_window_stat", ["days", "charger_id", *org, "currency"])


def upgrade() -> None:
    _keys(with_org=True)
    _retarget(forward=True)
    op.execute("SELECT rebuild_session_stats()")


def downgrade() -> None:
    # One charger's rows under two organizations merge back into one (credited to the lower id).
    for table in ("charger_window_stat", "session_window_as_of", "charger_month_stat", "charger_day_stat"):
        op.execute(f"DELETE FROM {table}")
    _retarget(forward=False)
    _keys(with_org=False)
    op.execute("""
        INSERT INTO charger_day_stat (charger_id, organization_id, location_owner_id, day, currency, sessions,
                                      energy_wh, revenue)
        SELECT s.charger_id, min(s.organization_id), s.location_owner_id, (s.started_at AT TIME ZONE o.timezone)::date,
               s.currency, count(*), coalesce(sum(s.energy_wh), 0), coalesce(sum(s.amount_gross), 0)
        FROM charging_session s JOIN organization o ON o.id = s.organization_id
        WHERE s.status = 'completed'
        GROUP BY s.charger_id, s.location_owner_id, 4, s.currency
    """)
    op.execute("""
        INSERT INTO charger_month_stat (charger_id, organization_id, location_owner_id, month, currency, sessions,
                                        energy_wh, revenue)
        SELECT charger_id, min(organization_id), location_owner_id, date_trunc('month', day)::date, currency,
               sum(sessions), sum(energy_wh), sum(revenue)
        FROM charger_day_stat GROUP BY charger_id, location_owner_id, 4, currency
    """)
