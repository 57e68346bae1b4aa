from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from app.api.deps import Caller, SessionDep, require_cap
from services import organizations as svc
from services.permissions import Cap

router = APIRouter(tags=["organizations"])
ViewOrgs = require_cap(Cap.VIEW_ORGANIZATIONS)


class OrganizationOut(BaseModel):
    id: int
    slug: str
    name: str
    kind: str
    parent_id: int | None
    currency: str
    timezone: str
    region: str


@router.get("/organizations", response_model=list[OrganizationOut])
def list_organizations(session: SessionDep, caller: Caller = ViewOrgs) -> list[OrganizationOut]:
    return [OrganizationOut(**vars(r)) for r in svc.list_organizations(session=session, scope=caller.scope)]


@router.get("/organizations/{org_id}", response_model=OrganizationOut)
def get_organization(org_id: int, session: SessionDep, caller: Caller = ViewOrgs) -> OrganizationOut:
    org = svc.get_organization(session=session, scope=caller.scope, org_id=org_id)
    return OrganizationOut.model_validate(org, from_attributes=True)
