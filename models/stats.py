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

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    text,
)
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


# ---------------------------------------------------------------- Finances and Transactions (migration 0013)
#
# Priced, completed sessions summed by the local day that dates each figure: Transactions places a session by
# its start, Finances by its stop. Every row keeps the two snapshot columns (`organization_id`,
# `location_owner_id`), so Scope.stat_filter reads them like sessions. Sessions outside the roll-ups
# (active, or completed but not priced) are few and read from the sessions themselves, as are the partial
# days at the edges of a rolling window.

class SessionFigures(SQLModel):
    """The shape every row below shares: what a day (or month) of sessions adds up to."""
    currency: str = Field(sa_type=String(3), nullable=False)
    sessions: int = Field(default=0, sa_type=Integer, nullable=False)
    energy_wh: int = Field(default=0, sa_type=BigInteger, nullable=False)
    gross: Decimal = Field(default=Decimal(0), sa_type=Numeric(20, 4), nullable=False)
    net_cpo: Decimal = Field(default=Decimal(0), sa_type=Numeric(20, 4), nullable=False)
    duration_s: Decimal = Field(default=Decimal(0), sa_type=Numeric(20, 6), nullable=False)


# A column declared with `sa_column` cannot be inherited (one Column object per table), so the keys shared by
# the roll-ups below are declared by type here and each table gets its own columns.

