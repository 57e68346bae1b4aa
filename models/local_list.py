"""The local authorization list each charger holds, as Voltdesk last sent it (OCPP 1.6 Local Auth List
Management): differential updates are computed against it, GetLocalListVersion is checked against it."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, ForeignKey, Integer
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from models.base import ts_field


class LocalAuthList(SQLModel, table=True):
    __tablename__ = "local_auth_list"

    charger_id: int = Field(sa_column=Column(Integer, ForeignKey("charger.id", ondelete="CASCADE"), primary_key=True))
    # The version the charger accepted last, and its entries: idTag -> idTagInfo.
    version: int = 0
    entries: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    sent_at: datetime | None = ts_field()
    # What the charger said on the last GetLocalListVersion, and when.
    reported_version: int | None = None
    checked_at: datetime | None = ts_field()
