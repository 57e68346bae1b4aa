"""status events carry suspect-data flags (branch ocpp18)

A StatusNotification stamped ahead of our clock is flagged `future_timestamp`; the live status orders it
by its receipt instead, so it can no longer freeze the connector.

Revision ID: 0021_ocpp18
Revises: 0020_ocpp18
Create Date: 2026-12-03 04:50:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0021_ocpp18"
down_revision: Union[str, None] = "0020_ocpp18"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column("charger_status_event", sa.Column("flags", postgresql.ARRAY(sa.String(32)), nullable=False,
                                                    server_default=sa.text("'{}'")))


def downgrade() -> None:
    op.drop_column("charger_status_event", "flags")
