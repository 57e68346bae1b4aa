"""Push devices: an app user's FCM registration token (the mobile app) or Web Push subscription (the customer
portal as a PWA), and a staff user's browser subscribed to Web Push for their alerts. Several per user; a
device the push service reports unregistered is dropped. Each function takes exactly one owner:
`customer_user_id` (an app user) or `user_id` (staff).

A token already registered to someone else is refused and left alone: nobody takes over another user's
device by presenting its token, and a user only ever sees or removes their own devices.
"""
from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from core.config import get_settings
from core.errors import Conflict, NotFound, ValidationError
from core.validation import check_text, fits_int32
from models import NotificationDelivery, PushDevice

FCM_TOKEN_MAX = 1024  # FCM tokens are about 160 characters
MAX_DEVICES_PER_USER = 20


@dataclass(frozen=True)
class DeviceRow:
    id: int
    kind: str
    label: str
    created_at: datetime


def _b64url(value: str | None, field: str, size: int | None) -> str:
    if not value or len(value) > 200:
        raise ValidationError(f"keys.{field} is required (base64url).", field)
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise ValidationError(f"keys.{field} is not base64url.", field) from None
    if size is not None and len(raw) != size:
        raise ValidationError(f"keys.{field} must decode to {size} bytes.", field)
    return value


def _endpoint(url: str) -> str:
    parts = urlsplit(url)
    allowed = get_settings().webpush_insecure_base.rstrip("/")
    if len(url) > 1000 or not parts.hostname or not (
            parts.scheme == "https" or (allowed and url.startswith(allowed + "/"))):
        raise ValidationError("A Web Push endpoint must be an https URL.", "endpoint")
    return url


def _mine(customer_user_id: int | None, user_id: int | None):
    if (customer_user_id is None) == (user_id is None):
        raise ValueError("exactly one of customer_user_id and user_id")
    return PushDevice.user_id == user_id if user_id is not None else PushDevice.customer_user_id == customer_user_id


def register_device(*, session: Session, customer_user_id: int | None = None, user_id: int | None = None,
                    kind: str, token: str, p256dh: str | None = None, auth: str | None = None, label: str = "",
                    now: datetime) -> DeviceRow:
    """Register (or confirm) a device. `token` is the FCM registration token, or the Web Push endpoint.
    Staff register Web Push subscriptions only."""
    mine = _mine(customer_user_id, user_id)
    label = check_text(label or "", "label")[:100]
    token = check_text((token or "").strip(), "token")
    if user_id is not None and kind != "web_push":
        raise ValidationError("Staff browsers subscribe with Web Push (kind web_push).", "kind")
    if kind == "fcm":
        if not token or len(token) > FCM_TOKEN_MAX or any(c.isspace() for c in token):
            raise ValidationError("An FCM registration token is required (at most 1024 characters).", "token")
        p256dh = auth = None
    elif kind == "web_push":
        token = _endpoint(token)
        p256dh, auth = _b64url(p256dh, "p256dh", 65), _b64url(auth, "auth", 16)
    else:
        raise ValidationError("kind must be fcm or web_push.", "kind")
    existing = session.execute(select(PushDevice).where(PushDevice.kind == kind, PushDevice.token == token)
                               .with_for_update()).scalar_one_or_none()
    if existing is not None:
        if (existing.customer_user_id, existing.user_id) != (customer_user_id, user_id):
            raise Conflict("This device is registered to another user.")
        return DeviceRow(existing.id, existing.kind, existing.label, existing.created_at)
    count = len(session.execute(select(PushDevice.id).where(mine)).all())
    if count >= MAX_DEVICES_PER_USER:
        raise ValidationError(f"At most {MAX_DEVICES_PER_USER} devices per user; remove one first.", "token")
    device = PushDevice(customer_user_id=customer_user_id, user_id=user_id, kind=kind, token=token, p256dh=p256dh,
                        auth=auth, label=label, created_at=now)
    try:
        # Row-level security hides other people's devices from the lookup above; the unique index still
        # knows them.
        with session.begin_nested():
            session.add(device)
            session.flush()
    except IntegrityError:
        raise Conflict("This device is registered to another user.") from None
    return DeviceRow(device.id, device.kind, device.label, device.created_at)


def list_devices(*, session: Session, customer_user_id: int | None = None,
                 user_id: int | None = None) -> list[DeviceRow]:
    rows = session.execute(select(PushDevice).where(_mine(customer_user_id, user_id))
                           .order_by(PushDevice.id)).scalars()
    return [DeviceRow(d.id, d.kind, d.label, d.created_at) for d in rows]


def remove_device(*, session: Session, customer_user_id: int | None = None, user_id: int | None = None,
                  device_id: int) -> None:
    """Remove one of the user's own devices; anyone else's answers NotFound and stays."""
    mine = _mine(customer_user_id, user_id)
    if not fits_int32(device_id):
        raise NotFound("Device not found.")
    gone = session.execute(delete(PushDevice).where(PushDevice.id == device_id, mine)).rowcount
    if not gone:
        raise NotFound("Device not found.")


def drop_unregistered(session: Session, delivery: NotificationDelivery) -> None:
    """The push service no longer knows this device: forget it."""
    if delivery.device_id is not None:
        session.execute(delete(PushDevice).where(PushDevice.id == delivery.device_id))
        delivery.device_id = None
