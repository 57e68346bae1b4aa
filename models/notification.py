"""Notifications: staff alert rules and their alert threads, messages, the delivery outbox, app-user devices,
preferences and per-organization push credentials. The logic is in services/notifications/."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Column, ForeignKey, Identity, Index, Integer, String, Text
from sqlalchemy import text as sql
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from models.base import created_at_field, fk_field, one_of, ts_field


class Condition(StrEnum):
    """What a charger alert rule watches."""
    OFFLINE = "offline"
    FAULTED = "faulted"
    SUSPENDED_EVSE = "suspended_evse"  # a connector stuck in SuspendedEVSE
    NO_HEARTBEAT = "no_heartbeat"


class Channel(StrEnum):
    IN_APP = "in_app"
    EMAIL = "email"
    WEB_PUSH = "web_push"
    FCM = "fcm"


class DeliveryStatus(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"  # known to have arrived (in-app: stored in the user's inbox)
    FAILED = "failed"
    SKIPPED = "skipped"      # switched off by the recipient's preferences


def _json_list() -> Any:
    return Field(default_factory=list, sa_column=Column(JSONB, nullable=False, server_default=sql("'[]'")))


class AlertRule(SQLModel, table=True):
    """Which charger conditions alert whom in one organization, after how long, on which channels."""

    __tablename__ = "alert_rule"
    __table_args__ = (
        CheckConstraint("debounce_minutes BETWEEN 0 AND 1440", name="ck_alert_rule_debounce"),
        CheckConstraint("escalate_after_minutes IS NULL OR escalate_after_minutes BETWEEN 1 AND 10080",
                        name="ck_alert_rule_escalate"),
    )

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = fk_field("organization.id", ondelete="CASCADE")
    name: str = Field(sa_column=Column(String(100), nullable=False))
    conditions: list[str] = _json_list()
    debounce_minutes: int = Field(default=5, sa_column=Column(Integer, nullable=False))
    roles: list[str] = _json_list()
    user_ids: list[int] = _json_list()
    location_owners: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    channels: list[str] = _json_list()
    critical: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    # Unacknowledged this long: the alert goes to the escalation roles/users too.
    escalate_after_minutes: int | None = None
    escalate_roles: list[str] = _json_list()
    escalate_user_ids: list[int] = _json_list()
    enabled: bool = Field(default=True, sa_column=Column(Boolean, nullable=False))
    created_at: datetime = created_at_field()


class Alert(SQLModel, table=True):
    """One alert thread: a condition at one site (an organization's chargers sharing an address), opened,
    maybe escalated and acknowledged, then resolved. Every notice about it belongs to this thread."""

    __tablename__ = "alert"
    __table_args__ = (Index("ix_alert_org_opened", "organization_id", "opened_at"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = fk_field("organization.id", ondelete="CASCADE", index=False)
    rule_id: int | None = fk_field("alert_rule.id", nullable=True, ondelete="SET NULL")
    condition: str = Field(sa_column=Column(String(20), nullable=False))
    site: str = Field(default="", sa_column=Column(String(500), nullable=False))
    critical: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    opened_at: datetime = created_at_field()
    acknowledged_at: datetime | None = ts_field()
    acknowledged_by_id: int | None = fk_field("app_user.id", nullable=True, ondelete="SET NULL", index=False)
    escalated_at: datetime | None = ts_field()
    resolved_at: datetime | None = ts_field()


class AlertCharger(SQLModel, table=True):
    """A charger in an alert thread. At most one open per charger, rule and condition (the unique index)."""

    __tablename__ = "alert_charger"
    __table_args__ = (
        Index("uq_alert_charger_open", "charger_id", "rule_id", "condition", unique=True,
              postgresql_where=sql("resolved_at IS NULL")),
        Index("ix_alert_charger_alert", "alert_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    alert_id: int = fk_field("alert.id", ondelete="CASCADE", index=False)
    charger_id: int = fk_field("charger.id", ondelete="CASCADE", index=False)
    rule_id: int | None = fk_field("alert_rule.id", nullable=True, ondelete="CASCADE", index=False)
    condition: str = Field(sa_column=Column(String(20), nullable=False))
    since: datetime = ts_field(nullable=False)
    resolved_at: datetime | None = ts_field()


class Notification(SQLModel, table=True):
    """One message (an alert notice, an automatic customer message, a composed one), sent to its recipients
    through NotificationDelivery rows."""

    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_org_created", "organization_id", "created_at"),)

    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(), primary_key=True))
    organization_id: int | None = fk_field("organization.id", nullable=True, ondelete="CASCADE", index=False)
    kind: str = Field(sa_column=Column(String(32), nullable=False))
    alert_id: int | None = fk_field("alert.id", nullable=True, ondelete="CASCADE")
    title: str = Field(sa_column=Column(String(200), nullable=False))
    body: str = Field(sa_column=Column(Text, nullable=False))
    critical: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False,
                                                                          server_default=sql("'{}'")))
    created_by_id: int | None = fk_field("app_user.id", nullable=True, ondelete="SET NULL", index=False)
    created_at: datetime = created_at_field()


class NotificationDelivery(SQLModel, table=True):
    """The transactional outbox and the delivery log in one: a row per recipient and channel, written in the
    transaction that caused the notification; the worker sends queued rows whose time has come."""

    __tablename__ = "notification_delivery"
    __table_args__ = (
        one_of("channel", Channel, name="ck_delivery_channel"),
        one_of("status", DeliveryStatus, name="ck_delivery_status"),
        CheckConstraint("(user_id IS NULL) <> (customer_user_id IS NULL)", name="ck_delivery_recipient"),
        Index("ix_delivery_due", "next_attempt_at", postgresql_where=sql("status = 'queued'")),
        Index("ix_delivery_inbox", "user_id", "created_at", postgresql_where=sql("channel = 'in_app'")),
        Index("ix_delivery_notification", "notification_id"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(), primary_key=True))
    notification_id: int = Field(sa_column=Column(BigInteger, ForeignKey("notification.id", ondelete="CASCADE"),
                                                  nullable=False))
    channel: str = Field(sa_column=Column(String(16), nullable=False))
    user_id: int | None = fk_field("app_user.id", nullable=True, ondelete="CASCADE", index=False)
    customer_user_id: int | None = fk_field("customer_user.id", nullable=True, ondelete="CASCADE", index=False)
    device_id: int | None = fk_field("push_device.id", nullable=True, ondelete="SET NULL", index=False)
    address: str = Field(default="", sa_column=Column(String(254), nullable=False, server_default=""))
    status: str = Field(default=DeliveryStatus.QUEUED, sa_column=Column(String(16), nullable=False))
    attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default=sql("0")))
    next_attempt_at: datetime = created_at_field()
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = created_at_field()
    sent_at: datetime | None = ts_field()
    read_at: datetime | None = ts_field()


class PushDevice(SQLModel, table=True):
    """A device that receives push messages: an app user's (an FCM registration token, or a Web Push
    subscription: endpoint and keys) or a staff user's browser (Web Push only). Exactly one owner."""

    __tablename__ = "push_device"
    __table_args__ = (
        CheckConstraint("kind IN ('fcm', 'web_push')", name="ck_push_device_kind"),
        CheckConstraint("kind = 'fcm' OR (p256dh IS NOT NULL AND auth IS NOT NULL)", name="ck_push_device_keys"),
        CheckConstraint("(user_id IS NULL) <> (customer_user_id IS NULL)", name="ck_push_device_owner"),
        CheckConstraint("user_id IS NULL OR kind = 'web_push'", name="ck_push_device_staff_web"),
        Index("uq_push_device_token", "kind", "token", unique=True),
        Index("ix_push_device_user", "customer_user_id"),
        Index("ix_push_device_staff", "user_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    customer_user_id: int | None = fk_field("customer_user.id", nullable=True, ondelete="CASCADE", index=False)
    user_id: int | None = fk_field("app_user.id", nullable=True, ondelete="CASCADE", index=False)
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    token: str = Field(sa_column=Column(String(1000), nullable=False))
    p256dh: str | None = Field(default=None, max_length=200)
    auth: str | None = Field(default=None, max_length=100)
    label: str = Field(default="", max_length=100)
    created_at: datetime = created_at_field()


class NotificationPreference(SQLModel, table=True):
    """A person's switches: message kinds turned off and quiet hours (local time of their organization).
    Exactly one of user_id (staff) and customer_user_id (app user)."""

    __tablename__ = "notification_preference"
    __table_args__ = (
        CheckConstraint("(user_id IS NULL) <> (customer_user_id IS NULL)", name="ck_preference_owner"),
        CheckConstraint("quiet_start IS NULL OR quiet_start ~ '^[0-2][0-9]:[0-5][0-9]$'", name="ck_preference_qs"),
        CheckConstraint("quiet_end IS NULL OR quiet_end ~ '^[0-2][0-9]:[0-5][0-9]$'", name="ck_preference_qe"),
        Index("uq_preference_user", "user_id", unique=True, postgresql_where=sql("user_id IS NOT NULL")),
        Index("uq_preference_customer", "customer_user_id", unique=True,
              postgresql_where=sql("customer_user_id IS NOT NULL")),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int | None = fk_field("app_user.id", nullable=True, ondelete="CASCADE", index=False)
    customer_user_id: int | None = fk_field("customer_user.id", nullable=True, ondelete="CASCADE", index=False)
    muted_kinds: list[str] = _json_list()
    quiet_start: str | None = Field(default=None, max_length=5)
    quiet_end: str | None = Field(default=None, max_length=5)


class PushCredential(SQLModel, table=True):
    """An organization's Firebase project: its service-account JSON, encrypted (core/secretbox.py).
    A branded app has its own Firebase project, so each client organization brings its own."""

    __tablename__ = "push_credential"

    organization_id: int = Field(sa_column=Column(ForeignKey("organization.id", ondelete="CASCADE"),
                                                  primary_key=True))
    project_id: str = Field(sa_column=Column(String(100), nullable=False))
    service_account_encrypted: str = Field(sa_column=Column(Text, nullable=False))
    updated_at: datetime = created_at_field()
