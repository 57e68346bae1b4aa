"""The operator's clients under /clients: add, list with usage and monitoring, limits, assign chargers, and
each client's custom roles. Keys are in routes/api_keys.py."""
from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from pydantic import Field

from app.api.deps import Caller, SessionDep, require_cap
from app.api.shapes import InputModel, RowModel, model_of, rows_to
from core.mail import MailError
from services.access import limits, roles
from services.access.permissions import Cap
from services.clients import assets as asset_svc
from services.clients import clients as svc

router = APIRouter(tags=["clients"])
ManageClients = require_cap(Cap.MANAGE_CLIENTS)
ManageRoles = require_cap(Cap.MANAGE_ROLES)


def _scope(cap: Cap) -> dict:
    return {"x-required-scope": cap.value}


ClientOut = model_of(svc.ClientRow, "ClientOut")
LimitsOut = model_of(limits.Limits, "ClientLimitsOut")
LimitsIn = model_of(limits.Limits, "ClientLimitsIn", base=InputModel, optional=True,
                    doc="Only the limits sent change; null is no limit.")
RoleOut = model_of(roles.RoleRow, "CustomRoleOut")


class ClientIn(InputModel):
    name: str = Field(examples=["Fleetline GmbH"])
    slug: str = Field(examples=["fleetline"])
    currency: str = Field(examples=["EUR"])
    timezone: str = Field(examples=["Europe/Berlin"])
    region: str = Field(examples=["EU"], description="Data-center region: US, EU or MENA.")
    admin_email: str = Field(examples=["admin@fleetline.example"], description="The first admin, invited by mail.")
    admin_name: str = ""
    legal_name: str | None = None
    address: str | None = None
    registration_number: str | None = None
    tax_number: str | None = None
    billing_email: str | None = None


class NewClientOut(RowModel):
    organization_id: int
    admin_user_id: int
    message: str


class AssignIn(InputModel):
    charger_ids: list[int] = Field(examples=[[3, 4]])


class AssignedOut(RowModel):
    moved: int


class AppAssignIn(InputModel):
    from_organization_id: int = Field(examples=[5], description="The client whose branded app this client takes.")


AppChoiceOut = model_of(asset_svc.AppChoice, "AppLinkOut")


class FleetAssignIn(InputModel):
    account_id: int = Field(examples=[12], description="A business account (fleet) of another client.")


class FleetMovedOut(RowModel):
    users: int = Field(description="App users who moved with the fleet.")


class RoleIn(InputModel):
    name: str = Field(max_length=roles.NAME_MAX, examples=["Fleet dispatcher"])
    capabilities: list[str] = Field(examples=[["view_chargers", "command_chargers"]],
                                    description="A subset of what you and the client hold.")


class RoleUpdate(InputModel):
    name: str | None = None
    capabilities: list[str] | None = None


@router.get("/clients", response_model=list[ClientOut], openapi_extra=_scope(Cap.MANAGE_CLIENTS))
def list_clients(session: SessionDep, caller: Caller = ManageClients) -> list[RowModel]:
    """Every client with its usage against each limit and the numbers its own dashboard shows."""
    return rows_to(ClientOut, svc.list_clients(session=session, scope=caller.scope))


@router.post("/clients", response_model=NewClientOut, status_code=201, openapi_extra=_scope(Cap.MANAGE_CLIENTS))
def create_client(body: ClientIn, session: SessionDep, caller: Caller = ManageClients) -> RowModel | JSONResponse:
    try:
        created = svc.create_client(session=session, scope=caller.scope, **body.model_dump())
    except MailError as exc:
        session.rollback()
        return JSONResponse({"message": f"The invitation could not be sent: {exc}"}, status_code=502)
    return NewClientOut.model_validate(created)


@router.get("/clients/{org_id}", response_model=ClientOut, openapi_extra=_scope(Cap.MANAGE_CLIENTS))
def get_client(org_id: int, session: SessionDep, caller: Caller = ManageClients) -> RowModel:
    return ClientOut.model_validate(svc.get_client(session=session, scope=caller.scope, organization_id=org_id))


