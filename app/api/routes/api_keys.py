"""A client's API keys, under /clients/{org_id}/keys: create (shown once), list, rotate, revoke."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter
from pydantic import Field

from app.api.deps import Caller, SessionDep, require_cap
from app.api.shapes import InputModel, RowModel, model_of, rows_to
from services.access import api_keys as svc
from services.access.permissions import Cap

router = APIRouter(tags=["clients"])
ManageKeys = require_cap(Cap.MANAGE_API_KEYS)
SCOPE = {"x-required-scope": Cap.MANAGE_API_KEYS.value}

KeyOut = model_of(svc.KeyRow, "ApiKeyOut")
KeyUseOut = model_of(svc.UseRow, "ApiKeyUseOut")
CreatedKeyOut = model_of(svc.CreatedKey, "CreatedApiKeyOut", key=KeyOut, doc="`secret` is shown this once only.")


class KeyIn(InputModel):
    name: str = Field(max_length=svc.NAME_MAX, examples=["Fleet app"])
    scopes: list[str] = Field(examples=[["view_chargers", "view_transactions"]],
                              description="Capabilities from the permission table; never more than yours.")
    expires_at: datetime | None = Field(None, examples=["2027-12-31T23:59:59Z"])


class RotateIn(InputModel):
    grace: Literal["none", "1h", "1d", "7d"] = Field(examples=["1h"],
                                                      description="How long the old key keeps working.")


@router.get("/clients/{org_id}/keys", response_model=list[KeyOut], openapi_extra=SCOPE)
def list_keys(org_id: int, session: SessionDep, caller: Caller = ManageKeys) -> list[RowModel]:
    return rows_to(KeyOut, svc.list_keys(session=session, scope=caller.scope, organization_id=org_id))


@router.post("/clients/{org_id}/keys", response_model=CreatedKeyOut, status_code=201, openapi_extra=SCOPE)
def create_key(org_id: int, body: KeyIn, session: SessionDep, caller: Caller = ManageKeys) -> RowModel:
    created = svc.create_key(session=session, scope=caller.scope, user_id=caller.user.id, organization_id=org_id,
                             name=body.name, scopes=body.scopes, expires_at=body.expires_at)
    session.commit()
    return CreatedKeyOut.model_validate(created)


@router.get("/clients/keys/{key_id}/usage", response_model=list[KeyUseOut], openapi_extra=SCOPE)
def key_usage(key_id: int, session: SessionDep, caller: Caller = ManageKeys) -> list[RowModel]:
    """What called with the key in the last 7 days (the rotation warning lists it)."""
    return rows_to(KeyUseOut, svc.recent_use(session=session, scope=caller.scope, key_id=key_id))


@router.post("/clients/keys/{key_id}/rotate", response_model=CreatedKeyOut, openapi_extra=SCOPE)
def rotate_key(key_id: int, body: RotateIn, session: SessionDep, caller: Caller = ManageKeys) -> RowModel:
    """A new key; apps built with the old key break when its grace period ends."""
    created = svc.rotate_key(session=session, scope=caller.scope, user_id=caller.user.id, key_id=key_id,
                             grace=body.grace)
    session.commit()
    return CreatedKeyOut.model_validate(created)


@router.post("/clients/keys/{key_id}/revoke", response_model=KeyOut, openapi_extra=SCOPE)
def revoke_key(key_id: int, session: SessionDep, caller: Caller = ManageKeys) -> RowModel:
    """Takes effect at once."""
    row = svc.revoke_key(session=session, scope=caller.scope, user_id=caller.user.id, key_id=key_id)
    session.commit()
    return KeyOut.model_validate(row)
