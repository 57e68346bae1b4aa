"""a client's branded app configuration (App Builder)

Revision ID: oem_03
Revises: oem_02
Create Date: 2026-12-03 06:50:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "oem_03"
down_revision: Union[str, None] = "oem_02"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "app_config",
        sa.Column("organization_id", sa.Integer(), sa.ForeignKey("organization.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("app_name", sa.String(60), nullable=False),
        sa.Column("logo_url", sa.String(500), nullable=True),
        sa.Column("primary_color", sa.String(7), nullable=False),
        sa.Column("accent_color", sa.String(7), nullable=False),
        sa.Column("support_email", sa.String(254), nullable=True),
        sa.Column("support_phone", sa.String(40), nullable=True),
        sa.Column("support_url", sa.String(500), nullable=True),
        sa.Column("terms_url", sa.String(500), nullable=True),
        sa.Column("privacy_url", sa.String(500), nullable=True),
        sa.Column("features", postgresql.JSONB(), nullable=False),
        sa.Column("api_key_id", sa.Integer(), sa.ForeignKey("api_key.id", ondelete="SET NULL"), nullable=True,
                  unique=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )


def downgrade() -> None:
    op.drop_table("app_config")
