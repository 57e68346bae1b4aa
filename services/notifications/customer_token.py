"""A minimal app-user (customer) bearer token for the device routes, kept apart so the customer login being
built in parallel can replace it: swap `customer_from_token` for the customers domain's check.

Its audience differs from the staff tokens', so neither kind of token is accepted in place of the other.
"""
from __future__ import annotations

from datetime import timedelta

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OctKey
from sqlmodel import Session

from core.clock import utcnow
from core.config import get_settings
from models import CustomerUser
from models.customer import CustomerUserStatus
from services.access.auth import AuthError

AUDIENCE = "voltdesk-customer"


def _key() -> OctKey:
    return OctKey.import_key("customer:" + get_settings().secret_key)


def issue_customer_token(user: CustomerUser, ttl: timedelta = timedelta(days=30)) -> str:
    now = int(utcnow().timestamp())
    claims = {"iss": "voltdesk", "aud": AUDIENCE, "sub": str(user.id), "iat": now,
              "exp": now + int(ttl.total_seconds()), "ver": user.token_version}
    return jwt.encode({"alg": "HS256"}, claims, _key())


def customer_from_token(*, session: Session, token: str | None) -> CustomerUser:
    if not token:
        raise AuthError("Not logged in.")
    try:
        tok = jwt.decode(token, _key(), algorithms=["HS256"])
        jwt.JWTClaimsRegistry(now=int(utcnow().timestamp()), aud={"essential": True, "value": AUDIENCE},
                              exp={"essential": True}, sub={"essential": True},
                              ver={"essential": True}).validate(tok.claims)
        user_id, version = int(tok.claims["sub"]), int(tok.claims["ver"])
    except (JoseError, ValueError, KeyError, TypeError) as exc:
        raise AuthError("Your session is invalid or has expired. Please log in again.") from exc
    user = session.get(CustomerUser, user_id)
    if user is None or user.token_version != version or user.status not in (CustomerUserStatus.ACTIVE,
                                                                             CustomerUserStatus.UNVERIFIED):
        raise AuthError("Your session has ended. Please log in again.")
    return user
