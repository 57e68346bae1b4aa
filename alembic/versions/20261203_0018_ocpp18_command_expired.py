"""command status 'expired' (branch ocpp18)

A command whose deadline passes before it is sent is marked expired and never sent.

Revision ID: 0018_ocpp18
Revises: 0017_access12
Create Date: 2026-12-03 04:30:00
"""
from typing import Sequence, Union

from alembic import op

revision: str = "0018_ocpp18"
down_revision: Union[str, None] = "0017_access12"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.drop_constraint("ck_command_status", "charger_command", type_="check")
    op.create_check_constraint("ck_command_status", "charger_command",
                               "status IN ('pending', 'sent', 'done', 'failed', 'expired')")


def downgrade() -> None:
    op.execute("UPDATE charger_command SET status = 'failed' WHERE status = 'expired'")
    op.drop_constraint("ck_command_status", "charger_command", type_="check")
    op.create_check_constraint("ck_command_status", "charger_command",
                               "status IN ('pending', 'sent', 'done', 'failed')")
