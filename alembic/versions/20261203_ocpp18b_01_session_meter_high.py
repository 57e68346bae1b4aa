"""each session's highest meter reading in its own row (branch ocpp18b)

The meter writer flagged backwards readings by reading all of a session's samples before each batch; it now
reads and raises one row per session.

Revision ID: ocpp18b_01
Revises: grid_01
Create Date: 2026-12-03 06:30:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "ocpp18b_01"
down_revision: Union[str, None] = "grid_01"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "session_meter_high",
        sa.Column("transaction_id", sa.Integer(), sa.ForeignKey("charging_session.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("wh", sa.Numeric(20, 4), nullable=False),
    )
    op.execute("""
        INSERT INTO session_meter_high (transaction_id, wh)
        SELECT s.id, greatest(s.meter_start, max(CASE WHEN m.unit = 'kWh' THEN m.value * 1000 ELSE m.value END))
        FROM charging_session s JOIN meter_value m ON m.transaction_id = s.id
        WHERE m.measurand = 'Energy.Active.Import.Register' AND m.phase IS NULL
          AND coalesce(m.location, 'Outlet') = 'Outlet' AND NOT ('meter_backwards' = ANY(m.flags))
        GROUP BY s.id, s.meter_start
    """)


def downgrade() -> None:
    op.drop_table("session_meter_high")
