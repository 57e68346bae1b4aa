"""meter samples stored once; backwards meters count 0 Wh (branch ocpp18)

- A MeterValues resent (the same UniqueId) or a sample with the same connector, timestamp, measurand,
  phase and location is one reading: duplicates already stored are removed (the first kept) and a unique
  index makes the writer skip them from now on.
- A session whose meterStop was below its meterStart stored a negative energy; it keeps its
  `meter_backwards` flag and counts 0 Wh (the roll-up triggers follow the update).

Revision ID: 0019_ocpp18
Revises: 0018_ocpp18
Create Date: 2026-12-03 04:40:00
"""
from typing import Sequence, Union

from alembic import op

revision: str = "0019_ocpp18"
down_revision: Union[str, None] = "0018_ocpp18"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.execute("""
        DELETE FROM meter_value m USING meter_value d
        WHERE d.charger_id = m.charger_id AND d.connector_id = m.connector_id AND d.timestamp = m.timestamp
          AND d.measurand = m.measurand AND coalesce(d.phase, '') = coalesce(m.phase, '')
          AND coalesce(d.location, '') = coalesce(m.location, '') AND d.id < m.id
    """)
    op.execute("CREATE UNIQUE INDEX uq_meter_value_sample ON meter_value"
               " (charger_id, connector_id, timestamp, measurand, (coalesce(phase, '')), (coalesce(location, '')))")
    op.execute("UPDATE charging_session SET energy_wh = 0 WHERE energy_wh < 0")


def downgrade() -> None:
    op.execute("DROP INDEX uq_meter_value_sample")
