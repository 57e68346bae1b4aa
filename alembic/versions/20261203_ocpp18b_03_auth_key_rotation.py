"""AuthorizationKey rotation: the new key's keyed hash while the charger may hold it (branch ocpp18b)

Revision ID: ocpp18b_03
Revises: ocpp18b_02
Create Date: 2026-12-03 06:50:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "ocpp18b_03"
down_revision: Union[str, None] = "ocpp18b_02"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column("charger", sa.Column("auth_key_hash_next", sa.String(128), nullable=True))


def downgrade() -> None:
    op.drop_column("charger", "auth_key_hash_next")
