"""The OCPP server's working state in the database: each session's highest meter reading (so the writer need
not scan a session's samples before each batch)."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Column, ForeignKey, Integer, Numeric
from sqlmodel import Field, SQLModel


class SessionMeterHigh(SQLModel, table=True):
    """The highest energy-register reading (Wh) stored for a session: a new sample below it ran backwards."""

    __tablename__ = "session_meter_high"

    transaction_id: int = Field(sa_column=Column(Integer, ForeignKey("charging_session.id", ondelete="CASCADE"),
                                                 primary_key=True))
    wh: Decimal = Field(sa_column=Column(Numeric(20, 4), nullable=False))
