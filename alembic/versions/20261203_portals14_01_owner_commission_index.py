"""charging_session: an index for a location owner's Finances (its commission per charger and period)

The roll-ups keep no commission, so a location owner's figures are summed from its sessions
(services/billing/finance.py `_owner_figures`); this index reads them by owner and stop time alone.

Revision ID: portals14_01
Revises: cust9_01
Create Date: 2026-12-03 09:20:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "portals14_01"
down_revision: Union[str, None] = "cust9_01"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_index("ix_session_owner_stopped", "charging_session", ["location_owner_id", "stopped_at"],
                    postgresql_include=["charger_id", "organization_id", "currency", "energy_wh", "amount_gross",
                                        "amount_location_owner"],
                    postgresql_where=sa.text("status = 'completed' AND location_owner_id IS NOT NULL"))


def downgrade() -> None:
    op.drop_index("ix_session_owner_stopped", table_name="charging_session")
