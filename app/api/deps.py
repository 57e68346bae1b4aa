"""FastAPI dependencies: a database session, the current user and its scope."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from models import User
from services.auth import AuthError, user_from_token
from services.db import get_engine
from services.permissions import Cap
from services.scope import Scope, scope_for

bearer = HTTPBearer(auto_error=False, description="A token from POST /api/v1/auth/token")


def get_session() -> Iterator[Session]:
    with Session(get_engine(), expire_on_commit=False) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


@dataclass(frozen=True)
class Caller:
    user: User
    scope: Scope


def get_caller(session: SessionDep,
               creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Caller:
    try:
        user = user_from_token(session=session, token=creds.credentials if creds else None)
    except AuthError as exc:
        raise HTTPException(status_code=401, detail=str(exc), headers={"WWW-Authenticate": "Bearer"}) from exc
    return Caller(user=user, scope=scope_for(session, user))


CallerDep = Annotated[Caller, Depends(get_caller)]


def require_cap(cap: Cap):
    def check(caller: CallerDep) -> Caller:
        if not caller.scope.can(cap):
            raise HTTPException(status_code=403, detail=f"Your role may not {cap.value.replace('_', ' ')}.")
        return caller

    return Depends(check)


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None
