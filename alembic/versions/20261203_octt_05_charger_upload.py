"""charger_upload: log and diagnostics files chargers upload to Voltdesk's file endpoint (branch octt)

Revision ID: octt_05
Revises: octt_04
Create Date: 2026-12-03 07:15:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "octt_05"
down_revision: Union[str, None] = "octt_04"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "charger_upload",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("charger_id", sa.Integer(), sa.ForeignKey("charger.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("filename", sa.String(255), nullable=True),
        sa.Column("size", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_charger_upload_charger_id", "charger_upload", ["charger_id"])


def downgrade() -> None:
    op.drop_table("charger_upload")
