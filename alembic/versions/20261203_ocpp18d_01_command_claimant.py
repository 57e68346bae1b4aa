"""charger_command.claimed_by_process_id: which OCPP process claimed a sent command

A survivor's dead-process sweep fails the sent commands of the process it sweeps, so the caller reads the
row's final state instead of guessing one at deadline + grace.

Revision ID: ocpp18d_01
Revises: pay10c_01
Create Date: 2026-12-03 12:00:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "ocpp18d_01"
down_revision: Union[str, None] = "pay10c_01"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # No foreign key: a process's liveness row is deleted when it stops or is swept.
    op.add_column("charger_command", sa.Column("claimed_by_process_id", sa.Integer(), nullable=True))
    op.create_index("ix_command_sent_by_process", "charger_command", ["claimed_by_process_id"],
                    postgresql_where=sa.text("status = 'sent'"))


def downgrade() -> None:
    op.drop_index("ix_command_sent_by_process", table_name="charger_command")
    op.drop_column("charger_command", "claimed_by_process_id")
