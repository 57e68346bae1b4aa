"""owner_statement: monthly commission statements of location owners, once per owner and month

Revision ID: portals_05
Revises: portals_04
Create Date: 2026-12-03 07:10:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "portals_05"
down_revision: Union[str, None] = "portals_04"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "owner_statement",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("location_owner_id", sa.Integer(), sa.ForeignKey("location_owner.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("organization_id", sa.Integer(), sa.ForeignKey("organization.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("sessions", sa.Integer(), nullable=False),
        sa.Column("energy_wh", sa.BigInteger(), nullable=False),
        sa.Column("revenue", sa.Numeric(20, 4), nullable=False),
        sa.Column("commission", sa.Numeric(20, 4), nullable=False),
        sa.Column("lines", postgresql.JSONB(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_index("ix_owner_statement_organization_id", "owner_statement", ["organization_id"])
    op.create_index("uq_owner_statement_period", "owner_statement", ["location_owner_id", "period_start"],
                    unique=True)


def downgrade() -> None:
    op.drop_table("owner_statement")
