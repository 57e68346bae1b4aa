"""client-specific custom roles; a user may hold one

Revision ID: oem_02
Revises: oem_01
Create Date: 2026-12-03 06:40:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "oem_02"
down_revision: Union[str, None] = "oem_01"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "custom_role",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("organization_id", sa.Integer(), sa.ForeignKey("organization.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("capabilities", postgresql.JSONB(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("uq_custom_role_name", "custom_role", ["organization_id", "name"], unique=True)
    op.add_column("app_user", sa.Column("custom_role_id", sa.Integer(),
                                        sa.ForeignKey("custom_role.id", ondelete="RESTRICT"), nullable=True))


def downgrade() -> None:
    op.drop_column("app_user", "custom_role_id")
    op.drop_table("custom_role")
