"""chargers may use security profile 3: TLS with a client certificate from the CSMS CA (branch octt)

Revision ID: octt_03
Revises: octt_02
Create Date: 2026-12-03 06:50:00
"""
from typing import Sequence, Union

from alembic import op

revision: str = "octt_03"
down_revision: Union[str, None] = "octt_02"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.drop_constraint("ck_charger_security_profile", "charger", type_="check")
    op.create_check_constraint("ck_charger_security_profile", "charger", "security_profile IN (0, 1, 2, 3)")


def downgrade() -> None:
    op.drop_constraint("ck_charger_security_profile", "charger", type_="check")
    op.create_check_constraint("ck_charger_security_profile", "charger", "security_profile IN (0, 1, 2)")
