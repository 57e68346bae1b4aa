"""REST parity for client integrations (issue 15): what the UI does with chargers, users and contracts,
with a user token or an API key of the right scope. Each route names its scope in OpenAPI."""
from __future__ import annotations

from decimal import Decimal

from fastapi import APIRouter, Query
from pydantic import Field

from app.api.deps import Caller, SessionDep, require_cap
from app.api.routes.chargers import ChargerOut
from app.api.shapes import InputModel, RowModel, model_of, rows_to
from services.access import users as user_svc
from services.access.permissions import Cap
from services.charging import contracts as contract_svc
from services.network import chargers as charger_svc

router = APIRouter()
ManageChargers = require_cap(Cap.MANAGE_CHARGERS)
ViewUsers = require_cap(Cap.VIEW_USERS)
ViewOrgs = require_cap(Cap.VIEW_ORGANIZATIONS)


def _scope(cap: Cap) -> dict:
    return {"x-required-scope": cap.value}


class ChargerIn(InputModel):
    ocpp_id: str = Field(examples=["CP-0042"])
    organization_id: int = Field(examples=[2])
    name: str = ""
    address: str = ""
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    connectors: int = 1
    tariff_id: int | None = None
    location_owner_id: int | None = None
    lifecycle_status: str = Field("Active", examples=["Active"])
    visible: bool = True


class ChargerUpdate(InputModel):
    """Only the fields sent change. `organization_id` assigns the charger to another organization (its
    past sessions stay with the one that earned them); `visible` and `lifecycle_status` as in the UI."""
    name: str | None = None
    address: str | None = None
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    connectors: int | None = None
    tariff_id: int | None = None
    location_owner_id: int | None = None
    lifecycle_status: str | None = Field(None, examples=["Maintenance"])
    visible: bool | None = None
    organization_id: int | None = None


class CreatedChargerOut(RowModel):
    charger: ChargerOut  # type: ignore[valid-type]
    auth_key: str | None = Field(description="The charger's AuthorizationKey, shown once.")


UserOut = model_of(user_svc.UserRow, "UserOut")
ContractOut = model_of(contract_svc.ContractRow, "ContractOut")


class UserPage(RowModel):
    items: list[UserOut]  # type: ignore[valid-type]
    total: int


@router.post("/chargers", response_model=CreatedChargerOut, status_code=201, tags=["chargers"],
             openapi_extra=_scope(Cap.MANAGE_CHARGERS))
def create_charger(body: ChargerIn, session: SessionDep, caller: Caller = ManageChargers) -> RowModel:
    charger, key = charger_svc.create_charger(session=session, scope=caller.scope, user_id=caller.user.id,
                                              **body.model_dump())
    session.commit()
    row = charger_svc.get_charger_row(session=session, scope=caller.scope, charger_id=charger.id)
    return CreatedChargerOut(charger=ChargerOut.model_validate(row), auth_key=key)


@router.put("/chargers/{charger_id}", response_model=ChargerOut, tags=["chargers"],
            openapi_extra=_scope(Cap.MANAGE_CHARGERS))
def update_charger(charger_id: int, body: ChargerUpdate, session: SessionDep,
                   caller: Caller = ManageChargers) -> RowModel:
    charger_svc.update_charger(session=session, scope=caller.scope, user_id=caller.user.id, charger_id=charger_id,
                               **body.model_dump(exclude_unset=True))
    session.commit()
    return ChargerOut.model_validate(charger_svc.get_charger_row(session=session, scope=caller.scope,
                                                                 charger_id=charger_id))


@router.get("/users", response_model=UserPage, tags=["users"], openapi_extra=_scope(Cap.VIEW_USERS))
def list_users(session: SessionDep, caller: Caller = ViewUsers, search: str | None = None,
               limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0)) -> UserPage:
    rows, total = user_svc.list_users(session=session, scope=caller.scope, search=search, limit=limit,
                                      offset=offset)
    return UserPage(items=rows_to(UserOut, rows), total=total)


@router.get("/organizations/{org_id}/contracts", response_model=list[ContractOut], tags=["organizations"],
            openapi_extra=_scope(Cap.VIEW_ORGANIZATIONS))
def list_contracts(org_id: int, session: SessionDep, caller: Caller = ViewOrgs) -> list[RowModel]:
    return rows_to(ContractOut, contract_svc.list_contracts(session=session, scope=caller.scope,
                                                            organization_id=org_id))
