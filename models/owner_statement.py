"""Monthly commission statements of location owners (issue 14), made by the billing worker once per month."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Column, Date, Index, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from models.base import created_at_field, fk_field, money_field


class OwnerStatement(SQLModel, table=True):
    """What one location owner earned in one month of its organization's calendar, per charger (`lines`).

    The unique key makes it exactly once, whichever worker gets there first."""

    __tablename__ = "owner_statement"
    __table_args__ = (Index("uq_owner_statement_period", "location_owner_id", "period_start", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    location_owner_id: int = fk_field("location_owner.id", ondelete="CASCADE", index=False)
    organization_id: int = fk_field("organization.id", ondelete="CASCADE")
    period_start: date = Field(sa_column=Column(Date, nullable=False))
    period_end: date = Field(sa_column=Column(Date, nullable=False))
    currency: str = Field(sa_column=Column(String(3), nullable=False))
    sessions: int = 0
    energy_wh: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    revenue: Decimal = money_field()  # what drivers paid at its chargers (gross)
    commission: Decimal = money_field()  # its earnings: the sum of the sessions' location-owner amounts
    # [{"charger_id", "ocpp_id", "name", "sessions", "energy_wh", "revenue", "commission"}], by charger id
    lines: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSONB, nullable=False))
    created_at: datetime = created_at_field()
