"""Charging sessions (OCPP transactions), meter values and status events."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    Numeric,
    String,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlmodel import Field, SQLModel

from models.base import created_at_field, fk_field, money_field, one_of, ts_field


class TransactionStatus(StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"

# Suspect-data flags, kept on the row rather than dropping the data.
FLAGS = ("meter_backwards", "future_timestamp", "overlapping_session", "stopped_without_start", "late_delivery",
         "closed_by_reconciliation")


class Transaction(SQLModel, table=True):
    """One charging session. Its id is the OCPP transactionId."""

    __tablename__ = "charging_session"
    __table_args__ = (
        one_of("status", TransactionStatus, name="ck_session_status"),
        CheckConstraint("connector_id >= 1", name="ck_session_connector"),
        CheckConstraint("(status = 'completed') = (stopped_at IS NOT NULL)", name="ck_session_stopped"),
        CheckConstraint("currency ~ '^[A-Z]{3}$'", name="ck_session_currency"),
        # A StartTransaction sent again must find the session it already created.
        Index("uq_session_start", "charger_id", "connector_id", "id_tag", "started_at", "meter_start", unique=True),
        Index("ix_session_org_started", "organization_id", "started_at"),
        Index("ix_session_charger_started", "charger_id", "started_at"),
        Index("ix_session_customer_started", "customer_account_id", "started_at",
              postgresql_where=text("customer_account_id IS NOT NULL")),
        Index("ix_session_active", "charger_id", "connector_id", postgresql_where=text("status = 'active'")),
        # The dashboard's last-24-hours table and the partial day at a Transactions preset's start read this
        # index alone; one page of Finances chargers reads its partial days from the other (0007, 0013).
        Index("ix_session_started_cover", "started_at",
              postgresql_include=["charger_id", "organization_id", "location_owner_id", "status", "priced_at",
                                  "currency", "energy_wh", "amount_gross", "amount_net_cpo", "stopped_at"]),
        Index("ix_session_charger_stopped", "charger_id", "stopped_at",
              postgresql_include=["organization_id", "location_owner_id", "priced_at", "currency", "energy_wh",
                                  "amount_gross"],
              postgresql_where=text("status = 'completed'")),
        # The few sessions the roll-ups leave out (models/stats.py): by start, and by stop for Finances.
        Index("ix_session_unrolled_started", "started_at",
              postgresql_where=text("status <> 'completed' OR priced_at IS NULL")),
        Index("ix_session_unpriced_stopped", "stopped_at",
              postgresql_where=text("status = 'completed' AND priced_at IS NULL")),
        # A location owner's Finances: its sessions and commission by stop time (portals14_01).
        Index("ix_session_owner_stopped", "location_owner_id", "stopped_at",
              postgresql_include=["charger_id", "organization_id", "currency", "energy_wh", "amount_gross",
                                  "amount_location_owner"],
              postgresql_where=text("status = 'completed' AND location_owner_id IS NOT NULL")),
    )

    id: int | None = Field(default=None, sa_column=Column(Integer, Identity(start=1), primary_key=True))
    charger_id: int = fk_field("charger.id", ondelete="RESTRICT", index=False)
    organization_id: int = fk_field("organization.id", ondelete="RESTRICT", index=False)
    connector_id: int
    id_tag: str = Field(sa_column=Column(String(20), nullable=False))
    id_tag_id: int | None = fk_field("id_tag.id", nullable=True, ondelete="SET NULL", index=False)
    reservation_id: int | None = None
    status: str = Field(default=TransactionStatus.ACTIVE, sa_column=Column(String(16), nullable=False))
    meter_start: int = Field(sa_column=Column(BigInteger, nullable=False))
    meter_stop: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    started_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    stopped_at: datetime | None = ts_field()
    stop_reason: str | None = Field(default=None, max_length=32)
    energy_wh: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    flags: list[str] = Field(default_factory=list, sa_column=Column(ARRAY(String(32)), nullable=False,
                                                                      server_default=text("'{}'")))
    location_owner_id: int | None = fk_field("location_owner.id", nullable=True, ondelete="SET NULL", index=False)
    # The customer account that pays, when the session ran on a customer's card or charger (models/customer.py).
    customer_account_id: int | None = fk_field("customer_account.id", nullable=True, ondelete="RESTRICT",
                                               index=False)
    # Price, fixed once at stop by services.charging.pricing with the tariff and contracts in force at start.
    # Every amount is already rounded to the currency's minor unit. The split always adds back:
    #   amount_gross = amount_vat + amount_ssc + amount_gateway + amount_platform
    #                  + amount_location_owner + amount_net_cpo
    # amount_gross is what the driver paid; amount_subtotal is gross less VAT and SSC levy;
    # subtotal = amount_energy + amount_time + amount_session_fee + amount_idle.
    tariff_id: int | None = fk_field("tariff.id", nullable=True, ondelete="SET NULL", index=False)
    currency: str = Field(default="USD", sa_column=Column(String(3), nullable=False))
    amount_energy: Decimal | None = money_field(None, nullable=True)
    amount_time: Decimal | None = money_field(None, nullable=True)
    amount_session_fee: Decimal | None = money_field(None, nullable=True)
    amount_idle: Decimal | None = money_field(None, nullable=True)
    amount_subtotal: Decimal | None = money_field(None, nullable=True)
    amount_vat: Decimal | None = money_field(None, nullable=True)
    amount_ssc: Decimal | None = money_field(None, nullable=True)
    amount_gross: Decimal | None = money_field(None, nullable=True)
    amount_gateway: Decimal | None = money_field(None, nullable=True)
    amount_platform: Decimal | None = money_field(None, nullable=True)
    amount_location_owner: Decimal | None = money_field(None, nullable=True)
    amount_net_cpo: Decimal | None = money_field(None, nullable=True)
    # The explanation: rates, bands, minutes and kWh used for each line (for the session detail page).
    price_breakdown: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB, nullable=True))
    priced_at: datetime | None = ts_field()
    created_at: datetime = created_at_field()


class MeterValue(SQLModel, table=True):
    __tablename__ = "meter_value"
    __table_args__ = (
        Index("ix_meter_value_session_ts", "transaction_id", "timestamp"),
        # One row per reading: a resent MeterValues stores nothing twice (services/ocpp/meter.py).
        Index("uq_meter_value_sample", "charger_id", "connector_id", "timestamp", "measurand",
              text("coalesce(phase, '')"), text("coalesce(location, '')"), unique=True),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(), primary_key=True))
    charger_id: int = fk_field("charger.id", ondelete="CASCADE", index=False)
    connector_id: int
    transaction_id: int | None = Field(default=None, sa_column=Column(
        Integer, ForeignKey("charging_session.id", ondelete="CASCADE"), nullable=True))
    timestamp: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    measurand: str = Field(default="Energy.Active.Import.Register", max_length=64)
    phase: str | None = Field(default=None, max_length=8)
    unit: str | None = Field(default=None, max_length=16)
    context: str | None = Field(default=None, max_length=32)
    location: str | None = Field(default=None, max_length=16)
    value: Decimal = Field(sa_column=Column(Numeric(20, 4), nullable=False))
    flags: list[str] = Field(default_factory=list, sa_column=Column(ARRAY(String(32)), nullable=False,
                                                                      server_default=text("'{}'")))


class ChargerStatusEvent(SQLModel, table=True):
    __tablename__ = "charger_status_event"
    __table_args__ = (Index("ix_status_event_charger_time", "charger_id", "received_at"),)

    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(), primary_key=True))
    charger_id: int = fk_field("charger.id", ondelete="CASCADE", index=False)
    connector_id: int = 0  # 0 = the charger as a whole
    status: str = Field(max_length=16)
    error_code: str | None = Field(default=None, max_length=50)
    info: str | None = Field(default=None, max_length=50)
    vendor_error_code: str | None = Field(default=None, max_length=50)
    occurred_at: datetime | None = ts_field()
    received_at: datetime = created_at_field()
    # Suspect data, as on sessions: "future_timestamp" when occurred_at was ahead of our clock.
    flags: list[str] = Field(default_factory=list, sa_column=Column(ARRAY(String(32)), nullable=False,
                                                                      server_default=text("'{}'")))
