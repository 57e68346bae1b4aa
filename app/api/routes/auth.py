from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel

from app.api.deps import CallerDep, SessionDep, client_ip
from core.config import get_settings
from services.access import roles
from services.access.auth import AuthError, Throttled, authenticate, issue_token, revoke_tokens
from services.access.permissions import ROLE_LABELS, Role
from services.access.users import bound_organizations

router = APIRouter(tags=["auth"])


class TokenRequest(BaseModel):
    email: str
    password: str


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class OrgRef(BaseModel):
    id: int
    slug: str
    name: str


class MeResponse(BaseModel):
    id: int
    email: str
    full_name: str
    role: str
    role_label: str
    capabilities: list[str]
    bound_organizations: list[OrgRef]
    visible_organization_ids: list[int] | None  # None: every organization


@router.post("/auth/token", response_model=TokenResponse)
def token(body: TokenRequest, request: Request, session: SessionDep) -> TokenResponse:
    try:
        user = authenticate(session=session, email=body.email, password=body.password, ip=client_ip(request))
    except Throttled as exc:
        raise HTTPException(429, str(exc), headers={"Retry-After": str(exc.retry_after)}) from exc
    except AuthError as exc:
        raise HTTPException(401, str(exc)) from exc
    return TokenResponse(access_token=issue_token(user), expires_in=get_settings().jwt_ttl_minutes * 60)


@router.post("/auth/logout", status_code=204)
def logout(caller: CallerDep, session: SessionDep) -> None:
    if caller.scope.api_key_id is not None:  # a key acts for its creator; it must not end their sessions
        raise HTTPException(403, "An API key has no session to end; revoke the key instead.")
    user = session.merge(caller.user)
    revoke_tokens(session=session, user=user)


@router.get("/me", response_model=MeResponse)
def me(caller: CallerDep, session: SessionDep) -> MeResponse:
    u = caller.user
    orgs = bound_organizations(session=session, user=u)
    visible = None if caller.scope.org_ids is None else sorted(caller.scope.org_ids)
    return MeResponse(
        id=u.id, email=u.email, full_name=u.full_name, role=u.role,
        role_label=roles.label_of(session, u) or ROLE_LABELS[Role(u.role)],
        capabilities=sorted(c.value for c in caller.scope.capabilities),
        bound_organizations=[OrgRef(id=o.id, slug=o.slug, name=o.name) for o in orgs],
        visible_organization_ids=visible,
    )
