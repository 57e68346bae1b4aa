"""The charging network: chargers, connectors, id tags, tariffs, unknown chargers."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from models.base import created_at_field, fk_field, money_field, one_of, ts_field


class LifecycleStatus(StrEnum):
    """What the operator has set a charger to."""
    ACTIVE = "Active"
    INACTIVE = "Inactive"
    MAINTENANCE = "Maintenance"


class ChargerStatus(StrEnum):
    """OCPP 1.6 ChargePointStatus plus our own "Offline" (no live connection): of a charger, a connector and
    each ChargerStatusEvent."""
    AVAILABLE = "Available"
    PREPARING = "Preparing"
    CHARGING = "Charging"
    SUSPENDED_EVSE = "SuspendedEVSE"
    SUSPENDED_EV = "SuspendedEV"
    FINISHING = "Finishing"
    RESERVED = "Reserved"
    UNAVAILABLE = "Unavailable"
    FAULTED = "Faulted"
    OFFLINE = "Offline"


class IdTagStatus(StrEnum):
    """OCPP 1.6 AuthorizationStatus as kept on an id tag."""
    ACCEPTED = "Accepted"
    BLOCKED = "Blocked"
    EXPIRED = "Expired"
    INVALID = "Invalid"


class Tariff(SQLModel, table=True):
    __tablename__ = "tariff"
    __table_args__ = (
        CheckConstraint("price_per_kwh >= 0 AND price_per_minute >= 0 AND session_fee >= 0"
                        " AND idle_fee_per_minute >= 0", name="ck_tariff_prices"),
        CheckConstraint("idle_grace_minutes >= 0", name="ck_tariff_grace"),
        UniqueConstraint("organization_id", "name", name="uq_tariff_name"),
        UniqueConstraint("id", "organization_id", name="uq_tariff_id_org"),  # for fk_charger_tariff_same_org
    )

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = fk_field("organization.id", ondelete="CASCADE")
    name: str = Field(sa_column=Column(String(100), nullable=False))
    price_per_kwh: Decimal = money_field("0")
    price_per_minute: Decimal = money_field("0")
    session_fee: Decimal = money_field("0")
    idle_fee_per_minute: Decimal = money_field("0")
    idle_grace_minutes: int = 0
    vat_inclusive: bool = False
    # Time-of-day bands: [{"start": "HH:MM", "end": "HH:MM", "price_per_kwh": "0.40"}], local time.
    bands: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSONB, nullable=False,
                                                                                server_default=text("'[]'")))
    is_default: bool = False
    created_at: datetime = created_at_field()


class Charger(SQLModel, table=True):
    __tablename__ = "charger"
    __table_args__ = (
        CheckConstraint("ocpp_id ~ '^[A-Za-z0-9._:-]{1,48}$'", name="ck_charger_ocpp_id"),
        # Its tariff and location owner are its own organization's (migration iso12_01).
        ForeignKeyConstraint(["tariff_id", "organization_id"], ["tariff.id", "tariff.organization_id"],
                             name="fk_charger_tariff_same_org"),
        ForeignKeyConstraint(["location_owner_id", "organization_id"],
                             ["location_owner.id", "location_owner.organization_id"], name="fk_charger_owner_same_org"),
        one_of("lifecycle_status", LifecycleStatus, name="ck_charger_lifecycle"),
        one_of("status", ChargerStatus, name="ck_charger_status"),
        CheckConstraint("latitude IS NULL OR (latitude BETWEEN -90 AND 90)", name="ck_charger_lat"),
        CheckConstraint("longitude IS NULL OR (longitude BETWEEN -180 AND 180)", name="ck_charger_lon"),
        CheckConstraint("security_profile IN (0, 1, 2, 3)", name="ck_charger_security_profile"),
        CheckConstraint("security_profile = 0 OR auth_key_hash IS NOT NULL", name="ck_charger_auth_key"),
        Index("ix_charger_org_status", "organization_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    ocpp_id: str = Field(sa_column=Column(String(48), nullable=False, unique=True))
    organization_id: int = fk_field("organization.id", ondelete="RESTRICT")
    name: str = Field(default="", max_length=200)
    address: str = Field(default="", max_length=500)
    latitude: Decimal | None = Field(default=None, sa_column=Column(Numeric(9, 6), nullable=True))
    longitude: Decimal | None = Field(default=None, sa_column=Column(Numeric(9, 6), nullable=True))
    vendor: str | None = Field(default=None, max_length=50)
    model: str | None = Field(default=None, max_length=50)
    serial_number: str | None = Field(default=None, max_length=50)
    firmware_version: str | None = Field(default=None, max_length=50)
    lifecycle_status: str = Field(default=LifecycleStatus.ACTIVE, sa_column=Column(String(16), nullable=False))
    visible: bool = Field(default=True, sa_column=Column(Boolean, nullable=False, server_default=text("true")))
    # One of the demo's own chargers: `make run` simulates exactly these, never chargers a user added.
    simulated: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default=text("false")))
    location_owner_id: int | None = fk_field("location_owner.id", nullable=True, ondelete="SET NULL")
    tariff_id: int | None = fk_field("tariff.id", nullable=True, ondelete="SET NULL")
    # OCPP security: 0 = no auth (only when explicitly set), 1 = Basic auth, 2 = Basic auth over TLS.
    security_profile: int = 1
    auth_key_hash: str | None = Field(default=None, max_length=128)
    # A rotated AuthorizationKey's keyed hash (services/ocpp/auth_key.py): set when the new key is sent, kept
    # while the charger may hold it; both keys open the connection until the charger connects with the new one.
    auth_key_hash_next: str | None = Field(default=None, max_length=128)
    # Live state, written by the OCPP server.
    status: str = Field(default=ChargerStatus.OFFLINE, sa_column=Column(String(16), nullable=False,
                                                                     server_default=ChargerStatus.OFFLINE.value))
    connected: bool = False
    last_heartbeat_at: datetime | None = ts_field()
    last_boot_at: datetime | None = ts_field()
    status_changed_at: datetime | None = ts_field()
    # Which live websocket owns the charger (a random token per connection): a connection that drops
    # after the charger already reconnected elsewhere must not mark it Offline.
    connection_token: str | None = Field(default=None, max_length=64)
    # The connection registry (docs/adr/0008): the OCPP process holding the newest connection, and that
    # connection's generation (raised at each connect; the newest wins across processes).
    connection_process_id: int | None = Field(default=None, sa_column=Column(
        BigInteger, ForeignKey("ocpp_process.id", ondelete="SET NULL"), nullable=True, index=True))
    connection_generation: int = Field(default=0, sa_column=Column(BigInteger, nullable=False,
                                                                   server_default=text("0")))
    created_at: datetime = created_at_field()


class Connector(SQLModel, table=True):
    __tablename__ = "connector"
    __table_args__ = (
        UniqueConstraint("charger_id", "connector_id", name="uq_connector"),
        CheckConstraint("connector_id >= 1", name="ck_connector_id"),
        one_of("status", ChargerStatus, name="ck_connector_status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    charger_id: int = fk_field("charger.id", ondelete="CASCADE")
    connector_id: int = Field(sa_column=Column(Integer, nullable=False))
    standard: str = Field(default="Type2", max_length=32)
    max_power_kw: Decimal | None = Field(default=None, sa_column=Column(Numeric(8, 2), nullable=True))
    status: str = Field(default=ChargerStatus.OFFLINE, sa_column=Column(String(16), nullable=False,
                                                                     server_default=ChargerStatus.OFFLINE.value))
    error_code: str | None = Field(default=None, max_length=50)
    info: str | None = Field(default=None, max_length=50)
    status_at: datetime | None = ts_field()


class IdTag(SQLModel, table=True):
    """An RFID card or app token. It may charge at chargers of its organization."""

    __tablename__ = "id_tag"
    __table_args__ = (
        CheckConstraint("char_length(tag) BETWEEN 1 AND 20", name="ck_idtag_len"),
        one_of("status", IdTagStatus, name="ck_idtag_status"),
        # OCPP 1.6 IdToken is case-insensitive: one card whatever the case (migration 0020_ocpp18).
        Index("uq_idtag_tag_ci", text("lower(tag)"), unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    tag: str = Field(sa_column=Column(String(20), nullable=False, unique=True))
    organization_id: int = fk_field("organization.id", ondelete="CASCADE")
    status: str = Field(default=IdTagStatus.ACCEPTED, sa_column=Column(String(16), nullable=False))
    expires_at: datetime | None = ts_field()
    parent_tag: str | None = Field(default=None, max_length=20)
    holder_name: str = Field(default="", max_length=200)
    created_at: datetime = created_at_field()


class UnknownCharger(SQLModel, table=True):
    """Connection attempts with an id that is not registered: one row per (id, address), with a count.
    New rows per address are capped per minute (services/ocpp/presence.py), so a flood cannot fill it."""

    __tablename__ = "unknown_charger"
    __table_args__ = (
        UniqueConstraint("ocpp_id", "remote_address", name="uq_unknown_charger_id_address"),
        Index("ix_unknown_charger_address_seen", "remote_address", "first_seen_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    ocpp_id: str = Field(sa_column=Column(String(255), nullable=False, index=True))
    remote_address: str = Field(default="", sa_column=Column(String(100), nullable=False, server_default=""))
    attempts: int = 1
    first_seen_at: datetime = created_at_field()
    last_seen_at: datetime | None = ts_field()
