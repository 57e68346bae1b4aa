"""a billing plan can be deactivated: no longer offered, while assets already on it keep it

Revision ID: cust9_01
Revises: iso12_01
Create Date: 2026-12-03 09:10:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "cust9_01"
down_revision: Union[str, None] = "iso12_01"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column("billing_plan", sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.text("true")))


def downgrade() -> None:
    op.drop_column("billing_plan", "active")
