"""The OCPP server's working state in the database: the running OCPP processes (liveness) and each session's
highest meter reading (so the writer need not scan a session's samples before each batch)."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Column, DateTime, ForeignKey, Identity, Integer, Numeric, String
from sqlmodel import Field, SQLModel


class SessionMeterHigh(SQLModel, table=True):
    """The highest energy-register reading (Wh) stored for a session: a new sample below it ran backwards."""

    __tablename__ = "session_meter_high"

    transaction_id: int = Field(sa_column=Column(Integer, ForeignKey("charging_session.id", ondelete="CASCADE"),
                                                 primary_key=True))
    wh: Decimal = Field(sa_column=Column(Numeric(20, 4), nullable=False))


class OcppProcess(SQLModel, table=True):
    """A running OCPP server process. It renews `renewed_at` every few seconds; a row left unrenewed belongs to a
    dead process, whose chargers the sweep marks Offline (services/ocpp/registry.py)."""

    __tablename__ = "ocpp_process"

    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(), primary_key=True))
    hostname: str = Field(sa_column=Column(String(255), nullable=False))
    pid: int = Field(sa_column=Column(Integer, nullable=False))
    started_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    renewed_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, index=True))
