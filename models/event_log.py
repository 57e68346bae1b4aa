"""Live events kept for a while, so an API client's event stream resumes with Last-Event-ID without loss."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, Identity, Index, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from models.base import created_at_field


class EventLog(SQLModel, table=True):
    """Every event core.events.notify sends on the live channel, written in the same transaction; the
    NOTIFY payload carries the row's id. Rows older than EVENT_RETENTION_MINUTES are removed."""

    __tablename__ = "event_log"
    __table_args__ = (Index("ix_event_log_created", "created_at"),)

    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(), primary_key=True))
    type: str = Field(sa_column=Column(String(40), nullable=False))
    organization_id: int | None = None
    charger_id: int | None = None
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    created_at: datetime = created_at_field()
