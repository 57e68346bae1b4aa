"""Organizations: a tree of platform operator → client organizations → sub-accounts."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, Index, String, text
from sqlmodel import Field, SQLModel

from models.base import created_at_field, fk_field, money_field, one_of, rate_field


class OrganizationKind(StrEnum):
    """Where an organization sits in the tree: the one platform operator, its clients, their sub-accounts."""
    OPERATOR = "operator"
    CLIENT = "client"
    SUB = "sub"


class Region(StrEnum):
    US = "US"
    EU = "EU"
    MENA = "MENA"


class BillingCycle(StrEnum):
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"



class Organization(SQLModel, table=True):
    __tablename__ = "organization"
    __table_args__ = (
        CheckConstraint("slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'", name="ck_org_slug"),
        CheckConstraint("currency ~ '^[A-Z]{3}$'", name="ck_org_currency"),
        one_of("kind", OrganizationKind, name="ck_org_kind"),
        one_of("region", Region, name="ck_org_region"),
        one_of("billing_cycle", BillingCycle, name="ck_org_cycle"),
        CheckConstraint(
            "(billing_cycle = 'weekly' AND billing_day BETWEEN 1 AND 7)"
            " OR (billing_cycle <> 'weekly' AND billing_day BETWEEN 1 AND 28)",
            name="ck_org_billing_day",
        ),
        CheckConstraint("payment_terms_days BETWEEN 0 AND 365", name="ck_org_terms"),
        CheckConstraint("vat_rate >= 0 AND vat_rate <= 100", name="ck_org_vat"),
        CheckConstraint("ssc_levy_rate >= 0 AND ssc_levy_rate <= 100", name="ck_org_ssc"),
        CheckConstraint("platform_commission_rate >= 0 AND platform_commission_rate <= 100", name="ck_org_commission"),
        CheckConstraint("gateway_fee_percent >= 0 AND gateway_fee_percent <= 100", name="ck_org_gateway_pct"),
        CheckConstraint("gateway_fee_fixed >= 0", name="ck_org_gateway_fixed"),
        CheckConstraint("energy_cost_per_kwh >= 0", name="ck_org_energy_cost"),
        CheckConstraint("(kind = 'operator') = (parent_id IS NULL)", name="ck_org_root"),
        # There is exactly one platform operator at the root of the tree.
        Index("uq_org_single_operator", "kind", unique=True, postgresql_where=text("kind = 'operator'")),
    )

    id: int | None = Field(default=None, primary_key=True)
    parent_id: int | None = fk_field("organization.id", nullable=True, ondelete="RESTRICT")
    kind: str = Field(default=OrganizationKind.CLIENT, sa_column=Column(String(16), nullable=False))
    slug: str = Field(sa_column=Column(String(63), nullable=False, unique=True))
    name: str = Field(sa_column=Column(String(200), nullable=False))
    logo_path: str | None = Field(default=None, max_length=300)
    currency: str = Field(default="USD", sa_column=Column(String(3), nullable=False))
    timezone: str = Field(default="UTC", sa_column=Column(String(64), nullable=False))
    region: str = Field(default=Region.US, sa_column=Column(String(8), nullable=False))

    # Legal details, printed on invoices.
    legal_name: str | None = Field(default=None, max_length=200)
    address: str | None = Field(default=None, max_length=500)
    registration_number: str | None = Field(default=None, max_length=64)
    tax_number: str | None = Field(default=None, max_length=64)
    billing_email: str | None = Field(default=None, max_length=254)

    # Billing.
    billing_cycle: str = Field(default=BillingCycle.MONTHLY, sa_column=Column(String(16), nullable=False))
    billing_day: int = 1
    payment_terms_days: int = 30

    # Taxes, commission and costs (percentages are 0..100).
    vat_rate: Decimal = rate_field("0")
    ssc_levy_rate: Decimal = rate_field("0")
    platform_commission_rate: Decimal = rate_field("0")
    gateway_fee_percent: Decimal = rate_field("0")
    gateway_fee_fixed: Decimal = money_field("0")
    energy_cost_per_kwh: Decimal = money_field("0")

    created_at: datetime = created_at_field()
