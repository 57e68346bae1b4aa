"""Roll-ups of completed sessions, kept by a database trigger (migrations 0007 and 0008).

The dashboard's revenue tiles and the per-charger performance table read these instead of millions
of sessions. `day` is the session's start date in its organization's timezone at the time it was
written, so "today", "this week" etc. follow the organization's local calendar. Revenue is the
sessions' `amount_gross` (what drivers paid), already rounded per session; sums of rounded amounts
need no further rounding.

Every row carries the sessions' snapshot at start, never the charger's current holder: `organization_id`,
and on the per-charger rows `location_owner_id` too, both part of the row's key. So `Scope.stat_filter`
filters a roll-up exactly as `Scope.transaction_filter` filters the sessions (services/access/scope.py).

Monthly roll-ups (`OrgMonthStat`, `ChargerMonthStat`) let "this year" and long windows read finished
months whole. The performance table's rolling windows (last 7, 30 and 365 local days) are kept whole
per charger in `ChargerWindowStat`, so a page over all 10,000 chargers reads one row per charger instead
of a year of daily rows. A window is only right for the local day it was built for: `SessionWindowAsOf` holds that day
per organization. The trigger adds a session to the windows that contain its day as of that date, and
`advance_session_windows(org, today)` moves an organization's windows to a new day by adding the daily
rows that enter and subtracting those that leave (services/network/dashboard.py calls it when a day has passed).
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import BigInteger, Column, Date, ForeignKey, Index, Integer, Numeric, SmallInteger, String, text
from sqlmodel import Field, SQLModel

from models.base import fk_field


class ChargerDayStat(SQLModel, table=True):
    __tablename__ = "charger_day_stat"
    __table_args__ = (
        # One row per charger, local day, currency and the session's snapshot: organization and location
        # owner (0 = none). A charger moved on keeps its rows with whoever earned them (migration 0012).
        Index("uq_charger_day_stat", "charger_id", "day", "currency", "organization_id",
              text("coalesce(location_owner_id, 0)"), unique=True),
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


class ChargerMonthStat(SQLModel, table=True):
    """ChargerDayStat summed per local calendar month (`month` is its first day): "this year" reads the
    months before the current one from here and only the current month's days from the daily table."""
    __tablename__ = "charger_month_stat"
    __table_args__ = (
        Index("uq_charger_month_stat", "charger_id", "month", "currency", "organization_id",
              text("coalesce(location_owner_id, 0)"), unique=True),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True, autoincrement=True))
    charger_id: int = fk_field("charger.id", ondelete="CASCADE", index=False)
    organization_id: int = fk_field("organization.id", ondelete="CASCADE", index=False)
    location_owner_id: int | None = fk_field("location_owner.id", nullable=True, ondelete="SET NULL", index=False)
    month: date = Field(sa_column=Column(Date, nullable=False))
    currency: str = Field(sa_column=Column(String(3), nullable=False))
    sessions: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    energy_wh: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    revenue: Decimal = Field(default=Decimal(0), sa_column=Column(Numeric(20, 4), nullable=False))


class OrgMonthStat(SQLModel, table=True):
    """OrgDayStat summed per local calendar month (`month` is its first day)."""
    __tablename__ = "org_month_stat"

    organization_id: int = Field(sa_column=Column(Integer, primary_key=True))
    month: date = Field(sa_column=Column(Date, primary_key=True))
    currency: str = Field(sa_column=Column(String(3), primary_key=True))
    sessions: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    energy_wh: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    revenue: Decimal = Field(default=Decimal(0), sa_column=Column(Numeric(20, 4), nullable=False))


# The rolling windows kept whole, in local days including today (the performance table's 7d/30d/365d).
WINDOW_DAYS = (7, 30, 365)


class ChargerWindowStat(SQLModel, table=True):
    """Per charger, organization and currency over the whole window; no location-owner split (a location
    owner's few chargers are summed from the monthly and daily roll-ups instead)."""
    __tablename__ = "charger_window_stat"
    __table_args__ = (
        # Covering: one window's rows for some organizations, read from the index alone.
        Index("ix_charger_window_stat_days_org", "days", "organization_id",
              postgresql_include=["charger_id", "currency", "sessions", "energy_wh", "revenue"]),
    )

    days: int = Field(sa_column=Column(SmallInteger, primary_key=True))
    charger_id: int = Field(sa_column=Column(Integer, ForeignKey("charger.id", ondelete="CASCADE"), primary_key=True))
    organization_id: int = Field(sa_column=Column(Integer, ForeignKey("organization.id", ondelete="CASCADE"),
                                                  primary_key=True))
    currency: str = Field(sa_column=Column(String(3), primary_key=True))
    sessions: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    energy_wh: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    revenue: Decimal = Field(default=Decimal(0), sa_column=Column(Numeric(20, 4), nullable=False))


class SessionWindowAsOf(SQLModel, table=True):
    """The local day an organization's windows currently end on (absent: not built yet)."""
    __tablename__ = "session_window_as_of"

    organization_id: int = Field(sa_column=Column(Integer, ForeignKey("organization.id", ondelete="CASCADE"),
                                                  primary_key=True))
    as_of: date = Field(sa_column=Column(Date, nullable=False))
