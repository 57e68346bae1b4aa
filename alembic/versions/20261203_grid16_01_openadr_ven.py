"""demand response from an OpenADR 2.0b VTN: the organization's VTN and VEN name, the VTN's event id

Revision ID: grid16_01
Revises: portals14_01
Create Date: 2026-12-03 09:00:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "grid16_01"
down_revision: Union[str, None] = "portals14_01"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column("dr_policy", sa.Column("vtn_url", sa.String(500), nullable=False, server_default=""))
    op.add_column("dr_policy", sa.Column("ven_name", sa.String(64), nullable=False, server_default=""))
    op.add_column("dr_event", sa.Column("external_id", sa.String(64), nullable=False, server_default=""))
    op.create_index("uq_dr_event_external", "dr_event", ["organization_id", "external_id"], unique=True,
                    postgresql_where=sa.text("external_id <> ''"))


def downgrade() -> None:
    op.drop_index("uq_dr_event_external", table_name="dr_event")
    op.drop_column("dr_event", "external_id")
    op.drop_column("dr_policy", "ven_name")
    op.drop_column("dr_policy", "vtn_url")
