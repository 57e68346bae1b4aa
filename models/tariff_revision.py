"""Tariff revisions: the prices of a tariff as they were from a moment onward.

Every create or edit of a tariff through services.charging.tariffs writes one, so a session is priced
with the prices in force when it started even if the tariff was edited while it charged.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, DateTime, Index
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from models.base import created_at_field, fk_field


class TariffRevision(SQLModel, table=True):
    __tablename__ = "tariff_revision"
    __table_args__ = (Index("ix_tariff_revision_lookup", "tariff_id", "effective_from"),)

    id: int | None = Field(default=None, primary_key=True)
    tariff_id: int = fk_field("tariff.id", ondelete="CASCADE", index=False)
    effective_from: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    # The tariff's price fields (decimals as strings, bands as stored on the tariff).
    prices: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    created_by_id: int | None = fk_field("app_user.id", nullable=True, ondelete="SET NULL", index=False)
    created_at: datetime = created_at_field()
