"""mail outbox: password-reset mails are queued by the request and sent by the worker

Revision ID: 0016_access12
Revises: 0015
Create Date: 2026-12-03 04:20:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0016_access12"
down_revision: Union[str, None] = "0015"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

PENDING = "sent_at IS NULL"


def upgrade() -> None:
    op.create_table(
        "mail_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.CheckConstraint("kind IN ('password_reset')", name="ck_mail_outbox_kind"),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_mail_outbox_pending", "mail_outbox", ["id"], postgresql_where=PENDING)
    op.create_index("ix_mail_outbox_user", "mail_outbox", ["user_id", "kind", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_mail_outbox_user", table_name="mail_outbox")
    op.drop_index("ix_mail_outbox_pending", table_name="mail_outbox", postgresql_where=PENDING)
    op.drop_table("mail_outbox")
