from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query
from pydantic import BaseModel

from app.api.deps import Caller, SessionDep, require_cap
from services.access.permissions import Cap
from services.network import chargers as svc

router = APIRouter(tags=["chargers"])
ViewChargers = require_cap(Cap.VIEW_CHARGERS)


class ChargerOut(BaseModel):
    id: int
    ocpp_id: str
    name: str
    organization_id: int
    organization_name: str
    address: str
    status: str
    lifecycle_status: str
    visible: bool
    connected: bool
    last_heartbeat_at: datetime | None
    location_owner_id: int | None


class ChargerPage(BaseModel):
    items: list[ChargerOut]
    total: int
    limit: int
    offset: int


@router.get("/chargers", response_model=ChargerPage)
def list_chargers(session: SessionDep, caller: Caller = ViewChargers, search: str | None = None,
                  limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0)) -> ChargerPage:
    rows, total = svc.list_chargers(session=session, scope=caller.scope, search=search, limit=limit, offset=offset)
    return ChargerPage(items=[ChargerOut(**vars(r)) for r in rows], total=total, limit=limit, offset=offset)


@router.get("/chargers/{charger_id}", response_model=ChargerOut)
def get_charger(charger_id: int, session: SessionDep, caller: Caller = ViewChargers) -> ChargerOut:
    c = svc.get_charger(session=session, scope=caller.scope, charger_id=charger_id)
    org_name = c.organization_id and session.get(svc.Organization, c.organization_id).name
    return ChargerOut(id=c.id, ocpp_id=c.ocpp_id, name=c.name, organization_id=c.organization_id,
                      organization_name=org_name, address=c.address, status=c.status,
                      lifecycle_status=c.lifecycle_status, visible=c.visible, connected=c.connected,
                      last_heartbeat_at=c.last_heartbeat_at, location_owner_id=c.location_owner_id)
