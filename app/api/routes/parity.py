"""REST parity for client integrations (issue 15): what the UI does with chargers, users and contracts,
with a user token or an API key of the right scope. Each route names its scope in OpenAPI."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from fastapi import APIRouter, Query
from pydantic import Field

from app.api.deps import Caller, SessionDep, require_cap
from app.api.routes.chargers import ChargerOut
from app.api.routes.organizations import TariffOut
from app.api.shapes import InputModel, RowModel, model_of, rows_to
from services.access import users as user_svc
from services.access.permissions import Cap
from services.charging import contracts as contract_svc
from services.charging import idtags as idtag_svc
from services.charging import tariffs as tariff_svc
from services.network import chargers as charger_svc

router = APIRouter()
ManageChargers = require_cap(Cap.MANAGE_CHARGERS)
ViewUsers = require_cap(Cap.VIEW_USERS)
ViewOrgs = require_cap(Cap.VIEW_ORGANIZATIONS)
ManageOrgs = require_cap(Cap.MANAGE_ORGANIZATIONS)
ManageUsers = require_cap(Cap.MANAGE_USERS)
ManageTags = require_cap(Cap.MANAGE_ID_TAGS)
ManageTariffs = require_cap(Cap.MANAGE_TARIFFS)


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
IdTagOut = model_of(idtag_svc.IdTagRow, "IdTagOut")
TariffUpdate = model_of(tariff_svc.TariffRow, "TariffUpdate", base=InputModel, exclude=("id", "organization_id"),
                        optional=True, doc="Only the fields sent change; a price change starts a new revision "
                                           "(past sessions keep the prices they started with).")


class IdTagPage(RowModel):
    items: list[IdTagOut]  # type: ignore[valid-type]
    total: int


class IdTagIn(InputModel):
    organization_id: int = Field(examples=[2])
    tag: str = Field(max_length=20, examples=["04A1B2C3D4"], description="The card's idTag (OCPP CiString20).")
    holder_name: str = Field("", max_length=idtag_svc.HOLDER_MAX, examples=["Anna Weber"])
    expires_at: datetime | None = Field(None, examples=["2027-12-31T23:59:59+00:00"])


class IdTagUpdate(InputModel):
    """Only the fields sent change; `expires_at: null` removes the expiry."""
    holder_name: str | None = Field(None, max_length=idtag_svc.HOLDER_MAX)
    expires_at: datetime | None = None


class ChargerTariffIn(InputModel):
    tariff_id: int | None = Field(examples=[5], description="A tariff of the charger's organization; null: its "
                                                           "default.")


class ContractIn(InputModel):
    kind: Literal["platform", "location_owner"] = Field(examples=["location_owner"])
    rate: Decimal = Field(examples=["12.5"], description="Commission in percent.")
    effective_on: date | None = Field(None, description="Today when left out; never in the past.")
    location_owner_id: int | None = None
    charger_id: int | None = None
    note: str = Field("", max_length=200)


class UserRoleIn(InputModel):
    custom_role_id: int = Field(examples=[7], description="One of the user's client's custom roles, holding "
                                                          "nothing you lack.")


class UserStatusIn(InputModel):
    status: Literal["active", "disabled"]


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


@router.put("/users/{user_id}/role", response_model=UserOut, tags=["users"], openapi_extra=_scope(Cap.MANAGE_USERS))
def set_user_role(user_id: int, body: UserRoleIn, session: SessionDep, caller: Caller = ManageUsers) -> RowModel:
    """Give a client's user one of that client's custom roles (as on the Roles page)."""
    user_svc.set_custom_role(session=session, scope=caller.scope, user_id=caller.user.id, target_id=user_id,
                             role_id=body.custom_role_id)
    session.commit()
    return _user_row(session, caller, user_id)


@router.put("/users/{user_id}/status", response_model=UserOut, tags=["users"],
            openapi_extra=_scope(Cap.MANAGE_USERS))
def set_user_status(user_id: int, body: UserStatusIn, session: SessionDep, caller: Caller = ManageUsers) -> RowModel:
    """Disable (every token stops at once) or enable a user, as on the Users page."""
    user_svc.set_status(session=session, scope=caller.scope, user_id=user_id, status=body.status)
    session.commit()
    return _user_row(session, caller, user_id)


def _user_row(session, caller: Caller, user_id: int) -> RowModel:
    target = user_svc.get_visible_user(session=session, scope=caller.scope, user_id=user_id)
    rows, _ = user_svc.list_users(session=session, scope=caller.scope, search=target.email, limit=5)
    return UserOut.model_validate(next(r for r in rows if r.id == user_id))


@router.get("/id-tags", response_model=IdTagPage, tags=["id tags"], openapi_extra=_scope(Cap.MANAGE_ID_TAGS))
def list_id_tags(session: SessionDep, caller: Caller = ManageTags, search: str | None = Query(None, max_length=100),
                 limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0)) -> IdTagPage:
    rows, total = idtag_svc.list_id_tags(session=session, scope=caller.scope, search=search, limit=limit,
                                         offset=offset)
    return IdTagPage(items=rows_to(IdTagOut, rows), total=total)


@router.post("/id-tags", response_model=IdTagOut, status_code=201, tags=["id tags"],
             openapi_extra=_scope(Cap.MANAGE_ID_TAGS))
def create_id_tag(body: IdTagIn, session: SessionDep, caller: Caller = ManageTags) -> RowModel:
    """A new card for an organization in your scope. Tags are global: one already in use anywhere is 409."""
    row = idtag_svc.add_id_tag(session=session, scope=caller.scope, user_id=caller.user.id, **body.model_dump())
    session.commit()
    return IdTagOut.model_validate(row)


@router.get("/id-tags/{tag}", response_model=IdTagOut, tags=["id tags"], openapi_extra=_scope(Cap.MANAGE_ID_TAGS))
def get_id_tag(tag: str, session: SessionDep, caller: Caller = ManageTags) -> RowModel:
    return IdTagOut.model_validate(idtag_svc.get_id_tag(session=session, scope=caller.scope, tag=tag))


@router.put("/id-tags/{tag}", response_model=IdTagOut, tags=["id tags"], openapi_extra=_scope(Cap.MANAGE_ID_TAGS))
def update_id_tag(tag: str, body: IdTagUpdate, session: SessionDep, caller: Caller = ManageTags) -> RowModel:
    """Holder name and expiry; block or group a tag with PUT .../status and .../group."""
    row = idtag_svc.update_id_tag(session=session, scope=caller.scope, user_id=caller.user.id, tag=tag,
                                  **body.model_dump(exclude_unset=True))
    session.commit()
    return IdTagOut.model_validate(row)


@router.get("/tariffs/{tariff_id}", response_model=TariffOut, tags=["organizations"],
            openapi_extra=_scope(Cap.VIEW_ORGANIZATIONS))
def get_tariff(tariff_id: int, session: SessionDep, caller: Caller = ViewOrgs) -> RowModel:
    return TariffOut.model_validate(tariff_svc.row(tariff_svc.get_tariff(session=session, scope=caller.scope,
                                                                         tariff_id=tariff_id)))


@router.put("/tariffs/{tariff_id}", response_model=TariffOut, tags=["organizations"],
            openapi_extra=_scope(Cap.MANAGE_TARIFFS))
def update_tariff(tariff_id: int, body: TariffUpdate, session: SessionDep, caller: Caller = ManageTariffs) -> RowModel:
    tariff = tariff_svc.update_tariff(session=session, scope=caller.scope, user_id=caller.user.id,
                                      tariff_id=tariff_id, **body.model_dump(exclude_unset=True))
    session.commit()
    return TariffOut.model_validate(tariff_svc.row(tariff))


@router.put("/chargers/{charger_id}/tariff", response_model=ChargerOut, tags=["chargers"],
            openapi_extra=_scope(Cap.MANAGE_TARIFFS))
def assign_tariff(charger_id: int, body: ChargerTariffIn, session: SessionDep,
                  caller: Caller = ManageTariffs) -> RowModel:
    tariff_svc.assign_tariff(session=session, scope=caller.scope, user_id=caller.user.id, charger_id=charger_id,
                             tariff_id=body.tariff_id)
    session.commit()
    return ChargerOut.model_validate(charger_svc.get_charger_row(session=session, scope=caller.scope,
                                                                 charger_id=charger_id))


@router.post("/organizations/{org_id}/contracts", response_model=ContractOut, status_code=201,
             tags=["organizations"], openapi_extra=_scope(Cap.MANAGE_ORGANIZATIONS))
def add_contract(org_id: int, body: ContractIn, session: SessionDep, caller: Caller = ManageOrgs) -> RowModel:
    """A commission contract from a date on (today when left out). Contracts are never edited: a new one
    replaces the old from its date, and past sessions keep the rate they were charged at."""
    contract = contract_svc.add_contract(session=session, scope=caller.scope, user_id=caller.user.id,
                                         organization_id=org_id, **body.model_dump())
    session.commit()
    return ContractOut.model_validate(contract_svc.row(contract))
