"""self-service settings: the viewer's time zone and date format, an e-mail change awaiting verification,
and per-user notification switches

Revision ID: portals_04
Revises: portals_03
Create Date: 2026-12-03 07:00:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "portals_04"
down_revision: Union[str, None] = "portals_03"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column("app_user", sa.Column("timezone", sa.String(64), nullable=True))
    op.add_column("app_user", sa.Column("date_format", sa.String(16), nullable=True))
    op.add_column("user_token", sa.Column("new_email", sa.String(254), nullable=True))
    op.drop_constraint("ck_user_token_purpose", "user_token", type_="check")
    op.create_check_constraint("ck_user_token_purpose", "user_token", "purpose IN ('invite', 'reset', 'email')")
    op.create_table(
        "user_notification_switch",
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("kind", sa.String(32), primary_key=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("user_notification_switch")
    op.drop_constraint("ck_user_token_purpose", "user_token", type_="check")
    op.create_check_constraint("ck_user_token_purpose", "user_token", "purpose IN ('invite', 'reset')")
    op.drop_column("user_token", "new_email")
    op.drop_column("app_user", "date_format")
    op.drop_column("app_user", "timezone")
