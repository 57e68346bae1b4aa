"""The grid monitor and demand response: regions, readings, health states, policies, events and actions."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from models.base import created_at_field, fk_field, one_of, ts_field


class GridSource(StrEnum):
    BMRS = "bmrs"          # GB, Elexon BMRS (keyless)
    ENTSOE = "entsoe"      # Europe, ENTSO-E Transparency Platform (security token)
    CEB = "ceb"            # Sri Lanka, CEB load curve (previous day, no frequency)
    REPLAY = "replay"      # a recorded day played back (the demo)
    CHARGERS = "chargers"  # only the chargers' own Frequency/Voltage meter values


class GridState(StrEnum):
    NORMAL = "normal"
    ALERT = "alert"
    EMERGENCY = "emergency"
    UNKNOWN = "unknown"    # no fresh reading: never a stale "normal"


class DrStatus(StrEnum):
    ACTIVE = "active"
    ENDING = "ending"      # asked to end: clearing the profiles it set
    ENDED = "ended"


class GridRegion(SQLModel, table=True):
    """A grid region (a country, a bidding zone) with its source and thresholds."""
    __tablename__ = "grid_region"
    __table_args__ = (
        one_of("source", GridSource, name="ck_grid_region_source"),
        CheckConstraint("emergency_below_hz < alert_below_hz AND alert_below_hz < nominal_hz"
                        " AND nominal_hz < alert_above_hz AND alert_above_hz < emergency_above_hz",
                        name="ck_grid_region_thresholds"),
        CheckConstraint("margin_alert_percent >= 0 AND stale_after_seconds > 0", name="ck_grid_region_limits"),
    )

    code: str = Field(sa_column=Column(String(16), primary_key=True))
    name: str = Field(sa_column=Column(String(100), nullable=False))
    source: str = Field(sa_column=Column(String(16), nullable=False))
    # ENTSO-E area code (e.g. DE_LU) or the BMRS/CEB default; empty when the code itself is the area.
    area: str = Field(default="", sa_column=Column(String(32), nullable=False, server_default=""))
    timezone: str = Field(default="UTC", sa_column=Column(String(64), nullable=False, server_default="UTC"))
    nominal_hz: Decimal = Field(default=Decimal("50"), sa_column=Column(Numeric(6, 3), nullable=False))
    alert_below_hz: Decimal = Field(default=Decimal("49.8"), sa_column=Column(Numeric(6, 3), nullable=False))
    emergency_below_hz: Decimal = Field(default=Decimal("49.5"), sa_column=Column(Numeric(6, 3), nullable=False))
    alert_above_hz: Decimal = Field(default=Decimal("50.2"), sa_column=Column(Numeric(6, 3), nullable=False))
    emergency_above_hz: Decimal = Field(default=Decimal("50.5"), sa_column=Column(Numeric(6, 3), nullable=False))
    # Alert when generation exceeds demand by less than this share of demand.
    margin_alert_percent: Decimal = Field(default=Decimal("2"), sa_column=Column(Numeric(6, 2), nullable=False))
    stale_after_seconds: int = Field(default=120, sa_column=Column(Integer, nullable=False))
    # The source's credential (the ENTSO-E security token), encrypted (services/grid/credentials.py).
    credential: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    last_polled_at: datetime | None = ts_field()
    last_error: str | None = Field(default=None, sa_column=Column(String(500), nullable=True))
    created_at: datetime = created_at_field()


class GridReading(SQLModel, table=True):
    """One time-stamped reading of a region. BRIN on the time for retention; the unique index serves the
    per-region range queries and makes a re-fetched window harmless."""
    __tablename__ = "grid_reading"
    __table_args__ = (
        Index("uq_grid_reading", "region", "ts", "source", unique=True),
        Index("ix_grid_reading_ts_brin", "ts", postgresql_using="brin"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(), primary_key=True))
    region: str = Field(sa_column=Column(String(16), ForeignKey("grid_region.code", ondelete="CASCADE"),
                                         nullable=False))
    ts: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    source: str = Field(sa_column=Column(String(16), nullable=False))
    frequency_hz: Decimal | None = Field(default=None, sa_column=Column(Numeric(8, 4), nullable=True))
    demand_mw: Decimal | None = Field(default=None, sa_column=Column(Numeric(12, 3), nullable=True))
    generation_mw: Decimal | None = Field(default=None, sa_column=Column(Numeric(12, 3), nullable=True))
    mix: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB, nullable=True))
    # Out of physical range, kept but flagged: frequency_range, negative_demand, future_timestamp, ...
    flags: list[str] = Field(default_factory=list, sa_column=Column(ARRAY(String(32)), nullable=False,
                                                                     server_default=text("'{}'")))


class GridReadingMinute(SQLModel, table=True):
    """Per-minute sums and counts of a region's readings, written with them (services/grid/readings.py), so a
    chart of a day reads 1,440 rows instead of 86,400. Frequency counts only unflagged readings."""
    __tablename__ = "grid_reading_minute"

    region: str = Field(sa_column=Column(String(16), ForeignKey("grid_region.code", ondelete="CASCADE"),
                                         primary_key=True))
    minute: datetime = Field(sa_column=Column(DateTime(timezone=True), primary_key=True))
    f_sum: Decimal = Field(default=Decimal(0), sa_column=Column(Numeric(14, 4), nullable=False))
    f_n: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    d_sum: Decimal = Field(default=Decimal(0), sa_column=Column(Numeric(18, 3), nullable=False))
    d_n: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    g_sum: Decimal = Field(default=Decimal(0), sa_column=Column(Numeric(18, 3), nullable=False))
    g_n: int = Field(default=0, sa_column=Column(Integer, nullable=False))


class GridStateEvent(SQLModel, table=True):
    """A period of one health state of a region: opened when the state changes, closed by the next."""
    __tablename__ = "grid_state_event"
    __table_args__ = (
        one_of("state", GridState, name="ck_grid_state"),
        Index("uq_grid_state_open", "region", unique=True, postgresql_where=text("ended_at IS NULL")),
        Index("ix_grid_state_region_start", "region", "started_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    region: str = Field(sa_column=Column(String(16), ForeignKey("grid_region.code", ondelete="CASCADE"),
                                         nullable=False))
    state: str = Field(sa_column=Column(String(16), nullable=False))
    started_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    ended_at: datetime | None = ts_field()
    reason: str = Field(default="", sa_column=Column(String(200), nullable=False, server_default=""))


class DrPolicy(SQLModel, table=True):
    """An organization's grid region and its opt-in demand-response policy."""
    __tablename__ = "dr_policy"
    __table_args__ = (
        one_of("trigger_state", GridState, name="ck_dr_policy_trigger"),
        CheckConstraint("(limit_percent IS NULL) <> (limit_kw IS NULL)", name="ck_dr_policy_one_limit"),
        CheckConstraint("limit_percent IS NULL OR (limit_percent >= 0 AND limit_percent <= 100)",
                        name="ck_dr_policy_percent"),
        CheckConstraint("limit_kw IS NULL OR limit_kw >= 0", name="ck_dr_policy_kw"),
        CheckConstraint("max_duration_minutes BETWEEN 1 AND 1440", name="ck_dr_policy_duration"),
        CheckConstraint("profile_purpose IN ('ChargePointMaxProfile', 'TxDefaultProfile')",
                        name="ck_dr_policy_purpose"),
    )

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(sa_column=Column(ForeignKey("organization.id", ondelete="CASCADE"),
                                                  nullable=False, unique=True))
    region: str = Field(sa_column=Column(String(16), ForeignKey("grid_region.code", ondelete="RESTRICT"),
                                         nullable=False))
    enabled: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default=text("false")))
    # The lowest state that starts an event: "alert" (alert or emergency) or "emergency".
    trigger_state: str = Field(default=GridState.ALERT, sa_column=Column(String(16), nullable=False))
    limit_percent: Decimal | None = Field(default=None, sa_column=Column(Numeric(5, 2), nullable=True))
    limit_kw: Decimal | None = Field(default=None, sa_column=Column(Numeric(8, 2), nullable=True))
    exempt_charger_ids: list[int] = Field(default_factory=list, sa_column=Column(
        ARRAY(Integer), nullable=False, server_default=text("'{}'")))
    max_duration_minutes: int = Field(default=60, sa_column=Column(Integer, nullable=False))
    profile_purpose: str = Field(default="ChargePointMaxProfile", sa_column=Column(String(32), nullable=False))
    # Ask chargers for Frequency and Voltage in their MeterValues (ChangeConfiguration MeterValuesSampledData).
    chargers_as_sensors: bool = Field(default=False, sa_column=Column(Boolean, nullable=False,
                                                                      server_default=text("false")))
    # An OpenADR 2.0b VTN (a utility's or aggregator's server) whose events start demand response: its
    # address and the name this organization's VEN registers with (services/grid/openadr.py). Empty: none.
    vtn_url: str = Field(default="", sa_column=Column(String(500), nullable=False, server_default=""))
    ven_name: str = Field(default="", sa_column=Column(String(64), nullable=False, server_default=""))


