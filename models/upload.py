"""Files chargers upload to Voltdesk's file endpoint (GetLog, GetDiagnostics): one row per request, whose
token authenticates the one upload it allows."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, String
from sqlmodel import Field, SQLModel

from models.base import created_at_field, fk_field, ts_field


class ChargerUpload(SQLModel, table=True):
    __tablename__ = "charger_upload"

    id: int | None = Field(default=None, primary_key=True)
    charger_id: int = fk_field("charger.id", ondelete="CASCADE")
    kind: str = Field(max_length=20)  # DiagnosticsLog, SecurityLog (GetLog) or Diagnostics (GetDiagnostics)
    token_hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    status: str = Field(default="waiting", max_length=20)  # waiting, received, refused
    filename: str | None = Field(default=None, max_length=255)
    size: int | None = None
    error: str | None = Field(default=None, max_length=200)
    created_at: datetime = created_at_field()
    received_at: datetime | None = ts_field()
