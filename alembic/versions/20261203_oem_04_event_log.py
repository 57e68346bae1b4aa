"""live events kept for Last-Event-ID resumption of GET /api/v1/events

Revision ID: oem_04
Revises: oem_03
Create Date: 2026-12-03 07:00:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "oem_04"
down_revision: Union[str, None] = "oem_03"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "event_log",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=True),
        sa.Column("charger_id", sa.Integer(), nullable=True),
        sa.Column("payload", postgresql.JSONB(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_event_log_created", "event_log", ["created_at"])


def downgrade() -> None:
    op.drop_table("event_log")
