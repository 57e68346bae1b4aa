"""partial credit notes for refunds: invoice.refund_id (once per refund); the period and full-credit uniques
leave refund credit notes out; refunds given back are found per organization at invoicing

Revision ID: pay10c_01
Revises: notif11_01
Create Date: 2026-12-03 12:00:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "pay10c_01"
down_revision: Union[str, None] = "notif11_01"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

PERIOD = ["organization_id", "kind", "period_start", "period_end", "revision"]


def upgrade() -> None:
    op.add_column("invoice", sa.Column("refund_id", sa.Integer(),
                                       sa.ForeignKey("payment_refund.id", ondelete="RESTRICT"), nullable=True))
    op.create_check_constraint("ck_invoice_refund", "invoice", "refund_id IS NULL OR kind = 'credit_note'")
    op.drop_index("uq_invoice_period", "invoice")
    op.create_index("uq_invoice_period", "invoice", PERIOD, unique=True, postgresql_where=sa.text("refund_id IS NULL"))
    op.drop_index("uq_invoice_credits", "invoice")
    op.create_index("uq_invoice_credits", "invoice", ["credits_invoice_id"], unique=True,
                    postgresql_where=sa.text("refund_id IS NULL"))
    op.create_index("ix_invoice_credits_partial", "invoice", ["credits_invoice_id"],
                    postgresql_where=sa.text("refund_id IS NOT NULL"))
    op.create_index("uq_invoice_refund", "invoice", ["refund_id"], unique=True,
                    postgresql_where=sa.text("refund_id IS NOT NULL"))
    op.create_index("ix_refund_org_succeeded", "payment_refund", ["organization_id"],
                    postgresql_where=sa.text("status = 'succeeded'"))


def downgrade() -> None:
    op.drop_index("ix_refund_org_succeeded", "payment_refund")
    op.execute("DELETE FROM invoice_line WHERE invoice_id IN (SELECT id FROM invoice WHERE refund_id IS NOT NULL)")
    op.execute("DELETE FROM invoice_status_change WHERE invoice_id IN "
               "(SELECT id FROM invoice WHERE refund_id IS NOT NULL)")
    op.execute("DELETE FROM invoice WHERE refund_id IS NOT NULL")
    op.drop_index("uq_invoice_refund", "invoice")
    op.drop_index("ix_invoice_credits_partial", "invoice")
    op.drop_index("uq_invoice_credits", "invoice")
    op.create_index("uq_invoice_credits", "invoice", ["credits_invoice_id"], unique=True)
    op.drop_index("uq_invoice_period", "invoice")
    op.create_index("uq_invoice_period", "invoice", PERIOD, unique=True)
    op.drop_constraint("ck_invoice_refund", "invoice", type_="check")
    op.drop_column("invoice", "refund_id")
