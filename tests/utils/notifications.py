"""Helpers for the notification tests: an alert rule, and what a user was told."""
from __future__ import annotations

import base64
import json
import os

import http_ece
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from sqlalchemy import select
from sqlmodel import Session

from models import AlertRule, CustomerAccount, CustomerUser, Notification, NotificationDelivery, Organization


def make_rule(session: Session, org: Organization, **fields) -> AlertRule:
    values = dict(name="Chargers down", conditions=["offline"], debounce_minutes=5, roles=["network_manager"],
                  channels=["in_app", "email"])
    values.update(fields)
    rule = AlertRule(organization_id=org.id, **values)
    session.add(rule)
    session.commit()
    return rule


def inbox(session: Session, user_id: int) -> list[Notification]:
    """The in-app notifications a staff user has, oldest first."""
    session.expire_all()
    return list(session.execute(
        select(Notification).join(NotificationDelivery, NotificationDelivery.notification_id == Notification.id)
        .where(NotificationDelivery.user_id == user_id, NotificationDelivery.channel == "in_app")
        .order_by(Notification.id)).scalars())


def make_customer(session: Session, org: Organization, email: str | None = None):
    """A customer account with one active user; returns (account, user)."""
    account = CustomerAccount(organization_id=org.id, kind="consumer", status="active", name="Dana Driver")
    session.add(account)
    session.flush()
    user = CustomerUser(organization_id=org.id, account_id=account.id, email=email or f"dana{account.id}@example.test",
                        full_name="Dana Driver", status="active")
    session.add(user)
    session.commit()
    return account, user


def service_account(project_id: str, token_uri: str) -> str:
    """A Firebase service-account JSON with a freshly made key (what the Firebase console downloads)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    return json.dumps({"type": "service_account", "project_id": project_id, "private_key_id": "k1",
                       "private_key": pem, "client_email": f"firebase-adminsdk@{project_id}.iam.gserviceaccount.com",
                       "client_id": "1", "token_uri": token_uri})


class Subscriber:
    """A browser's Web Push subscription: its P-256 key pair and auth secret, and the endpoint."""

    def __init__(self, endpoint: str) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.auth_secret = os.urandom(16)
        self.endpoint = endpoint

    @property
    def p256dh(self) -> str:
        raw = self.key.public_key().public_bytes(serialization.Encoding.X962,
                                                 serialization.PublicFormat.UncompressedPoint)
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @property
    def auth(self) -> str:
        return base64.urlsafe_b64encode(self.auth_secret).decode().rstrip("=")

    def decrypt(self, body_b64: str) -> dict:
        body = base64.urlsafe_b64decode(body_b64)
        return json.loads(http_ece.decrypt(body, private_key=self.key, auth_secret=self.auth_secret,
                                           version="aes128gcm"))


def vapid_private_key() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return base64.urlsafe_b64encode(key.private_numbers().private_value.to_bytes(32, "big")).decode().rstrip("=")
