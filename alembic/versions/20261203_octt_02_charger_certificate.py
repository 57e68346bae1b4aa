"""charger_certificate: certificates the CSMS CA signed for chargers, with serial and expiry (branch octt)

Revision ID: octt_02
Revises: octt_01
Create Date: 2026-12-03 06:40:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "octt_02"
down_revision: Union[str, None] = "octt_01"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "charger_certificate",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("charger_id", sa.Integer(), sa.ForeignKey("charger.id", ondelete="CASCADE"), nullable=False),
        sa.Column("serial", sa.String(40), nullable=False, unique=True),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("not_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_charger_certificate_charger", "charger_certificate", ["charger_id", "not_after"])


def downgrade() -> None:
    op.drop_table("charger_certificate")
