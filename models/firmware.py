"""The signed firmware library (security extension) and its rollouts: one row per charger per rollout."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, String, Text
from sqlmodel import Field, SQLModel

from models.base import created_at_field, fk_field, ts_field


class FirmwareImage(SQLModel, table=True):
    __tablename__ = "firmware_image"

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = fk_field("organization.id", ondelete="CASCADE")
    version: str = Field(max_length=50)
    filename: str = Field(max_length=200)
    size: int
    sha256: str = Field(max_length=64)
    signing_certificate: str = Field(sa_column=Column(Text, nullable=False))
    signature: str = Field(sa_column=Column(Text, nullable=False))  # base64, as SignedUpdateFirmware sends it
    # The unguessable part of the download URL chargers fetch it from (they send no credentials).
    token: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    created_at: datetime = created_at_field()


class FirmwareRollout(SQLModel, table=True):
    """One charger's SignedUpdateFirmware; its id is the requestId, so status notifications find it."""

    __tablename__ = "firmware_rollout"
    __table_args__ = (Index("ix_firmware_rollout_image", "firmware_id", "charger_id"),)

    id: int | None = Field(default=None, primary_key=True)
    firmware_id: int = fk_field("firmware_image.id", ondelete="CASCADE", index=False)
    charger_id: int = fk_field("charger.id", ondelete="CASCADE")
    status: str = Field(default="Requested", max_length=40)
    updated_at: datetime | None = ts_field()
