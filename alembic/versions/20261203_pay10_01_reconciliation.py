"""payments: the daily reconciliation of each gateway's settlement report with the ledger (runs, mismatches)

Revision ID: pay10_01
Revises: grid16_02
Create Date: 2026-12-03 09:10:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "pay10_01"
down_revision: Union[str, None] = "grid16_02"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "reconciliation_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("gateway_id", sa.Integer(), nullable=False),
        sa.Column("gateway", sa.String(length=16), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("gateway_lines", sa.Integer(), nullable=False),
        sa.Column("ledger_payments", sa.Integer(), nullable=False),
        sa.Column("mismatches", sa.Integer(), nullable=False),
        sa.Column("message", sa.String(length=300), nullable=True),
        sa.Column("ran_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("status IN ('matched', 'mismatched', 'failed')", name="ck_reconciliation_run_status"),
        sa.ForeignKeyConstraint(["gateway_id"], ["payment_gateway.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["organization_id"], ["organization.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("gateway_id", "day", name="uq_reconciliation_run"),
    )
    op.create_index("ix_reconciliation_run_org_day", "reconciliation_run", ["organization_id", "day"])
    op.create_table(
        "reconciliation_mismatch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("gateway", sa.String(length=16), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("payment_reference", sa.String(length=64), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("gateway_amount", sa.Numeric(precision=20, scale=4), nullable=True),
        sa.Column("ledger_amount", sa.Numeric(precision=20, scale=4), nullable=True),
        sa.Column("detail", sa.String(length=300), nullable=False),
        sa.CheckConstraint("kind IN ('missing_in_ledger', 'missing_at_gateway', 'amount_differs')",
                           name="ck_reconciliation_mismatch_kind"),
        sa.ForeignKeyConstraint(["run_id"], ["reconciliation_run.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["organization_id"], ["organization.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["payment_id"], ["payment.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_reconciliation_mismatch_run", "reconciliation_mismatch", ["run_id"])
    op.create_index("ix_reconciliation_mismatch_org_day", "reconciliation_mismatch", ["organization_id", "day"])


def downgrade() -> None:
    op.drop_table("reconciliation_mismatch")
    op.drop_table("reconciliation_run")
