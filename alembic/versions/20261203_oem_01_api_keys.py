"""per-client API keys, their use, client usage limits and the shared API rate counter

Revision ID: oem_01
Revises: octt_05
Create Date: 2026-12-03 06:30:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "oem_01"
down_revision: Union[str, None] = "octt_05"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def _ts(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "api_key",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("organization_id", sa.Integer(), sa.ForeignKey("organization.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("last_four", sa.String(4), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("scopes", postgresql.JSONB(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), sa.ForeignKey("app_user.id", ondelete="CASCADE"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        _ts("expires_at"), _ts("revoked_at"),
        sa.Column("replaced_by_id", sa.Integer(), sa.ForeignKey("api_key.id", ondelete="SET NULL"), nullable=True),
        _ts("grace_until"), _ts("last_used_at"),
        sa.Column("last_used_ip", sa.String(45), nullable=True),
    )
    op.create_table(
        "api_key_use",
        sa.Column("api_key_id", sa.Integer(), sa.ForeignKey("api_key.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("ip", sa.String(45), primary_key=True),
        sa.Column("user_agent", sa.String(200), nullable=False),
        sa.Column("calls", sa.BigInteger(), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "client_limits",
        sa.Column("organization_id", sa.Integer(), sa.ForeignKey("organization.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("max_chargers", sa.Integer(), nullable=True),
        sa.Column("max_users", sa.Integer(), nullable=True),
        sa.Column("api_calls_per_minute", sa.Integer(), nullable=True),
    )
    op.create_table(
        "api_rate_window",
        sa.Column("organization_id", sa.Integer(), sa.ForeignKey("organization.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("window_start", sa.DateTime(timezone=True), primary_key=True),
        sa.Column("calls", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    for table in ("api_rate_window", "client_limits", "api_key_use", "api_key"):
        op.drop_table(table)
