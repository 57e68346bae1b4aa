"""grid monitor and demand response: regions, readings (BRIN), health states, policies, events, actions

Revision ID: grid_01
Revises: payments_03
Create Date: 2026-12-03 06:30:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "grid_01"
down_revision: Union[str, None] = "payments_03"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "grid_region",
        sa.Column("code", sa.String(16), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("area", sa.String(32), nullable=False, server_default=""),
        sa.Column("timezone", sa.String(64), nullable=False, server_default="UTC"),
        sa.Column("nominal_hz", sa.Numeric(6, 3), nullable=False),
        sa.Column("alert_below_hz", sa.Numeric(6, 3), nullable=False),
        sa.Column("emergency_below_hz", sa.Numeric(6, 3), nullable=False),
        sa.Column("alert_above_hz", sa.Numeric(6, 3), nullable=False),
        sa.Column("emergency_above_hz", sa.Numeric(6, 3), nullable=False),
        sa.Column("margin_alert_percent", sa.Numeric(6, 2), nullable=False),
        sa.Column("stale_after_seconds", sa.Integer(), nullable=False),
        sa.Column("credential", sa.LargeBinary(), nullable=True),
        sa.Column("last_polled_at", TS, nullable=True),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.Column("created_at", TS, nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("source IN ('bmrs', 'entsoe', 'ceb', 'replay', 'chargers')", name="ck_grid_region_source"),
        sa.CheckConstraint("emergency_below_hz < alert_below_hz AND alert_below_hz < nominal_hz"
                           " AND nominal_hz < alert_above_hz AND alert_above_hz < emergency_above_hz",
                           name="ck_grid_region_thresholds"),
        sa.CheckConstraint("margin_alert_percent >= 0 AND stale_after_seconds > 0", name="ck_grid_region_limits"),
    )
    op.create_table(
        "grid_reading",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("region", sa.String(16), sa.ForeignKey("grid_region.code", ondelete="CASCADE"), nullable=False),
        sa.Column("ts", TS, nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("frequency_hz", sa.Numeric(8, 4), nullable=True),
        sa.Column("demand_mw", sa.Numeric(12, 3), nullable=True),
        sa.Column("generation_mw", sa.Numeric(12, 3), nullable=True),
        sa.Column("mix", postgresql.JSONB(), nullable=True),
        sa.Column("flags", postgresql.ARRAY(sa.String(32)), nullable=False, server_default=sa.text("'{}'")),
    )
    op.create_index("uq_grid_reading", "grid_reading", ["region", "ts", "source"], unique=True)
    op.create_index("ix_grid_reading_ts_brin", "grid_reading", ["ts"], postgresql_using="brin")
    op.create_table(
        "grid_state_event",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("region", sa.String(16), sa.ForeignKey("grid_region.code", ondelete="CASCADE"), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("ended_at", TS, nullable=True),
        sa.Column("reason", sa.String(200), nullable=False, server_default=""),
        sa.CheckConstraint("state IN ('normal', 'alert', 'emergency', 'unknown')", name="ck_grid_state"),
    )
    op.create_index("uq_grid_state_open", "grid_state_event", ["region"], unique=True,
                    postgresql_where=sa.text("ended_at IS NULL"))
    op.create_index("ix_grid_state_region_start", "grid_state_event", ["region", "started_at"])
    op.create_table(
        "dr_policy",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("organization_id", sa.Integer(), sa.ForeignKey("organization.id", ondelete="CASCADE"),
                  nullable=False, unique=True),
        sa.Column("region", sa.String(16), sa.ForeignKey("grid_region.code", ondelete="RESTRICT"), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False, server_default=sa.text("false")),
        sa.Column("trigger_state", sa.String(16), nullable=False),
        sa.Column("limit_percent", sa.Numeric(5, 2), nullable=True),
        sa.Column("limit_kw", sa.Numeric(8, 2), nullable=True),
        sa.Column("exempt_charger_ids", postgresql.ARRAY(sa.Integer()), nullable=False,
                  server_default=sa.text("'{}'")),
        sa.Column("max_duration_minutes", sa.Integer(), nullable=False),
        sa.Column("profile_purpose", sa.String(32), nullable=False),
        sa.Column("chargers_as_sensors", sa.Boolean(), nullable=False, server_default=sa.text("false")),
        sa.CheckConstraint("trigger_state IN ('normal', 'alert', 'emergency', 'unknown')",
                           name="ck_dr_policy_trigger"),
        sa.CheckConstraint("(limit_percent IS NULL) <> (limit_kw IS NULL)", name="ck_dr_policy_one_limit"),
        sa.CheckConstraint("limit_percent IS NULL OR (limit_percent >= 0 AND limit_percent <= 100)",
                           name="ck_dr_policy_percent"),
        sa.CheckConstraint("limit_kw IS NULL OR limit_kw >= 0", name="ck_dr_policy_kw"),
        sa.CheckConstraint("max_duration_minutes BETWEEN 1 AND 1440", name="ck_dr_policy_duration"),
        sa.CheckConstraint("profile_purpose IN ('ChargePointMaxProfile', 'TxDefaultProfile')",
                           name="ck_dr_policy_purpose"),
    )
    op.create_table(
        "dr_event",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("organization_id", sa.Integer(), sa.ForeignKey("organization.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("region", sa.String(16), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("grid_state", sa.String(16), nullable=False, server_default=""),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("limit_percent", sa.Numeric(5, 2), nullable=True),
        sa.Column("limit_kw", sa.Numeric(8, 2), nullable=True),
        sa.Column("exempt_charger_ids", postgresql.ARRAY(sa.Integer()), nullable=False,
                  server_default=sa.text("'{}'")),
        sa.Column("profile_purpose", sa.String(32), nullable=False),
        sa.Column("note", sa.String(500), nullable=False, server_default=""),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("ends_at", TS, nullable=False),
        sa.Column("ended_at", TS, nullable=True),
        sa.Column("end_reason", sa.String(200), nullable=False, server_default=""),
        sa.Column("requested_by_id", sa.Integer(), sa.ForeignKey("app_user.id", ondelete="SET NULL"), nullable=True),
        sa.CheckConstraint("status IN ('active', 'ending', 'ended')", name="ck_dr_event_status"),
        sa.CheckConstraint("origin IN ('grid', 'manual', 'openadr')", name="ck_dr_event_origin"),
    )
    op.create_index("ix_dr_event_organization_id", "dr_event", ["organization_id"])
    op.create_index("uq_dr_event_open", "dr_event", ["organization_id"], unique=True,
                    postgresql_where=sa.text("status <> 'ended'"))
    op.create_table(
        "dr_action",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("event_id", sa.Integer(), sa.ForeignKey("dr_event.id", ondelete="CASCADE"), nullable=False),
        sa.Column("charger_id", sa.Integer(), sa.ForeignKey("charger.id", ondelete="CASCADE"), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("limit_w", sa.Integer(), nullable=True),
        sa.Column("command_id", sa.BigInteger(), nullable=True),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("answer", postgresql.JSONB(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("at", TS, nullable=False),
        sa.CheckConstraint("action IN ('SetChargingProfile', 'ClearChargingProfile')", name="ck_dr_action_action"),
    )
    op.create_index("ix_dr_action_event", "dr_action", ["event_id", "charger_id"])


def downgrade() -> None:
    for table in ("dr_action", "dr_event", "dr_policy", "grid_state_event", "grid_reading", "grid_region"):
        op.drop_table(table)