class OrgSnapshotFigures(SessionFigures):
    """SessionFigures keyed by the sessions' snapshot: the organization and location owner at their start."""
    id: int | None = Field(default=None, sa_type=BigInteger, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", ondelete="CASCADE", nullable=False)
    location_owner_id: int | None = Field(default=None, foreign_key="location_owner.id", ondelete="SET NULL",
                                          nullable=True)


class ChargerSnapshotFigures(SessionFigures):
    """OrgSnapshotFigures per charger as well."""
    id: int | None = Field(default=None, sa_type=BigInteger, primary_key=True)
    charger_id: int = Field(foreign_key="charger.id", ondelete="CASCADE", nullable=False)
    organization_id: int = Field(foreign_key="organization.id", ondelete="CASCADE", nullable=False)
    location_owner_id: int | None = Field(default=None, foreign_key="location_owner.id", ondelete="SET NULL",
                                          nullable=True)


class ChargerStartDayStat(ChargerSnapshotFigures, table=True):
    """Per charger and local start day: the Transactions breakdown and a one-charger filter."""
    __tablename__ = "charger_start_day_stat"
    __table_args__ = (
        Index("uq_charger_start_day_stat", "charger_id", "organization_id", "day", "currency",
              text("coalesce(location_owner_id, 0)"), unique=True),
        Index("ix_charger_start_day_stat_day", "day",
              postgresql_include=["charger_id", "organization_id", "location_owner_id", "currency", "sessions",
                                  "energy_wh", "gross", "duration_s"]),
    )

    day: date = Field(sa_type=Date, nullable=False)


class ChargerStartMonthStat(ChargerSnapshotFigures, table=True):
    """ChargerStartDayStat per local month (`month` is its first day): long ranges read whole months."""
    __tablename__ = "charger_start_month_stat"
    __table_args__ = (
        Index("uq_charger_start_month_stat", "charger_id", "organization_id", "month", "currency",
              text("coalesce(location_owner_id, 0)"), unique=True),
        Index("ix_charger_start_month_stat_month", "month",
              postgresql_include=["charger_id", "organization_id", "location_owner_id", "currency", "sessions",
                                  "energy_wh", "gross", "duration_s"]),
    )

    month: date = Field(sa_type=Date, nullable=False)


class OrgStartDayStat(OrgSnapshotFigures, table=True):
    """Per organization, location owner snapshot and local start day: Transactions' totals, chart and tree."""
    __tablename__ = "org_start_day_stat"
    __table_args__ = (
        Index("uq_org_start_day_stat", "organization_id", "day", "currency", text("coalesce(location_owner_id, 0)"),
              unique=True),
        Index("ix_org_start_day_stat_day", "day",
              postgresql_include=["organization_id", "location_owner_id", "currency", "sessions", "energy_wh",
                                  "gross", "net_cpo"]),
    )

    day: date = Field(sa_type=Date, nullable=False)


class ChargerStopDayStat(ChargerSnapshotFigures, table=True):
    """Per charger and local stop day: one page of the Finances charger table."""
    __tablename__ = "charger_stop_day_stat"
    __table_args__ = (
        Index("uq_charger_stop_day_stat", "charger_id", "organization_id", "day", "currency",
              text("coalesce(location_owner_id, 0)"), unique=True),
    )

    day: date = Field(sa_type=Date, nullable=False)


class OrgStopDayStat(OrgSnapshotFigures, table=True):
    """Per organization, location owner snapshot and local stop day: the Finances totals and tree."""
    __tablename__ = "org_stop_day_stat"
    __table_args__ = (
        Index("uq_org_stop_day_stat", "organization_id", "day", "currency", text("coalesce(location_owner_id, 0)"),
              unique=True),
        Index("ix_org_stop_day_stat_day", "day",
              postgresql_include=["organization_id", "location_owner_id", "currency", "sessions", "energy_wh",
                                  "gross"]),
    )

    day: date = Field(sa_type=Date, nullable=False)


class OrgStopHourStat(OrgSnapshotFigures, table=True):
    """Per organization, location owner snapshot and UTC hour of the stop: the partial days at the edges
    of the Finances periods, so only the partial hours are read from the sessions."""
    __tablename__ = "org_stop_hour_stat"
    __table_args__ = (
        Index("uq_org_stop_hour_stat", "organization_id", "hour", "currency", text("coalesce(location_owner_id, 0)"),
              unique=True),
        Index("ix_org_stop_hour_stat_hour", "hour",
              postgresql_include=["organization_id", "location_owner_id", "currency", "sessions", "energy_wh",
                                  "gross"]),
    )

    hour: datetime = Field(sa_type=DateTime(timezone=True), nullable=False)


# The Transactions breakdown's rolling windows (migration 0014): the last 30 and 365 local start days.
START_WINDOW_DAYS = (30, 365)


class ChargerStartWindowStat(SessionFigures, table=True):
    """ChargerStartDayStat over a whole window, per owner snapshot, as of the day in StartWindowAsOf."""
    __tablename__ = "charger_start_window_stat"
    __table_args__ = (
        Index("uq_charger_start_window_stat", "days", "charger_id", "organization_id", "currency",
              text("coalesce(location_owner_id, 0)"), unique=True),
        Index("ix_charger_start_window_stat_days_org", "days", "organization_id",
              postgresql_include=["charger_id", "location_owner_id", "currency", "sessions", "energy_wh", "gross",
                                  "duration_s"]),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True, autoincrement=True))
    days: int = Field(sa_type=SmallInteger, nullable=False)
    charger_id: int = fk_field("charger.id", ondelete="CASCADE", index=False)
    organization_id: int = fk_field("organization.id", ondelete="CASCADE", index=False)
    location_owner_id: int | None = fk_field("location_owner.id", nullable=True, ondelete="SET NULL", index=False)


class StartWindowAsOf(SQLModel, table=True):
    """The local day an organization's Transactions windows end on (absent: not built yet)."""
    __tablename__ = "start_window_as_of"

    organization_id: int = Field(sa_column=Column(Integer, ForeignKey("organization.id", ondelete="CASCADE"),
                                                  primary_key=True))
    as_of: date = Field(sa_column=Column(Date, nullable=False))


class ChargerEarnerStat(SQLModel, table=True):
    """Priced, completed sessions per charger, organization and owner snapshot (migration 0015): who
    earned on a charger, found without reading the sessions."""
    __tablename__ = "charger_earner_stat"
    __table_args__ = (
        Index("uq_charger_earner_stat", "charger_id", "organization_id", text("coalesce(location_owner_id, 0)"),
              unique=True),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True, autoincrement=True))
    charger_id: int = fk_field("charger.id", ondelete="CASCADE", index=False)
    organization_id: int = fk_field("organization.id", ondelete="CASCADE", index=False)
    location_owner_id: int | None = fk_field("location_owner.id", nullable=True, ondelete="SET NULL", index=False)
    sessions: int = Field(default=0, sa_type=Integer, nullable=False)
