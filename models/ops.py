"""Operational tables: the command channel, the raw OCPP log and the audit log."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Column, DateTime, Identity, Index, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from core.clock import utcnow
from models.base import created_at_field, fk_field, one_of, ts_field


class CommandStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    DONE = "done"
    FAILED = "failed"
    EXPIRED = "expired"  # never sent: its deadline passed first



class ChargerCommand(SQLModel, table=True):
    """A central-system-initiated OCPP call, queued by the web app for the OCPP process holding the charger.

    See docs/adr/0003-command-channel.md.
    """

    __tablename__ = "charger_command"
    __table_args__ = (
        one_of("status", CommandStatus, name="ck_command_status"),
        Index("ix_command_pending", "charger_id", "status"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(), primary_key=True))
    charger_id: int = fk_field("charger.id", ondelete="CASCADE", index=False)
    action: str = Field(max_length=40)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    status: str = Field(default=CommandStatus.PENDING, sa_column=Column(String(16), nullable=False))
    result: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB, nullable=True))
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # How long the OCPP process waits for the charger's answer; None: OCPP_COMMAND_TIMEOUT_SECONDS.
    timeout_seconds: float | None = None
    # The OCPP process that claimed it (status sent): if that process dies, its sweep fails the command.
    claimed_by_process_id: int | None = None
    requested_by_id: int | None = fk_field("app_user.id", nullable=True, ondelete="SET NULL", index=False)
    created_at: datetime = created_at_field()
    completed_at: datetime | None = ts_field()


class OcppMessage(SQLModel, table=True):
    """Raw OCPP frames, kept for the session detail page (Technical and Admin only).

    Partitioned by day of `created_at`; the worker creates the coming days' partitions and drops those older
    than OCPP_FRAME_LOG_DAYS (services/ocpp/frames.py)."""

    __tablename__ = "ocpp_message"
    __table_args__ = (Index("ix_ocpp_message_charger_time", "charger_id", "created_at"),
                      Index("ix_ocpp_message_session", "transaction_id"),
                      {"postgresql_partition_by": "RANGE (created_at)"})

    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(), primary_key=True))
    charger_id: int = fk_field("charger.id", ondelete="CASCADE", index=False)
    transaction_id: int | None = None
    direction: str = Field(max_length=3)  # "in" from the charger, "out" to it
    action: str | None = Field(default=None, max_length=40)
    frame: str = Field(sa_column=Column(Text, nullable=False))
    # Part of the key: a partitioned table's primary key holds its partition key.
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(
        DateTime(timezone=True), primary_key=True, nullable=False, server_default=func.now()))


class AuditLog(SQLModel, table=True):
    """Who changed what, when: old value → new value."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_entity", "entity", "entity_id"),)

    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(), primary_key=True))
    user_id: int | None = fk_field("app_user.id", nullable=True, ondelete="SET NULL", index=False)
    organization_id: int | None = fk_field("organization.id", nullable=True, ondelete="CASCADE")
    entity: str = Field(max_length=40)
    entity_id: str = Field(max_length=64)
    action: str = Field(max_length=40)
    changes: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    created_at: datetime = created_at_field()
