"""user tokens: invitation (activation) and password-reset links, stored as hashes

Revision ID: 0011
Revises: 0004
Create Date: 2026-11-21 06:03:49
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: Union[str, None] = "0008"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

OPEN = "used_at IS NULL AND revoked_at IS NULL"


def upgrade() -> None:
    op.create_table(
        "user_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("purpose IN ('invite', 'reset')", name="ck_user_token_purpose"),
        sa.CheckConstraint("expires_at > created_at", name="ck_user_token_expiry"),
        sa.ForeignKeyConstraint(["created_by_id"], ["app_user.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_user_token_open", "user_token", ["user_id", "purpose"], postgresql_where=OPEN)


def downgrade() -> None:
    op.drop_index("ix_user_token_open", table_name="user_token", postgresql_where=OPEN)
    op.drop_table("user_token")
