"""Staff notifications: the caller's in-app inbox, acknowledging an alert, the delivery log, the caller's
preferences (switches and quiet hours) and the browsers they subscribed to Web Push."""
from __future__ import annotations

from fastapi import APIRouter, HTTPException, Query, Response
from pydantic import BaseModel, Field

from app.api.deps import Caller, CallerDep, SessionDep
from app.api.routes.devices import DeviceOut, PreferencesIn, PreferencesOut, PushKeys, preferences_out
from core import push
from core.clock import utcnow
from services.notifications import alerts, devices, preferences
from services.notifications import inbox as svc

router = APIRouter(tags=["notifications"])


class UnreadOut(BaseModel):
    unread: int


@router.get("/notifications", response_model=list[svc.InboxRow])
def list_notifications(session: SessionDep, caller: CallerDep, kind: str | None = Query(None, max_length=32),
                       unread: bool = False, limit: int = Query(50, ge=1, le=200),
                       offset: int = Query(0, ge=0, le=1_000_000)) -> list[svc.InboxRow]:
    return svc.list_inbox(session=session, scope=caller.scope, kind=kind, unread_only=unread, limit=limit,
                          offset=offset)


@router.get("/notifications/unread", response_model=UnreadOut)
def unread(session: SessionDep, caller: CallerDep) -> UnreadOut:
    return UnreadOut(unread=svc.unread_count(session=session, scope=caller.scope))


@router.post("/notifications/read", status_code=204)
def mark_all_read(session: SessionDep, caller: CallerDep) -> Response:
    svc.mark_read(session=session, scope=caller.scope, now=utcnow())
    session.commit()
    return Response(status_code=204)


@router.post("/alerts/{alert_id}/acknowledge", status_code=204)
def acknowledge(alert_id: int, session: SessionDep, caller: CallerDep) -> Response:
    alerts.acknowledge(session=session, scope=caller.scope, alert_id=alert_id, now=utcnow())
    session.commit()
    return Response(status_code=204)


@router.get("/notifications/deliveries", response_model=list[svc.DeliveryRow])
def deliveries(session: SessionDep, caller: CallerDep, notification_id: int | None = Query(None, ge=1, le=2**62),
               status: str | None = Query(None, max_length=16), limit: int = Query(100, ge=1, le=500),
               offset: int = Query(0, ge=0, le=1_000_000)) -> list[svc.DeliveryRow]:
    return svc.delivery_log(session=session, scope=caller.scope, notification_id=notification_id, status=status,
                            limit=limit, offset=offset)


def _staff_id(caller: Caller) -> int:
    """Preferences and push subscriptions are a person's own: an API key (a client's integration) has none."""
    if caller.scope.is_customer or caller.user is None or caller.scope.user_id != caller.user.id:
        raise HTTPException(status_code=403, detail="Only a logged-in staff user has notification preferences.")
    return caller.user.id


@router.get("/notifications/preferences", response_model=PreferencesOut)
def get_preferences(session: SessionDep, caller: CallerDep) -> PreferencesOut:
    return preferences_out(preferences.get_preferences(session=session, user_id=_staff_id(caller)),
                           preferences.STAFF_KINDS)


@router.put("/notifications/preferences", response_model=PreferencesOut)
def put_preferences(body: PreferencesIn, session: SessionDep, caller: CallerDep) -> PreferencesOut:
    saved = preferences.set_preferences(session=session, user_id=_staff_id(caller), switches=body.switches,
                                        quiet_start=body.quiet_start, quiet_end=body.quiet_end)
    session.commit()
    return preferences_out(saved, preferences.STAFF_KINDS)


class VapidOut(BaseModel):
    public_key: str  # "" when Web Push is not configured


@router.get("/notifications/vapid-public-key", response_model=VapidOut)
def vapid_public_key() -> VapidOut:
    return VapidOut(public_key=push.vapid_public_key())


class SubscriptionIn(BaseModel):
    """A browser's PushSubscription.toJSON(): its endpoint and keys."""
    endpoint: str = Field(max_length=1000)
    keys: PushKeys
    label: str = Field(default="", max_length=100)


@router.post("/notifications/push-subscriptions", status_code=201, response_model=DeviceOut)
def subscribe(body: SubscriptionIn, session: SessionDep, caller: CallerDep) -> DeviceOut:
    row = devices.register_device(session=session, user_id=_staff_id(caller), kind="web_push", token=body.endpoint,
                                  p256dh=body.keys.p256dh, auth=body.keys.auth, label=body.label, now=utcnow())
    session.commit()
    return DeviceOut(**row.__dict__)


@router.get("/notifications/push-subscriptions", response_model=list[DeviceOut])
def subscriptions(session: SessionDep, caller: CallerDep) -> list[DeviceOut]:
    return [DeviceOut(**r.__dict__) for r in devices.list_devices(session=session, user_id=_staff_id(caller))]


@router.delete("/notifications/push-subscriptions/{device_id}", status_code=204)
def unsubscribe(device_id: int, session: SessionDep, caller: CallerDep) -> Response:
    devices.remove_device(session=session, user_id=_staff_id(caller), device_id=device_id)
    session.commit()
    return Response(status_code=204)
