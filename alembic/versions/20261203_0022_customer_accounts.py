"""customer accounts and their users; a session names the account that pays

Revision ID: 0022_customers
Revises: 0021_ocpp18
Create Date: 2026-12-03 06:10:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0022_customers"
down_revision: Union[str, None] = "0021_ocpp18"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "customer_account",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("organization_id", sa.Integer(), sa.ForeignKey("organization.id", ondelete="RESTRICT"),
                  nullable=False),
        sa.Column("parent_id", sa.Integer(), sa.ForeignKey("customer_account.id", ondelete="RESTRICT"),
                  nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("use", sa.String(16), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("legal_name", sa.String(200), nullable=True),
        sa.Column("registration_number", sa.String(64), nullable=True),
        sa.Column("vat_number", sa.String(64), nullable=True),
        sa.Column("billing_address", sa.String(500), nullable=True),
        sa.Column("reimbursement_rate", sa.Numeric(20, 4), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("kind IN ('business', 'consumer')", name="ck_customer_account_kind"),
        sa.CheckConstraint("status IN ('invited', 'active', 'disabled')", name="ck_customer_account_status"),
        sa.CheckConstraint("use IS NULL OR use IN ('employee', 'subsidiary')", name="ck_customer_account_use"),
        sa.CheckConstraint("(parent_id IS NULL) = (use IS NULL)", name="ck_customer_account_sub"),
        sa.CheckConstraint("kind <> 'business' OR (legal_name IS NOT NULL AND legal_name <> '')",
                           name="ck_customer_account_business"),
        sa.CheckConstraint("reimbursement_rate IS NULL OR reimbursement_rate >= 0", name="ck_customer_account_rate"),
    )
    op.create_index("ix_customer_account_organization_id", "customer_account", ["organization_id"])
    op.create_index("ix_customer_account_parent_id", "customer_account", ["parent_id"])
    op.create_index("ix_customer_account_org_name", "customer_account", ["organization_id", "name"])
    op.create_table(
        "customer_user",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("organization_id", sa.Integer(), sa.ForeignKey("organization.id", ondelete="RESTRICT"),
                  nullable=False),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("customer_account.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("full_name", sa.String(200), nullable=False, server_default=""),
        sa.Column("password_hash", sa.String(100), nullable=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("token_version", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("email_verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('invited', 'unverified', 'active', 'disabled')",
                           name="ck_customer_user_status"),
        sa.CheckConstraint("role IN ('owner', 'member')", name="ck_customer_user_role"),
        sa.CheckConstraint("email = lower(email) AND position('@' in email) > 1", name="ck_customer_user_email"),
    )
    op.create_index("uq_customer_user_org_email", "customer_user", ["organization_id", "email"], unique=True)
    op.create_index("ix_customer_user_account", "customer_user", ["account_id"])
    op.add_column("charging_session", sa.Column("customer_account_id", sa.Integer(),
                                                sa.ForeignKey("customer_account.id", ondelete="RESTRICT"),
                                                nullable=True))
    op.create_index("ix_session_customer_started", "charging_session", ["customer_account_id", "started_at"],
                    postgresql_where=sa.text("customer_account_id IS NOT NULL"))


def downgrade() -> None:
    op.drop_index("ix_session_customer_started", table_name="charging_session")
    op.drop_column("charging_session", "customer_account_id")
    op.drop_table("customer_user")
    op.drop_table("customer_account")
