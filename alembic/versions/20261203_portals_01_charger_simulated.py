"""charger.simulated: the demo's own chargers, the ones `make run` simulates

Revision ID: portals_01
Revises: oem_04
Create Date: 2026-12-03 06:30:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "portals_01"
down_revision: Union[str, None] = "oem_04"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column("charger", sa.Column("simulated", sa.Boolean(), nullable=False, server_default=sa.text("false")))


def downgrade() -> None:
    op.drop_column("charger", "simulated")
