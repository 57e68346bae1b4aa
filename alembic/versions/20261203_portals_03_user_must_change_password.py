"""app_user.must_change_password: a temporary password set by an administrator must be changed at next login

Revision ID: portals_03
Revises: portals_02
Create Date: 2026-12-03 06:50:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "portals_03"
down_revision: Union[str, None] = "portals_02"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column("app_user", sa.Column("must_change_password", sa.Boolean(), nullable=False,
                                        server_default=sa.text("false")))


def downgrade() -> None:
    op.drop_column("app_user", "must_change_password")
