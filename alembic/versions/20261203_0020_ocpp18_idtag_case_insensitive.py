"""idTags are unique whatever their case (branch ocpp18)

OCPP 1.6 IdToken is a case-insensitive identifier, so "abc1" and "ABC1" are one card. Lookups compare
lower(tag); this unique index serves them and keeps a second spelling of a card from being registered.
(If two spellings of one card already exist, this migration fails on the index: merge them first.)

Revision ID: 0020_ocpp18
Revises: 0019_ocpp18
Create Date: 2026-12-03 04:45:00
"""
from typing import Sequence, Union

from alembic import op

revision: str = "0020_ocpp18"
down_revision: Union[str, None] = "0019_ocpp18"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.execute("CREATE UNIQUE INDEX uq_idtag_tag_ci ON id_tag (lower(tag))")


def downgrade() -> None:
    op.execute("DROP INDEX uq_idtag_tag_ci")
