"""Branded apps: the App Builder's configuration per client, and the start-up config a white-label app
fetches with its own API key."""
from __future__ import annotations

from fastapi import APIRouter, HTTPException

from app.api.deps import Caller, CallerDep, SessionDep, require_cap
from app.api.shapes import InputModel, RowModel, model_of
from models import ApiKey
from services.access.permissions import Cap
from services.clients import app_config as svc

router = APIRouter(tags=["apps"])
ManageApps = require_cap(Cap.MANAGE_APPS)
SCOPE = {"x-required-scope": Cap.MANAGE_APPS.value}

AppConfigOut = model_of(svc.AppConfigRow, "AppConfigOut")
AppConfigIn = model_of(svc.AppConfigRow, "AppConfigIn", base=InputModel, exclude=("organization_id",),
                       optional=True, doc="Only the fields sent change.")
PublicConfigOut = model_of(svc.AppConfigRow, "AppStartupConfig", exclude=("organization_id", "api_key_id"),
                           doc="What a white-label app brands itself with at start-up.")
EXAMPLE = {"app_name": "Fleetline Charge", "logo_url": "https://cdn.fleetline.example/logo.png",
           "primary_color": "#0B6E4F", "accent_color": "#F2A541", "support_email": "help@fleetline.example",
           "support_phone": "+49 30 1234567", "support_url": "https://fleetline.example/help",
           "terms_url": "https://fleetline.example/terms", "privacy_url": "https://fleetline.example/privacy",
           "features": {"map": True, "remote_start": True, "history": True, "payments": False,
                        "favourites": True, "support_chat": True}}


@router.get("/app/config", response_model=PublicConfigOut,
            responses={200: {"content": {"application/json": {"example": EXAMPLE}}}},
            openapi_extra={"x-required-scope": "the app's API key (any scope)"})
def startup_config(caller: CallerDep, session: SessionDep) -> RowModel:
    """Call with the app's own key in `X-API-Key`: the branding, support links and feature switches."""
    if caller.scope.api_key_id is None:
        raise HTTPException(400, "Call with the app's API key in the X-API-Key header.")
    key = session.get(ApiKey, caller.scope.api_key_id)
    return PublicConfigOut.model_validate(svc.config_for_key(session=session, key=key))


@router.get("/clients/{org_id}/app", response_model=AppConfigOut, openapi_extra=SCOPE)
def get_app(org_id: int, session: SessionDep, caller: Caller = ManageApps) -> RowModel:
    return AppConfigOut.model_validate(svc.get_config(session=session, scope=caller.scope, organization_id=org_id))


@router.put("/clients/{org_id}/app", response_model=AppConfigOut, openapi_extra=SCOPE)
def save_app(org_id: int, body: AppConfigIn, session: SessionDep, caller: Caller = ManageApps) -> RowModel:
    row = svc.save_config(session=session, scope=caller.scope, user_id=caller.user.id, organization_id=org_id,
                          changes=body.model_dump(exclude_unset=True))
    session.commit()
    return AppConfigOut.model_validate(row)
