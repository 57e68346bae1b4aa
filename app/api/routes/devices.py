"""App users register the devices that receive their push messages (services/notifications/devices.py).

Authenticated with an app-user (customer) bearer token, not a staff one."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Response
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, Field

from app.api.deps import SessionDep, bearer
from core.clock import utcnow
from models import CustomerUser
from services.access.auth import AuthError
from services.notifications import devices as svc
from services.notifications import preferences
from services.notifications.customer_token import customer_from_token

router = APIRouter(tags=["app users"])


def get_customer(session: SessionDep,
                 creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> CustomerUser:
    try:
        return customer_from_token(session=session, token=creds.credentials if creds else None)
    except AuthError as exc:
        raise HTTPException(status_code=401, detail=str(exc), headers={"WWW-Authenticate": "Bearer"}) from exc


CustomerDep = Annotated[CustomerUser, Depends(get_customer)]


class PushKeys(BaseModel):
    p256dh: str = Field(max_length=200)
    auth: str = Field(max_length=100)


class DeviceIn(BaseModel):
    """`kind` fcm: `token` is the FCM registration token. `kind` web_push: `token` is the subscription's
    endpoint and `keys` its keys (PushSubscription.toJSON())."""
    kind: str = Field(max_length=16)
    token: str = Field(max_length=1000)
    keys: PushKeys | None = None
    label: str = Field(default="", max_length=100)


class DeviceOut(BaseModel):
    id: int
    kind: str
    label: str
    created_at: datetime


@router.post("/me/devices", status_code=201, response_model=DeviceOut)
def register_device(body: DeviceIn, session: SessionDep, customer: CustomerDep) -> DeviceOut:
    row = svc.register_device(session=session, customer_user_id=customer.id, kind=body.kind, token=body.token,
                              p256dh=body.keys.p256dh if body.keys else None,
                              auth=body.keys.auth if body.keys else None, label=body.label, now=utcnow())
    session.commit()
    return DeviceOut(**row.__dict__)


@router.get("/me/devices", response_model=list[DeviceOut])
def list_devices(session: SessionDep, customer: CustomerDep) -> list[DeviceOut]:
    return [DeviceOut(**r.__dict__) for r in svc.list_devices(session=session, customer_user_id=customer.id)]


@router.delete("/me/devices/{device_id}", status_code=204)
def remove_device(device_id: int, session: SessionDep, customer: CustomerDep) -> Response:
    svc.remove_device(session=session, customer_user_id=customer.id, device_id=device_id)
    session.commit()
    return Response(status_code=204)


class PreferencesIn(BaseModel):
    """`switches`: kind -> on (kinds not named keep their setting); quiet hours "HH:MM", both or neither
    ("" for none), in the person's time zone (a staff user's own, else the organization's). Critical
    messages ignore them. Staff and app users send the same shape."""
    switches: dict[str, bool] = Field(default_factory=dict, max_length=20)
    quiet_start: str = Field(default="", max_length=5)
    quiet_end: str = Field(default="", max_length=5)


class PreferencesOut(BaseModel):
    switches: dict[str, bool]
    labels: dict[str, str]
    quiet_start: str
    quiet_end: str


def preferences_out(p: preferences.Preferences, labels: dict[str, str]) -> PreferencesOut:
    return PreferencesOut(switches=p.switches, labels=labels, quiet_start=p.quiet_start, quiet_end=p.quiet_end)


@router.get("/me/notification-preferences", response_model=PreferencesOut)
def get_preferences(session: SessionDep, customer: CustomerDep) -> PreferencesOut:
    return preferences_out(preferences.get_preferences(session=session, customer_user_id=customer.id),
                           preferences.CUSTOMER_KINDS)


@router.put("/me/notification-preferences", response_model=PreferencesOut)
def put_preferences(body: PreferencesIn, session: SessionDep, customer: CustomerDep) -> PreferencesOut:
    saved = preferences.set_preferences(session=session, customer_user_id=customer.id, switches=body.switches,
                                        quiet_start=body.quiet_start, quiet_end=body.quiet_end)
    session.commit()
    return preferences_out(saved, preferences.CUSTOMER_KINDS)
