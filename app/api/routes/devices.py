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
