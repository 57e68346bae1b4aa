"""unknown chargers: one row per (id, address), new rows per address capped by the OCPP server

Revision ID: 0017_access12
Revises: 0016_access12
Create Date: 2026-12-03 04:25:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0017_access12"
down_revision: Union[str, None] = "0016_access12"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.execute("UPDATE unknown_charger SET remote_address = '' WHERE remote_address IS NULL")
    op.alter_column("unknown_charger", "remote_address", existing_type=sa.String(length=100), nullable=False,
                    server_default="")
    op.drop_constraint("unknown_charger_ocpp_id_key", "unknown_charger", type_="unique")
    op.create_unique_constraint("uq_unknown_charger_id_address", "unknown_charger", ["ocpp_id", "remote_address"])
    op.create_index("ix_unknown_charger_ocpp_id", "unknown_charger", ["ocpp_id"])
    op.create_index("ix_unknown_charger_address_seen", "unknown_charger", ["remote_address", "first_seen_at"])


def downgrade() -> None:
    op.drop_index("ix_unknown_charger_address_seen", table_name="unknown_charger")
    op.drop_index("ix_unknown_charger_ocpp_id", table_name="unknown_charger")
    op.drop_constraint("uq_unknown_charger_id_address", "unknown_charger", type_="unique")
    # Keep the most recent row of each id, as before the split by address.
    op.execute("DELETE FROM unknown_charger u USING unknown_charger v WHERE u.ocpp_id = v.ocpp_id AND u.id < v.id")
    op.create_unique_constraint("unknown_charger_ocpp_id_key", "unknown_charger", ["ocpp_id"])
    op.alter_column("unknown_charger", "remote_address", existing_type=sa.String(length=100), nullable=True,
                    server_default=None)