class DrEvent(SQLModel, table=True):
    """One demand-response event of an organization: started by the grid state, by hand or by a VTN."""
    __tablename__ = "dr_event"
    __table_args__ = (
        one_of("status", DrStatus, name="ck_dr_event_status"),
        CheckConstraint("origin IN ('grid', 'manual', 'openadr')", name="ck_dr_event_origin"),
        Index("uq_dr_event_open", "organization_id", unique=True, postgresql_where=text("status <> 'ended'")),
        Index("uq_dr_event_external", "organization_id", "external_id", unique=True,
              postgresql_where=text("external_id <> ''")),
    )

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = fk_field("organization.id", ondelete="CASCADE")
    region: str = Field(sa_column=Column(String(16), nullable=False))
    origin: str = Field(sa_column=Column(String(16), nullable=False))
    grid_state: str = Field(default="", sa_column=Column(String(16), nullable=False, server_default=""))
    status: str = Field(default=DrStatus.ACTIVE, sa_column=Column(String(16), nullable=False))
    # The limit as it was when the event started (the policy may change meanwhile).
    limit_percent: Decimal | None = Field(default=None, sa_column=Column(Numeric(5, 2), nullable=True))
    limit_kw: Decimal | None = Field(default=None, sa_column=Column(Numeric(8, 2), nullable=True))
    exempt_charger_ids: list[int] = Field(default_factory=list, sa_column=Column(
        ARRAY(Integer), nullable=False, server_default=text("'{}'")))
    profile_purpose: str = Field(default="ChargePointMaxProfile", sa_column=Column(String(32), nullable=False))
    note: str = Field(default="", sa_column=Column(String(500), nullable=False, server_default=""))
    started_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    ends_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    ended_at: datetime | None = ts_field()
    end_reason: str = Field(default="", sa_column=Column(String(200), nullable=False, server_default=""))
    requested_by_id: int | None = fk_field("app_user.id", nullable=True, index=False, ondelete="SET NULL")
    # The VTN's event id of an OpenADR event, so a VEN that receives it again does not start it twice.
    external_id: str = Field(default="", sa_column=Column(String(64), nullable=False, server_default=""))


class DrAction(SQLModel, table=True):
    """The audit trail of an event: each profile set or cleared, with the charger's answer."""
    __tablename__ = "dr_action"
    __table_args__ = (
        CheckConstraint("action IN ('SetChargingProfile', 'ClearChargingProfile')", name="ck_dr_action_action"),
        Index("ix_dr_action_event", "event_id", "charger_id"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(), primary_key=True))
    event_id: int = fk_field("dr_event.id", ondelete="CASCADE", index=False)
    charger_id: int = fk_field("charger.id", ondelete="CASCADE", index=False)
    action: str = Field(sa_column=Column(String(32), nullable=False))
    limit_w: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    command_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    ok: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    answer: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB, nullable=True))
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
