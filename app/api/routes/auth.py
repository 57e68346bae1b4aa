from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse
from pydantic import BaseModel

from app.api.deps import CallerDep, SessionDep, client_ip
from core.config import get_settings
from core.cookies import SESSION_COOKIE, session_cookie_from, session_cookie_options
from core.db import IDENTITY, session_scope
from core.errors import ValidationError
from services.access import roles
from services.access.auth import CUSTOMER, AuthError, Throttled, revoke_tokens, user_from_token
from services.access.permissions import ROLE_LABELS, Role
from services.access.users import bound_organizations
from services.customers.auth import PORTAL, login
from state.nav import HOME, LOGIN

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
    """Staff and customer users alike; a customer's token opens only the customer routes."""
    try:
        result = login(session=session, email=body.email, password=body.password, ip=client_ip(request))
    except Throttled as exc:
        raise HTTPException(429, str(exc), headers={"Retry-After": str(exc.retry_after)}) from exc
    except AuthError as exc:
        raise HTTPException(401, str(exc)) from exc
    return TokenResponse(access_token=result.token, expires_in=get_settings().jwt_ttl_minutes * 60)


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


# The web app's login form posts here as a plain HTML form, so the token goes straight into an HttpOnly
# cookie and never passes through a script (docs/adr/0007-token-storage.md).


def _same_origin(request: Request) -> bool:
    """A form post from our own pages: a browser always sends Origin on a POST; another site's form is refused."""
    origin = request.headers.get("origin")
    return origin is None or origin.rstrip("/") in get_settings().allowed_origins


def _back_to_login(code: str, **extra: str) -> RedirectResponse:
    return RedirectResponse(f"{LOGIN}?{urlencode({'error': code, **extra})}", status_code=303)


@router.post("/auth/session", status_code=303, response_class=RedirectResponse,
             summary="Log in from the web app's form (sets the HttpOnly login cookie)")
async def open_session(request: Request, email: str = Form(""), password: str = Form("")) -> RedirectResponse:
    if not _same_origin(request):
        raise HTTPException(403, "Log in from Voltdesk's own login page.")
    if not email.strip() or not password:
        return _back_to_login("missing")
    ip = client_ip(request)

    def job():
        with session_scope(IDENTITY) as session:
            # Staff or a customer of any platform (services/customers/auth.py).
            return login(session=session, email=email.strip(), password=password, ip=ip)

    try:
        result = await run_in_threadpool(job)
    except Throttled as exc:
        return _back_to_login("throttled", retry=str(exc.retry_after))
    except AuthError as exc:
        return _back_to_login(exc.code)
    except ValidationError:
        return _back_to_login("input")
    answer = RedirectResponse(PORTAL if result.kind == CUSTOMER else HOME, status_code=303)
    answer.set_cookie(SESSION_COOKIE, result.token, max_age=get_settings().jwt_ttl_minutes * 60,
                      **session_cookie_options())
    return answer


@router.post("/auth/session/end", status_code=303, response_class=RedirectResponse,
             summary="Log out from the web app (revokes every token of the user and clears the cookie)")
async def end_session(request: Request) -> RedirectResponse:
    if not _same_origin(request):
        raise HTTPException(403, "Log out from Voltdesk's own pages.")
    token = session_cookie_from(request.headers.get("cookie"))

    def job() -> None:
        with session_scope(IDENTITY) as session:
            try:
                revoke_tokens(session=session, user=user_from_token(session=session, token=token))
            except AuthError:
                pass  # already out

    if token:
        await run_in_threadpool(job)
    answer = RedirectResponse(f"{LOGIN}?{urlencode({'out': '1'})}", status_code=303)
    answer.delete_cookie(SESSION_COOKIE, **session_cookie_options())
    return answer
