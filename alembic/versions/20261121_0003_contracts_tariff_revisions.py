"""commission contracts and tariff revisions (services/contracts.py, services/tariffs.py)

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-21 04:56:46.615508
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel
from sqlalchemy.dialects import postgresql

revision: str = '0003'
down_revision: Union[str, None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('commission_contract',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('location_owner_id', sa.Integer(), nullable=True),
    sa.Column('charger_id', sa.Integer(), nullable=True),
    sa.Column('rate', sa.Numeric(precision=7, scale=3), nullable=False),
    sa.Column('effective_from', sa.DateTime(timezone=True), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("(kind = 'platform' AND location_owner_id IS NULL AND charger_id IS NULL) OR (kind = 'location_owner' AND (location_owner_id IS NULL) <> (charger_id IS NULL))", name='ck_contract_target'),
    sa.CheckConstraint("kind IN ('platform', 'location_owner')", name='ck_contract_kind'),
    sa.CheckConstraint('rate >= 0 AND rate <= 100', name='ck_contract_rate'),
    sa.ForeignKeyConstraint(['charger_id'], ['charger.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['app_user.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['location_owner_id'], ['location_owner.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_commission_contract_charger_id'), 'commission_contract', ['charger_id'], unique=False)
    op.create_index(op.f('ix_commission_contract_location_owner_id'), 'commission_contract', ['location_owner_id'], unique=False)
    op.create_index('ix_contract_lookup', 'commission_contract', ['organization_id', 'kind', 'effective_from'], unique=False)
    op.create_table('tariff_revision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tariff_id', sa.Integer(), nullable=False),
    sa.Column('effective_from', sa.DateTime(timezone=True), nullable=False),
    sa.Column('prices', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['app_user.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tariff_id'], ['tariff.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_tariff_revision_lookup', 'tariff_revision', ['tariff_id', 'effective_from'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_tariff_revision_lookup', table_name='tariff_revision')
    op.drop_table('tariff_revision')
    op.drop_index('ix_contract_lookup', table_name='commission_contract')
    op.drop_index(op.f('ix_commission_contract_location_owner_id'), table_name='commission_contract')
    op.drop_index(op.f('ix_commission_contract_charger_id'), table_name='commission_contract')
    op.drop_table('commission_contract')
