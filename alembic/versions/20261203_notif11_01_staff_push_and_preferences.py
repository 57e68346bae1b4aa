"""staff Web Push subscriptions (push_device of a staff user) and one preferences shape: the account page's
notification switches move into notification_preference, and their table goes

Revision ID: notif11_01
Revises: pay10_01
Create Date: 2026-12-03 09:40:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "notif11_01"
down_revision: Union[str, None] = "pay10_01"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# The old "charger_faults" switch off means charger alerts muted; its other two kinds were never sent.
MOVE_SWITCHES = """
INSERT INTO notification_preference (user_id, muted_kinds)
SELECT s.user_id, '["charger_alerts"]'::jsonb FROM user_notification_switch s
WHERE s.kind = 'charger_faults' AND NOT s.enabled
ON CONFLICT (user_id) WHERE user_id IS NOT NULL DO NOTHING
"""


def upgrade() -> None:
    op.add_column("push_device", sa.Column("user_id", sa.Integer(),
                                           sa.ForeignKey("app_user.id", ondelete="CASCADE"), nullable=True))
    op.alter_column("push_device", "customer_user_id", existing_type=sa.Integer(), nullable=True)
    op.create_check_constraint("ck_push_device_owner", "push_device",
                               "(user_id IS NULL) <> (customer_user_id IS NULL)")
    op.create_check_constraint("ck_push_device_staff_web", "push_device", "user_id IS NULL OR kind = 'web_push'")
    op.create_index("ix_push_device_staff", "push_device", ["user_id"])
    op.execute(MOVE_SWITCHES)
    op.drop_table("user_notification_switch")


def downgrade() -> None:
    op.create_table(
        "user_notification_switch",
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("kind", sa.String(32), primary_key=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
    )
    op.execute("DELETE FROM push_device WHERE user_id IS NOT NULL")
    op.drop_index("ix_push_device_staff", "push_device")
    op.drop_constraint("ck_push_device_staff_web", "push_device", type_="check")
    op.drop_constraint("ck_push_device_owner", "push_device", type_="check")
    op.alter_column("push_device", "customer_user_id", existing_type=sa.Integer(), nullable=False)
    op.drop_column("push_device", "user_id")
