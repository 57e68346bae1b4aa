"""Push senders for the outbox: FCM through the organization's own Firebase project, Web Push with our
VAPID key. Each takes a batch and sends it in parallel. The collapse key / Topic is the notification's id,
so a re-sent row replaces itself on the device."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from core.db import among
from core.push import FcmPush, fcm_client, web_push_many
from models import CustomerUser, Notification, PushDevice
from services.notifications.credentials import fcm_project
from services.notifications.outbox import Item, Outcome, Sender

# The composer's own fields in Notification.data; devices get only what describes the message.
_BOOKKEEPING = {"audience", "org_choice", "fanout", "send_at", "deliveries", "recipients"}
GONE = Outcome(False, "the device was removed", permanent=True)


def _payload(note: Notification) -> dict[str, str]:
    return {"title": note.title, "body": note.body, "kind": note.kind, "notification_id": str(note.id),
            **{k: str(v) for k, v in note.data.items() if k not in _BOOKKEEPING}}


def _devices(session: Session, items: list[Item]) -> dict[int, Any]:
    """The rows' devices by id: the columns a send needs (plain rows, not ORM objects: a batch is 500)."""
    ids = {row.device_id for row, _ in items if row.device_id is not None}
    return {d.id: d for d in session.execute(select(PushDevice.id, PushDevice.token, PushDevice.p256dh,
                                                    PushDevice.auth).where(among(PushDevice.id, ids)))}


def _outcome(result) -> Outcome:
    return Outcome(result.ok, result.error, permanent=result.unregistered, unregistered=result.unregistered)


def senders(session: Session) -> dict[str, Sender]:
    """Senders bound to the session that holds the rows (they read the devices and the credentials)."""

    def fcm(items: list[Item]) -> list[Outcome]:
        devices = _devices(session, items)
        users = dict(session.execute(select(CustomerUser.id, CustomerUser.organization_id).where(
            among(CustomerUser.id, {row.customer_user_id for row, _ in items}))).all())
        outcomes: list[Outcome | None] = [None] * len(items)
        by_org: dict[int, list[int]] = {}
        for i, (row, _) in enumerate(items):
            if row.device_id not in devices:
                outcomes[i] = GONE
            else:
                by_org.setdefault(users[row.customer_user_id], []).append(i)
        for org_id, idx in by_org.items():
            project = fcm_project(session=session, organization_id=org_id)
            if project is None:
                for i in idx:
                    outcomes[i] = Outcome(False, "no Firebase project is configured for this organization")
                continue
            client = fcm_client(f"org-{project.organization_id}", project.service_account_json)
            pushes = []
            data: dict[int, dict[str, str]] = {}  # a broadcast's 500 rows share one notification
            for i in idx:
                row, note = items[i]
                if note.id not in data:
                    data[note.id] = {k: v for k, v in _payload(note).items() if k not in ("title", "body")}
                pushes.append(FcmPush(devices[row.device_id].token, note.title, note.body, data[note.id],
                                      f"n{note.id}"))
            for i, result in zip(idx, client.send_many(pushes), strict=True):
                outcomes[i] = _outcome(result)
        return [o or GONE for o in outcomes]

    def webpush(items: list[Item]) -> list[Outcome]:
        devices = _devices(session, items)
        present = [(i, devices[row.device_id], note) for i, (row, note) in enumerate(items)
                   if row.device_id in devices]
        results = web_push_many([{"endpoint": d.token, "p256dh": d.p256dh, "auth": d.auth,
                                  "payload": _payload(note), "topic": f"n{note.id}"} for _, d, note in present])
        outcomes: list[Outcome] = [GONE] * len(items)
        for (i, _, _), result in zip(present, results, strict=True):
            outcomes[i] = _outcome(result)
        return outcomes

    return {"fcm": fcm, "web_push": webpush}
