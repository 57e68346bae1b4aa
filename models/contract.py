"""Commission contracts: who earns what share of a session, from a date onward.

A row never changes once written; a new rate is a new row with a later `effective_from`.
Pricing takes the latest row in force at the session's start, so a change never rewrites
past sessions (see services/charging/contracts.py).
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, DateTime, ForeignKeyConstraint, Index, String
from sqlmodel import Field, SQLModel

from models.base import created_at_field, fk_field, one_of, rate_field


class ContractKind(StrEnum):
    PLATFORM = "platform"
    LOCATION_OWNER = "location_owner"



class CommissionContract(SQLModel, table=True):
    __tablename__ = "commission_contract"
    __table_args__ = (
        one_of("kind", ContractKind, name="ck_contract_kind"),
        # Its location owner is its own organization's (and so is its charger: a trigger, migration iso12_01).
        ForeignKeyConstraint(["location_owner_id", "organization_id"],
                             ["location_owner.id", "location_owner.organization_id"],
                             name="fk_contract_owner_same_org"),
        CheckConstraint("rate >= 0 AND rate <= 100", name="ck_contract_rate"),
        # A platform contract covers the whole organization; a location-owner contract names
        # exactly one of: the location owner (all its chargers) or one charger (an override).
        CheckConstraint(
            "(kind = 'platform' AND location_owner_id IS NULL AND charger_id IS NULL)"
            " OR (kind = 'location_owner' AND (location_owner_id IS NULL) <> (charger_id IS NULL))",
            name="ck_contract_target",
        ),
        Index("ix_contract_lookup", "organization_id", "kind", "effective_from"),
    )

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = fk_field("organization.id", ondelete="CASCADE", index=False)
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    location_owner_id: int | None = fk_field("location_owner.id", nullable=True, ondelete="CASCADE")
    charger_id: int | None = fk_field("charger.id", nullable=True, ondelete="CASCADE")
    rate: Decimal = rate_field("0")
    effective_from: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    note: str = Field(default="", max_length=200)
    created_by_id: int | None = fk_field("app_user.id", nullable=True, ondelete="SET NULL", index=False)
    created_at: datetime = created_at_field()
