"""the connection registry: OCPP processes with liveness, each charger's owning process and generation
(branch ocpp18b, docs/adr/0008)

Revision ID: ocpp18b_02
Revises: ocpp18b_01
Create Date: 2026-12-03 06:45:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "ocpp18b_02"
down_revision: Union[str, None] = "ocpp18b_01"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "ocpp_process",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("hostname", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("renewed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_ocpp_process_renewed_at", "ocpp_process", ["renewed_at"])
    op.add_column("charger", sa.Column("connection_process_id", sa.BigInteger(),
                                       sa.ForeignKey("ocpp_process.id", ondelete="SET NULL"), nullable=True))
    op.add_column("charger", sa.Column("connection_generation", sa.BigInteger(), nullable=False,
                                       server_default=sa.text("0")))
    op.create_index("ix_charger_connection_process_id", "charger", ["connection_process_id"])


def downgrade() -> None:
    op.drop_index("ix_charger_connection_process_id", "charger")
    op.drop_column("charger", "connection_generation")
    op.drop_column("charger", "connection_process_id")
    op.drop_table("ocpp_process")
