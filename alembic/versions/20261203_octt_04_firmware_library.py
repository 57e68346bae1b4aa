"""firmware_image, firmware_rollout: the signed firmware library and its rollouts (branch octt)

Revision ID: octt_04
Revises: octt_03
Create Date: 2026-12-03 07:00:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "octt_04"
down_revision: Union[str, None] = "octt_03"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "firmware_image",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("organization_id", sa.Integer(), sa.ForeignKey("organization.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("version", sa.String(50), nullable=False),
        sa.Column("filename", sa.String(200), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("signing_certificate", sa.Text(), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.Column("token", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_firmware_image_organization_id", "firmware_image", ["organization_id"])
    op.create_table(
        "firmware_rollout",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("firmware_id", sa.Integer(), sa.ForeignKey("firmware_image.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("charger_id", sa.Integer(), sa.ForeignKey("charger.id", ondelete="CASCADE"), nullable=False),
        sa.Column("status", sa.String(40), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_firmware_rollout_image", "firmware_rollout", ["firmware_id", "charger_id"])
    op.create_index("ix_firmware_rollout_charger_id", "firmware_rollout", ["charger_id"])


def downgrade() -> None:
    op.drop_table("firmware_rollout")
    op.drop_table("firmware_image")
