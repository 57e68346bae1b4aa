from __future__ import annotations

from decimal import Decimal

from fastapi import APIRouter
from fastapi.responses import FileResponse

from app.api.deps import Caller, SessionDep, require_cap
from app.api.shapes import InputModel, RowModel, model_of, rows_to
from core.errors import NotFound
from services.access import organizations as svc
from services.access.permissions import Cap
from services.billing import org_settings
from services.charging import tariffs as tariff_svc

router = APIRouter(tags=["organizations"])
ViewOrgs = require_cap(Cap.VIEW_ORGANIZATIONS)
ManageOrgs = require_cap(Cap.MANAGE_ORGANIZATIONS)
ManageTariffs = require_cap(Cap.MANAGE_TARIFFS)
ViewLogo = require_cap(Cap.VIEW_ORGANIZATIONS, cookie=True)  # an <img> in the web app sends the cookie


OrganizationOut = model_of(svc.OrgRow, "OrganizationOut")
OrganizationDetailOut = model_of(org_settings.OrgDetail, "OrganizationDetailOut")
OrganizationUpdate = model_of(
    org_settings.OrgDetail, "OrganizationUpdate", base=InputModel, only=org_settings.EDITABLE, optional=True,
    doc="Only the fields sent are changed. Numbers may be sent as strings for exact decimals.")
TariffOut = model_of(tariff_svc.TariffRow, "TariffOut")
TariffIn = model_of(
    tariff_svc.TariffRow, "TariffIn", base=InputModel, exclude=("id", "organization_id"), optional=("is_default",),
    defaults={**dict.fromkeys(tariff_svc.PRICE_FIELDS, Decimal(0)), "idle_grace_minutes": 0, "vat_inclusive": False,
              "bands": []})


def _detail(session, caller: Caller, org_id: int) -> RowModel:
    return OrganizationDetailOut.model_validate(org_settings.detail(session=session, scope=caller.scope, org_id=org_id))


@router.get("/organizations", response_model=list[OrganizationOut])
def list_organizations(session: SessionDep, caller: Caller = ViewOrgs) -> list[RowModel]:
    return rows_to(OrganizationOut, svc.list_organizations(session=session, scope=caller.scope))


@router.get("/organizations/{org_id}", response_model=OrganizationDetailOut)
def get_organization(org_id: int, session: SessionDep, caller: Caller = ViewOrgs) -> RowModel:
    return _detail(session, caller, org_id)


@router.put("/organizations/{org_id}", response_model=OrganizationDetailOut)
def update_organization(org_id: int, body: OrganizationUpdate, session: SessionDep,
                        caller: Caller = ManageOrgs) -> RowModel:
    org_settings.update_organization(session=session, scope=caller.scope, user_id=caller.user.id, org_id=org_id,
                                     changes=body.model_dump(exclude_unset=True))
    session.commit()
    return _detail(session, caller, org_id)


@router.get("/organizations/{org_id}/tariffs", response_model=list[TariffOut])
def list_tariffs(org_id: int, session: SessionDep, caller: Caller = ViewOrgs) -> list[RowModel]:
    return rows_to(TariffOut, tariff_svc.list_tariffs(session=session, scope=caller.scope, organization_id=org_id))


@router.post("/organizations/{org_id}/tariffs", response_model=TariffOut, status_code=201)
def create_tariff(org_id: int, body: TariffIn, session: SessionDep, caller: Caller = ManageTariffs) -> RowModel:
    fields = body.model_dump(exclude_none=True)
    tariff = tariff_svc.create_tariff(session=session, scope=caller.scope, user_id=caller.user.id,
                                      organization_id=org_id, **fields)
    session.commit()
    return TariffOut.model_validate(tariff_svc.row(tariff))


@router.get("/organizations/{org_id}/logo", response_class=FileResponse,
            responses={200: {"content": {"image/png": {}, "image/jpeg": {}, "image/webp": {}, "image/gif": {}}}})
def get_logo(org_id: int, session: SessionDep, caller: Caller = ViewLogo) -> FileResponse:
    org = svc.get_organization(session=session, scope=caller.scope, org_id=org_id)
    path = org_settings.logo_file(org)
    if path is None or not path.is_file():
        raise NotFound("This organization has no logo.")
    # The file name is content-addressed, so a cached copy is never stale.
    return FileResponse(path, headers={"Cache-Control": "private, max-age=86400"})
