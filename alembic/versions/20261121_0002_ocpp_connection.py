"""OCPP server: the live connection token on chargers and a per-command answer timeout.

Revision ID: 0002
Revises: 0001
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: Union[str, None] = "0003"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column("charger", sa.Column("connection_token", sa.String(length=64), nullable=True))
    op.add_column("charger_command", sa.Column("timeout_seconds", sa.Float(), nullable=True))


def downgrade() -> None:
    op.drop_column("charger_command", "timeout_seconds")
    op.drop_column("charger", "connection_token")