@router.put("/clients/{org_id}/limits", response_model=LimitsOut, openapi_extra=_scope(Cap.MANAGE_CLIENTS))
def set_limits(org_id: int, body: LimitsIn, session: SessionDep, caller: Caller = ManageClients) -> RowModel:
    row = limits.set_limits(session=session, scope=caller.scope, user_id=caller.user.id, organization_id=org_id,
                            changes=body.model_dump(exclude_unset=True))
    session.commit()
    return LimitsOut.model_validate(row)


@router.post("/clients/{org_id}/chargers", response_model=AssignedOut, openapi_extra=_scope(Cap.MANAGE_CLIENTS))
def assign_chargers(org_id: int, body: AssignIn, session: SessionDep, caller: Caller = ManageClients) -> RowModel:
    """Move chargers to the client; their past sessions stay with the organization that earned them."""
    moved = svc.assign_chargers(session=session, scope=caller.scope, user_id=caller.user.id, organization_id=org_id,
                                charger_ids=body.charger_ids)
    session.commit()
    return AssignedOut(moved=moved)


@router.post("/clients/{org_id}/apps", response_model=AppChoiceOut, openapi_extra=_scope(Cap.MANAGE_CLIENTS))
def assign_app(org_id: int, body: AppAssignIn, session: SessionDep, caller: Caller = ManageClients) -> RowModel:
    """Link another client's branded app to this client. The old client's key is not carried over: choose one
    of this client's keys in the App Builder (PUT /clients/{org_id}/app)."""
    row = asset_svc.assign_app(session=session, scope=caller.scope, user_id=caller.user.id, organization_id=org_id,
                               from_organization_id=body.from_organization_id)
    session.commit()
    return AppChoiceOut.model_validate(row)


@router.post("/clients/{org_id}/fleets", response_model=FleetMovedOut, openapi_extra=_scope(Cap.MANAGE_CLIENTS))
def assign_fleet(org_id: int, body: FleetAssignIn, session: SessionDep, caller: Caller = ManageClients) -> RowModel:
    """Move a fleet (business account, sub-accounts, app users) to this client. Its past sessions, invoices and
    payments stay with the client that earned them; refused while it has active cards or money in its wallet."""
    moved = asset_svc.assign_fleet(session=session, scope=caller.scope, user_id=caller.user.id,
                                   organization_id=org_id, account_id=body.account_id)
    session.commit()
    return FleetMovedOut(users=moved)


@router.get("/clients/{org_id}/roles", response_model=list[RoleOut], openapi_extra=_scope(Cap.MANAGE_ROLES))
def list_roles(org_id: int, session: SessionDep, caller: Caller = ManageRoles) -> list[RowModel]:
    return rows_to(RoleOut, roles.list_roles(session=session, scope=caller.scope, organization_id=org_id))


@router.post("/clients/{org_id}/roles", response_model=RoleOut, status_code=201,
             openapi_extra=_scope(Cap.MANAGE_ROLES))
def create_role(org_id: int, body: RoleIn, session: SessionDep, caller: Caller = ManageRoles) -> RowModel:
    """Refused if it asks for a capability you do not hold yourself."""
    row = roles.create_role(session=session, scope=caller.scope, user_id=caller.user.id, organization_id=org_id,
                            name=body.name, capabilities=body.capabilities)
    session.commit()
    return RoleOut.model_validate(row)


@router.put("/clients/roles/{role_id}", response_model=RoleOut, openapi_extra=_scope(Cap.MANAGE_ROLES))
def update_role(role_id: int, body: RoleUpdate, session: SessionDep, caller: Caller = ManageRoles) -> RowModel:
    row = roles.update_role(session=session, scope=caller.scope, user_id=caller.user.id, role_id=role_id,
                            **body.model_dump(exclude_unset=True))
    session.commit()
    return RoleOut.model_validate(row)


@router.delete("/clients/roles/{role_id}", status_code=204, openapi_extra=_scope(Cap.MANAGE_ROLES))
def delete_role(role_id: int, session: SessionDep, caller: Caller = ManageRoles) -> Response:
    roles.delete_role(session=session, scope=caller.scope, user_id=caller.user.id, role_id=role_id)
    session.commit()
    return Response(status_code=204)
