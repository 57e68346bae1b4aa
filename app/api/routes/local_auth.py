"""Local authorization lists per charger, and id-tag groups (parentIdTag)."""
from __future__ import annotations

import asyncio
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from app.api.deps import Caller, SessionDep, require_cap
from app.api.routes.commands import CommandOut
from app.api.shapes import RowModel, model_of
from core.db import get_engine
from services.access.permissions import Cap
from services.charging import idtags as idtag_svc
from services.ocpp import local_list as svc

router = APIRouter(tags=["local lists and groups"])
ViewChargers = require_cap(Cap.VIEW_CHARGERS)
CommandChargers = require_cap(Cap.COMMAND_CHARGERS)
ManageTags = require_cap(Cap.MANAGE_ID_TAGS)

LocalListOut = model_of(svc.LocalListView, "LocalListOut")


class LocalListIn(BaseModel):
    update_type: Literal["Full", "Differential"] = "Differential"


class GroupIn(BaseModel):
    group: str | None = Field(default=None, max_length=20, description="The group's id tag; null leaves the group")


class StatusIn(BaseModel):
    status: Literal["Accepted", "Blocked"]


class TagOut(BaseModel):
    tag: str
    group: str | None
    status: str


@router.get("/chargers/{charger_id}/local-list", response_model=LocalListOut)
def get_local_list(charger_id: int, session: SessionDep, caller: Caller = ViewChargers) -> RowModel:
    return LocalListOut.model_validate(svc.get_local_list(session=session, scope=caller.scope,
                                                          charger_id=charger_id))


@router.post("/chargers/{charger_id}/local-list", response_model=CommandOut)
async def send_local_list(charger_id: int, body: LocalListIn, session: SessionDep,
                          caller: Caller = CommandChargers) -> CommandOut:
    """SendLocalList built from the tags' current state; waits for the charger's answer."""
    await asyncio.to_thread(session.close)
    result = await asyncio.to_thread(svc.send_local_list, engine=get_engine(), scope=caller.scope,
                                     charger_id=charger_id, update_type=body.update_type, requested_by=caller.user.id)
    return CommandOut(**vars(result))


@router.post("/chargers/{charger_id}/local-list/check", response_model=CommandOut)
async def check_local_list(charger_id: int, session: SessionDep, caller: Caller = CommandChargers) -> CommandOut:
    """GetLocalListVersion; the answer is kept and a mismatch shows in GET .../local-list."""
    await asyncio.to_thread(session.close)
    result = await asyncio.to_thread(svc.check_version, engine=get_engine(), scope=caller.scope,
                                     charger_id=charger_id, requested_by=caller.user.id)
    return CommandOut(**vars(result))


@router.put("/id-tags/{tag}/group", response_model=TagOut)
def set_group(tag: str, body: GroupIn, session: SessionDep, caller: Caller = ManageTags) -> TagOut:
    row = idtag_svc.set_group(session=session, scope=caller.scope, tag=tag, group=body.group)
    session.commit()
    return TagOut(tag=row.tag, group=row.parent_tag, status=row.status)


@router.put("/id-tags/{tag}/status", response_model=TagOut)
def set_status(tag: str, body: StatusIn, session: SessionDep, caller: Caller = ManageTags) -> TagOut:
    """Blocked on a group's own tag blocks every tag in the group."""
    row = idtag_svc.set_status(session=session, scope=caller.scope, tag=tag, status=body.status)
    session.commit()
    return TagOut(tag=row.tag, group=row.parent_tag, status=row.status)
