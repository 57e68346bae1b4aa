"""customers: support links, customer links and acceptances, billing plans, assets, enterprise plans,
subscription invoices, reimbursement statements (issue 9)

Revision ID: customers_01
Revises: 0022_customers
Create Date: 2026-12-03 06:07:34.244412
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


revision: str = 'customers_01'
down_revision: Union[str, None] = '0022_customers'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('billing_plan',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('price', sa.Numeric(precision=20, scale=4), nullable=False),
    sa.Column('interval', sa.String(length=8), nullable=False),
    sa.Column('session_fee', sa.Numeric(precision=20, scale=4), nullable=True),
    sa.Column('fee_kind', sa.String(length=8), nullable=True),
    sa.Column('for_card', sa.Boolean(), nullable=False),
    sa.Column('for_ac', sa.Boolean(), nullable=False),
    sa.Column('for_dc', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("fee_kind IS NULL OR fee_kind IN ('fixed', 'percent')", name='ck_billing_plan_fee_kind'),
    sa.CheckConstraint("interval IN ('month', 'year')", name='ck_billing_plan_interval'),
    sa.CheckConstraint('(fee_kind IS NULL) = (session_fee IS NULL)', name='ck_billing_plan_fee'),
    sa.CheckConstraint('for_card OR for_ac OR for_dc', name='ck_billing_plan_eligible'),
    sa.CheckConstraint('price >= 0 AND (session_fee IS NULL OR session_fee >= 0)', name='ck_billing_plan_prices'),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('uq_billing_plan_name', 'billing_plan', ['organization_id', 'name'], unique=True)
    op.create_table('customer_invoice_sequence',
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('last_value', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('organization_id')
    )
    op.create_table('customer_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("kind IN ('subscriptions', 'reimbursements')", name='ck_customer_run_kind'),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('uq_customer_run', 'customer_run', ['organization_id', 'kind', 'period_start'], unique=True)
    op.create_table('support_links',
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('terms_url', sa.String(length=500), server_default='', nullable=False),
    sa.Column('terms_version', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('privacy_url', sa.String(length=500), server_default='', nullable=False),
    sa.Column('privacy_version', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('support_contact', sa.String(length=254), server_default='', nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('organization_id')
    )
    op.create_table('customer_invoice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=100), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('total', sa.Numeric(precision=20, scale=4), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['customer_account.id'], ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('uq_customer_invoice_period', 'customer_invoice', ['account_id', 'period_start', 'period_end'], unique=True)
    op.create_index('uq_customer_invoice_seq', 'customer_invoice', ['organization_id', 'seq'], unique=True)
    op.create_table('enterprise_plan',
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('price_per_asset', sa.Numeric(precision=20, scale=4), nullable=False),
    sa.Column('public_charging', sa.Boolean(), nullable=False),
    sa.Column('started_on', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('price_per_asset >= 0', name='ck_enterprise_plan_price'),
    sa.ForeignKeyConstraint(['account_id'], ['customer_account.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('account_id')
    )
    op.create_index(op.f('ix_enterprise_plan_organization_id'), 'enterprise_plan', ['organization_id'], unique=False)
    op.create_table('charger_claim_code',
    sa.Column('charger_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('set_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['charger_id'], ['charger.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('charger_id')
    )
    op.create_table('charging_asset',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('id_tag_id', sa.Integer(), nullable=True),
    sa.Column('charger_id', sa.Integer(), nullable=True),
    sa.Column('plan_id', sa.Integer(), nullable=True),
    sa.Column('activated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('deactivated_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("(kind = 'card') = (id_tag_id IS NOT NULL) AND (kind = 'charger') = (charger_id IS NOT NULL)", name='ck_charging_asset_target'),
    sa.CheckConstraint("kind IN ('card', 'charger')", name='ck_charging_asset_kind'),
    sa.ForeignKeyConstraint(['account_id'], ['customer_account.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['charger_id'], ['charger.id'], ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['id_tag_id'], ['id_tag.id'], ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['plan_id'], ['billing_plan.id'], ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_charging_asset_account', 'charging_asset', ['account_id'], unique=False)
    op.create_index('uq_charging_asset_card', 'charging_asset', ['id_tag_id'], unique=True, postgresql_where=sa.text('deactivated_at IS NULL'))
    op.create_index('uq_charging_asset_charger', 'charging_asset', ['charger_id'], unique=True, postgresql_where=sa.text('deactivated_at IS NULL'))
    op.create_table('customer_acceptance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_user_id', sa.Integer(), nullable=False),
    sa.Column('terms_url', sa.String(length=500), nullable=False),
    sa.Column('terms_version', sa.Integer(), nullable=False),
    sa.Column('privacy_url', sa.String(length=500), nullable=False),
    sa.Column('privacy_version', sa.Integer(), nullable=False),
    sa.Column('accepted_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['customer_user_id'], ['customer_user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_customer_acceptance_customer_user_id'), 'customer_acceptance', ['customer_user_id'], unique=False)
    op.create_table('customer_invoice_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('description', sa.String(length=300), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=20, scale=4), nullable=False),
    sa.ForeignKeyConstraint(['invoice_id'], ['customer_invoice.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_customer_invoice_line_invoice_id'), 'customer_invoice_line', ['invoice_id'], unique=False)
    op.create_table('customer_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_user_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=16), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("purpose IN ('invite', 'verify')", name='ck_customer_token_purpose'),
    sa.CheckConstraint('expires_at > created_at', name='ck_customer_token_expiry'),
    sa.ForeignKeyConstraint(['created_by_id'], ['app_user.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['customer_user_id'], ['customer_user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    op.create_index('ix_customer_token_open', 'customer_token', ['customer_user_id', 'purpose'], unique=False, postgresql_where=sa.text('used_at IS NULL AND revoked_at IS NULL'))
    op.create_table('reimbursement_statement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('session_count', sa.Integer(), nullable=False),
    sa.Column('energy_wh', sa.BigInteger(), nullable=False),
    sa.Column('rate', sa.Numeric(precision=20, scale=4), nullable=False),
    sa.Column('amount', sa.Numeric(precision=20, scale=4), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('paid_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('payable', 'awaiting', 'paid')", name='ck_reimbursement_status'),
    sa.ForeignKeyConstraint(['account_id'], ['customer_account.id'], ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['paid_by_id'], ['app_user.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_reimbursement_org', 'reimbursement_statement', ['organization_id', 'period_start'], unique=False)
    op.create_index('uq_reimbursement_month', 'reimbursement_statement', ['account_id', 'period_start'], unique=True)


def downgrade() -> None:
    op.drop_index('uq_reimbursement_month', table_name='reimbursement_statement')
    op.drop_index('ix_reimbursement_org', table_name='reimbursement_statement')
    op.drop_table('reimbursement_statement')
    op.drop_index('ix_customer_token_open', table_name='customer_token', postgresql_where=sa.text('used_at IS NULL AND revoked_at IS NULL'))
    op.drop_table('customer_token')
    op.drop_index(op.f('ix_customer_invoice_line_invoice_id'), table_name='customer_invoice_line')
    op.drop_table('customer_invoice_line')
    op.drop_index(op.f('ix_customer_acceptance_customer_user_id'), table_name='customer_acceptance')
    op.drop_table('customer_acceptance')
    op.drop_index('uq_charging_asset_charger', table_name='charging_asset', postgresql_where=sa.text('deactivated_at IS NULL'))
    op.drop_index('uq_charging_asset_card', table_name='charging_asset', postgresql_where=sa.text('deactivated_at IS NULL'))
    op.drop_index('ix_charging_asset_account', table_name='charging_asset')
    op.drop_table('charging_asset')
    op.drop_table('charger_claim_code')
    op.drop_index(op.f('ix_enterprise_plan_organization_id'), table_name='enterprise_plan')
    op.drop_table('enterprise_plan')
    op.drop_index('uq_customer_invoice_seq', table_name='customer_invoice')
    op.drop_index('uq_customer_invoice_period', table_name='customer_invoice')
    op.drop_table('customer_invoice')
    op.drop_table('support_links')
    op.drop_index('uq_customer_run', table_name='customer_run')
    op.drop_table('customer_run')
    op.drop_table('customer_invoice_sequence')
    op.drop_index('uq_billing_plan_name', table_name='billing_plan')
    op.drop_table('billing_plan')
