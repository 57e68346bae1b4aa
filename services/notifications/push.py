"""Push senders for the outbox: FCM through the organization's own Firebase project, Web Push with our
VAPID key. The collapse key / Topic is the notification's id, so a re-sent row replaces itself."""
from __future__ import annotations

from sqlmodel import Session

from core.push import fcm_client, web_push
from models import CustomerUser, Notification, NotificationDelivery, PushDevice
from services.notifications.credentials import fcm_project
from services.notifications.outbox import Outcome, Sender


def _payload(note: Notification) -> dict[str, str]:
    return {"title": note.title, "body": note.body, "kind": note.kind, "notification_id": str(note.id),
            **{k: str(v) for k, v in note.data.items()}}


def senders(session: Session) -> dict[str, Sender]:
    """Senders bound to the session that holds the rows (they read the device and the credential)."""

    def fcm(row: NotificationDelivery, note: Notification) -> Outcome:
        device = session.get(PushDevice, row.device_id) if row.device_id else None
        if device is None:
            return Outcome(False, "the device was removed", permanent=True)
        user = session.get(CustomerUser, row.customer_user_id)
        project = fcm_project(session=session, organization_id=user.organization_id)
        if project is None:
            return Outcome(False, "no Firebase project is configured for this organization")
        client = fcm_client(f"org-{project.organization_id}", project.service_account_json)
        data = {k: v for k, v in _payload(note).items() if k not in ("title", "body")}
        result = client.send(token=device.token, title=note.title, body=note.body, data=data,
                             collapse_key=f"n{note.id}")
        return Outcome(result.ok, result.error, permanent=result.unregistered, unregistered=result.unregistered)

    def webpush(row: NotificationDelivery, note: Notification) -> Outcome:
        device = session.get(PushDevice, row.device_id) if row.device_id else None
        if device is None:
            return Outcome(False, "the device was removed", permanent=True)
        result = web_push(endpoint=device.token, p256dh=device.p256dh, auth=device.auth, payload=_payload(note),
                          topic=f"n{note.id}")
        return Outcome(result.ok, result.error, permanent=result.unregistered, unregistered=result.unregistered)

    return {"fcm": fcm, "web_push": webpush}
