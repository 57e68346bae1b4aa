"""FastAPI dependencies: a database session, the current user and its scope."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import APIKeyCookie, APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from core.db import IDENTITY, get_engine, use_db_scope
from core.net import client_address
from models import User
from services.access import api_keys
from services.access.auth import CUSTOMER, AuthError, user_from_token
from services.access.permissions import Cap
from services.access.scope import Scope, scope_for
from services.customers import auth as customer_auth

bearer = HTTPBearer(auto_error=False, description="A token from POST /api/v1/auth/token")
# The web app's login cookie (same token), accepted only by GET routes the browser follows as a
# plain link (CSV download, logo image). It is SameSite=Strict, so other sites cannot use it.
web_cookie = APIKeyCookie(name="voltdesk_token", auto_error=False,
                          description="The web app's login cookie (GET downloads only)")


# A client's integration: a per-client API key (issue 15), in place of a user's token.
api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False,
                              description="A client's API key (vd_live_…): its scopes, within its client")


def get_session() -> Iterator[Session]:
    with Session(get_engine(), expire_on_commit=False) as session:
        use_db_scope(session, IDENTITY)  # until the caller is known: the login tables only
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


@dataclass(frozen=True)
class Caller:
    user: User
    scope: Scope


def key_caller(session: Session, request: Request, key: str) -> Caller:
    """The caller an API key stands for: its client's scope with the key's scopes. Every call counts
    against the client's rate limit and is recorded."""
    try:
        row = api_keys.authenticate(session=session, key=key)
    except api_keys.KeyRefused as exc:
        raise HTTPException(status_code=401, detail=str(exc), headers={"WWW-Authenticate": "X-API-Key"}) from exc
    try:
        api_keys.count_call(session=session, key=row, ip=client_ip(request),
                            user_agent=request.headers.get("user-agent"))
    except api_keys.RateLimited as exc:
        raise HTTPException(status_code=429, detail=str(exc), headers={"Retry-After": str(exc.retry_after)}) from exc
    scope = api_keys.key_scope(session, row)
    scope.enter(session)
    return Caller(user=session.get(User, row.created_by_id), scope=scope)


def get_caller(session: SessionDep, request: Request,
               creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
               key: Annotated[str | None, Depends(api_key_header)]) -> Caller:
    if key is not None and creds is None:
        return key_caller(session, request, key)
    try:
        user = user_from_token(session=session, token=creds.credentials if creds else None)
    except AuthError as exc:
        raise HTTPException(status_code=401, detail=str(exc), headers={"WWW-Authenticate": "Bearer"}) from exc
    scope = scope_for(session, user)
    scope.enter(session)
    return Caller(user=user, scope=scope)


CallerDep = Annotated[Caller, Depends(get_caller)]


def get_browser_caller(session: SessionDep,
                       creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
                       cookie: Annotated[str | None, Depends(web_cookie)]) -> Caller:
    """The bearer token, else the login cookie; validated exactly like the bearer path."""
    token = creds.credentials if creds else cookie
    try:
        user = user_from_token(session=session, token=token or None)
    except AuthError as exc:
        raise HTTPException(status_code=401, detail=str(exc), headers={"WWW-Authenticate": "Bearer"}) from exc
    scope = scope_for(session, user)
    scope.enter(session)
    return Caller(user=user, scope=scope)


def require_cap(cap: Cap, *, cookie: bool = False):
    """The caller, if its role has `cap`. `cookie=True` also accepts the web app's login cookie."""
    source = get_browser_caller if cookie else get_caller

    def check(caller: Caller = Depends(source)) -> Caller:  # noqa: B008 (a local can't be named in Annotated)
        if not caller.scope.can(cap):
            raise HTTPException(status_code=403, detail=f"Your role may not {cap.value.replace('_', ' ')}.")
        return caller

    return Depends(check)


def client_ip(request: Request) -> str | None:
    """The client's address: X-Forwarded-For counts only from TRUSTED_PROXIES (core/net.py)."""
    return client_address(request.client.host if request.client else None, request.headers.get("x-forwarded-for"))


def get_principal(request: Request, session: SessionDep,
                  creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
                  cookie: Annotated[str | None, Depends(web_cookie)]) -> Scope:
    """The Scope of a staff user or a customer user (services/customers/auth.py), from the bearer token (or, for
    GET downloads, the login cookie). A customer's Scope has no role: staff capabilities never apply to it."""
    token = (creds.credentials if creds else cookie if request.method == "GET" else None) or None
    try:
        if customer_auth.token_kind(token) == CUSTOMER:
            scope = customer_auth.customer_principal(session=session, token=token)[1]
        else:
            scope = scope_for(session, user_from_token(session=session, token=token))
    except AuthError as exc:
        raise HTTPException(status_code=401, detail=str(exc), headers={"WWW-Authenticate": "Bearer"}) from exc
    scope.enter(session)
    return scope


PrincipalDep = Annotated[Scope, Depends(get_principal)]
