"""Daily roll-ups of completed sessions, kept by a database trigger (migration 0007).

The dashboard's revenue tiles and the per-charger performance table read these instead of millions
of sessions. `day` is the session's start date in its organization's timezone at the time it was
written, so "today", "this week" etc. follow the organization's local calendar. Revenue is the
sessions' `amount_gross` (what drivers paid), already rounded per session; sums of rounded amounts
need no further rounding.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import BigInteger, Column, Date, Index, Integer, Numeric, String, text
from sqlmodel import Field, SQLModel

from models.base import fk_field


class ChargerDayStat(SQLModel, table=True):
    __tablename__ = "charger_day_stat"
    __table_args__ = (
        # One row per charger, local day, currency and location owner snapshot (0 = none).
        Index("uq_charger_day_stat", "charger_id", "day", "currency", text("coalesce(location_owner_id, 0)"),
              unique=True),
        # Covering: the performance table reads a period of days from the index alone.
        Index("ix_charger_day_stat_org_day", "organization_id", "day",
              postgresql_include=["charger_id", "currency", "location_owner_id", "sessions", "energy_wh", "revenue"]),
        Index("ix_charger_day_stat_day", "day",
              postgresql_include=["charger_id", "organization_id", "currency", "location_owner_id", "sessions",
                                  "energy_wh", "revenue"]),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True, autoincrement=True))
    charger_id: int = fk_field("charger.id", ondelete="CASCADE", index=False)
    organization_id: int = fk_field("organization.id", ondelete="CASCADE", index=False)
    location_owner_id: int | None = fk_field("location_owner.id", nullable=True, ondelete="SET NULL", index=False)
    day: date = Field(sa_column=Column(Date, nullable=False))
    currency: str = Field(sa_column=Column(String(3), nullable=False))
    sessions: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    energy_wh: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    revenue: Decimal = Field(default=Decimal(0), sa_column=Column(Numeric(20, 4), nullable=False))


class OrgDayStat(SQLModel, table=True):
    __tablename__ = "org_day_stat"

    organization_id: int = Field(sa_column=Column(Integer, primary_key=True))
    day: date = Field(sa_column=Column(Date, primary_key=True))
    currency: str = Field(sa_column=Column(String(3), primary_key=True))
    sessions: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    energy_wh: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    revenue: Decimal = Field(default=Decimal(0), sa_column=Column(Numeric(20, 4), nullable=False))
