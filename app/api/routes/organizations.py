from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import APIRouter
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict

from app.api.deps import Caller, SessionDep, require_cap
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


class OrganizationOut(BaseModel):
    id: int
    slug: str
    name: str
    kind: str
    parent_id: int | None
    currency: str
    timezone: str
    region: str


class OrganizationDetailOut(OrganizationOut):
    logo_path: str | None
    legal_name: str | None
    address: str | None
    registration_number: str | None
    tax_number: str | None
    billing_email: str | None
    billing_cycle: str
    billing_day: int
    payment_terms_days: int
    vat_rate: Decimal
    ssc_levy_rate: Decimal
    gateway_fee_percent: Decimal
    gateway_fee_fixed: Decimal
    energy_cost_per_kwh: Decimal
    platform_commission_rate: Decimal  # in force now


class OrganizationUpdate(BaseModel):
    """Only the fields sent are changed. Numbers may be sent as strings for exact decimals."""
    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    legal_name: str | None = None
    address: str | None = None
    registration_number: str | None = None
    tax_number: str | None = None
    billing_email: str | None = None
    currency: str | None = None
    timezone: str | None = None
    region: str | None = None
    billing_cycle: str | None = None
    billing_day: int | None = None
    payment_terms_days: int | None = None
    vat_rate: Decimal | None = None
    ssc_levy_rate: Decimal | None = None
    gateway_fee_percent: Decimal | None = None
    gateway_fee_fixed: Decimal | None = None
    energy_cost_per_kwh: Decimal | None = None
    platform_commission_rate: Decimal | None = None


class TariffOut(BaseModel):
    id: int
    organization_id: int
    name: str
    price_per_kwh: Decimal
    price_per_minute: Decimal
    session_fee: Decimal
    idle_fee_per_minute: Decimal
    idle_grace_minutes: int
    vat_inclusive: bool
    bands: list[dict[str, Any]]
    is_default: bool


class TariffIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    price_per_kwh: Decimal = Decimal(0)
    price_per_minute: Decimal = Decimal(0)
    session_fee: Decimal = Decimal(0)
    idle_fee_per_minute: Decimal = Decimal(0)
    idle_grace_minutes: int = 0
    vat_inclusive: bool = False
    bands: list[dict[str, Any]] = []
    is_default: bool | None = None


def _detail(session, caller: Caller, org_id: int) -> OrganizationDetailOut:
    return OrganizationDetailOut(**vars(org_settings.detail(session=session, scope=caller.scope, org_id=org_id)))


@router.get("/organizations", response_model=list[OrganizationOut])
def list_organizations(session: SessionDep, caller: Caller = ViewOrgs) -> list[OrganizationOut]:
    return [OrganizationOut(**vars(r)) for r in svc.list_organizations(session=session, scope=caller.scope)]


@router.get("/organizations/{org_id}", response_model=OrganizationDetailOut)
def get_organization(org_id: int, session: SessionDep, caller: Caller = ViewOrgs) -> OrganizationDetailOut:
    return _detail(session, caller, org_id)


@router.put("/organizations/{org_id}", response_model=OrganizationDetailOut)
def update_organization(org_id: int, body: OrganizationUpdate, session: SessionDep,
                        caller: Caller = ManageOrgs) -> OrganizationDetailOut:
    org_settings.update_organization(session=session, scope=caller.scope, user_id=caller.user.id, org_id=org_id,
                                     changes=body.model_dump(exclude_unset=True))
    session.commit()
    return _detail(session, caller, org_id)


@router.get("/organizations/{org_id}/tariffs", response_model=list[TariffOut])
def list_tariffs(org_id: int, session: SessionDep, caller: Caller = ViewOrgs) -> list[TariffOut]:
    return [TariffOut(**vars(t)) for t in tariff_svc.list_tariffs(session=session, scope=caller.scope,
                                                                  organization_id=org_id)]


@router.post("/organizations/{org_id}/tariffs", response_model=TariffOut, status_code=201)
def create_tariff(org_id: int, body: TariffIn, session: SessionDep, caller: Caller = ManageTariffs) -> TariffOut:
    fields = body.model_dump(exclude_none=True)
    tariff = tariff_svc.create_tariff(session=session, scope=caller.scope, user_id=caller.user.id,
                                      organization_id=org_id, **fields)
    session.commit()
    return TariffOut(**vars(tariff_svc.row(tariff)))


@router.get("/organizations/{org_id}/logo", response_class=FileResponse,
            responses={200: {"content": {"image/png": {}, "image/jpeg": {}, "image/webp": {}, "image/gif": {}}}})
def get_logo(org_id: int, session: SessionDep, caller: Caller = ViewLogo) -> FileResponse:
    org = svc.get_organization(session=session, scope=caller.scope, org_id=org_id)
    path = org_settings.logo_file(org)
    if path is None or not path.is_file():
        raise NotFound("This organization has no logo.")
    # The file name is content-addressed, so a cached copy is never stale.
    return FileResponse(path, headers={"Cache-Control": "private, max-age=86400"})
