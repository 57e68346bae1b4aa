"""local_auth_list: the local authorization list each charger holds, as last sent (branch octt)

Revision ID: octt_01
Revises: notify_01
Create Date: 2026-12-03 06:20:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "octt_01"
down_revision: Union[str, None] = "notify_01"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "local_auth_list",
        sa.Column("charger_id", sa.Integer(), sa.ForeignKey("charger.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("entries", postgresql.JSONB(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reported_version", sa.Integer(), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("local_auth_list")
