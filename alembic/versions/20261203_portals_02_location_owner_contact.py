"""location_owner contact details: the person to call, a phone number, the premises' address

Revision ID: portals_02
Revises: portals_01
Create Date: 2026-12-03 06:40:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "portals_02"
down_revision: Union[str, None] = "portals_01"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column("location_owner", sa.Column("contact_name", sa.String(200), nullable=True))
    op.add_column("location_owner", sa.Column("phone", sa.String(40), nullable=True))
    op.add_column("location_owner", sa.Column("address", sa.String(500), nullable=True))


def downgrade() -> None:
    for column in ("address", "phone", "contact_name"):
        op.drop_column("location_owner", column)
