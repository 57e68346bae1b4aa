"""POST /chargers/{id}/commands: send an OCPP call to a charger through the command channel and wait."""
from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from app.api.deps import Caller, SessionDep, require_cap
from core.db import get_engine
from services.access.permissions import Cap
from services.ocpp import commands as svc

router = APIRouter(tags=["commands"])
CommandChargers = require_cap(Cap.COMMAND_CHARGERS)


class CommandIn(BaseModel):
    action: str = Field(description="An OCPP 1.6 central-system action, e.g. Reset", examples=["Reset"])
    payload: dict[str, Any] = Field(default_factory=dict, examples=[{"type": "Soft"}])
    timeout: float | None = Field(default=None, description="Seconds to wait for the charger's answer")


class CommandOut(BaseModel):
    id: int
    charger_id: int
    action: str
    status: str  # done or failed
    result: dict[str, Any] | None
    error: str | None
    created_at: datetime
    completed_at: datetime | None


@router.post("/chargers/{charger_id}/commands", response_model=CommandOut)
async def send_command(charger_id: int, body: CommandIn, session: SessionDep,
                       caller: Caller = CommandChargers) -> CommandOut:
    """Waits (up to the timeout) for the charger's answer on the event loop, holding no thread of the pool.

    The request's session (the one that authenticated the caller) gives its pooled connection back first:
    a waiting command must hold none."""
    await asyncio.to_thread(session.close)
    result = await svc.send_command_async(engine=get_engine(), scope=caller.scope, charger_id=charger_id,
                                          action=body.action, payload=body.payload, requested_by=caller.user.id,
                                          timeout=body.timeout)
    return CommandOut(**vars(result))


@router.post("/chargers/{charger_id}/auth-key-rotation", response_model=CommandOut)
async def rotate_auth_key(charger_id: int, session: SessionDep, caller: Caller = CommandChargers) -> CommandOut:
    """Give the charger a new AuthorizationKey (OCPP security profiles 1 and 2): generated and sent by the OCPP
    server, stored only as a keyed hash and never shown; the old key works until the charger connects with the
    new one."""
    await asyncio.to_thread(session.close)
    result = await svc.rotate_auth_key_async(engine=get_engine(), scope=caller.scope, charger_id=charger_id,
                                             requested_by=caller.user.id)
    return CommandOut(**vars(result))
