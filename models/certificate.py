"""Charger certificates signed by the CSMS's CA (SignCertificate): serial and expiry, for expiry tracking."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, String
from sqlmodel import Field, SQLModel

from models.base import fk_field, ts_field


class ChargerCertificate(SQLModel, table=True):
    __tablename__ = "charger_certificate"
    __table_args__ = (Index("ix_charger_certificate_charger", "charger_id", "not_after"),)

    id: int | None = Field(default=None, primary_key=True)
    charger_id: int = fk_field("charger.id", ondelete="CASCADE", index=False)
    serial: str = Field(sa_column=Column(String(40), nullable=False, unique=True))  # hex
    subject: str = Field(max_length=255)
    not_before: datetime = ts_field(nullable=False)
    not_after: datetime = ts_field(nullable=False)
    issued_at: datetime = ts_field(nullable=False)
