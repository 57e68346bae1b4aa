"""Passwords, login, throttling and session tokens.

Tokens are JWTs signed with joserfc (authlib's JOSE library; `authlib.jose` is deprecated in
favour of it). A token carries the user's token_version; logout and a password change bump
the version, which revokes every token issued before.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

import bcrypt
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OctKey
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session

from core.clock import utcnow
from core.config import get_settings
from core.errors import ValidationError
from core.validation import EMAIL_MAX, check_text
from models import LoginThrottle, User, UserToken

MAX_PASSWORD_BYTES = 72  # bcrypt ignores anything past 72 bytes; we refuse instead
MIN_PASSWORD_LENGTH = 8


class AuthError(Exception):
    """Login refused or token invalid. The message is safe to show; `code` names the case for a page that
    can only be sent a code (the login form posts to the API and is redirected back with `?error=code`)."""

    def __init__(self, message: str = "", code: str = "invalid") -> None:
        super().__init__(message)
        self.code = code


class Throttled(AuthError):
    def __init__(self, retry_after: int, what: str = "Too many failed logins.") -> None:
        super().__init__(f"{what} Try again in {retry_after} seconds.", "throttled")
        self.retry_after = retry_after


def validate_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(f"Password must be at least {MIN_PASSWORD_LENGTH} characters.", "password")
    if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
        raise ValidationError(f"Password must be at most {MAX_PASSWORD_BYTES} bytes long.", "password")


def hash_password(password: str) -> str:
    validate_password(password)
    rounds = get_settings().bcrypt_rounds
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds)).decode("ascii")


def verify_password(password: str, password_hash: str) -> bool:
    data = password.encode("utf-8")
    if len(data) > MAX_PASSWORD_BYTES:
        return False
    try:
        return bcrypt.checkpw(data, password_hash.encode("ascii"))
    except ValueError:
        # Not a bcrypt hash (an invited user has no password yet): spend the same time, then refuse.
        bcrypt.checkpw(data, _dummy_hash().encode("ascii"))
        return False


@lru_cache
def _dummy_hash() -> str:
    return bcrypt.hashpw(b"not-a-real-password", bcrypt.gensalt(get_settings().bcrypt_rounds)).decode("ascii")


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


# --- throttling -------------------------------------------------------------
# Two budgets in one table, shared by every web worker: failures per (email, client address), and
# failures per client address over every account (password spraying). A successful login clears only the
# first, so one account the attacker owns does not refill the address's budget. The address is the
# peer's, or the one trusted proxies forward (core/net.py): one user behind a proxy cannot lock out
# everyone behind it unless the proxy is trusted and forwards per-client addresses.

ACCOUNT_THROTTLED = "Too many failed logins."
ADDRESS_THROTTLED = "Too many failed logins from your network address, for any account."


def _throttle_key(email: str, ip: str | None) -> str:
    return f"{normalize_email(email)}|{ip or '-'}"


def _address_key(ip: str) -> str:
    return f"ip:{ip}"  # no "|": never equal to an account key


def _check_throttle(session: Session, key: str, what: str) -> None:
    row = session.get(LoginThrottle, key)
    now = utcnow()
    if row and row.locked_until and row.locked_until > now:
        raise Throttled(int((row.locked_until - now).total_seconds()) + 1, what)


def _record_failure(session: Session, key: str, max_failures: int) -> None:
    settings = get_settings()
    now = utcnow()
    window = timedelta(seconds=settings.login_lockout_seconds)
    # Upsert so concurrent failures on several workers all count.
    stmt = insert(LoginThrottle).values(key=key, failures=1, window_started_at=now)
    stmt = stmt.on_conflict_do_update(
        index_elements=[LoginThrottle.key],
        set_={"failures": LoginThrottle.failures + 1},
    )
    session.execute(stmt)
    row = session.get(LoginThrottle, key, populate_existing=True)
    # A window (or a lockout) that has passed starts the count again: typos spread over weeks never add up.
    if row.window_started_at < now - window and not (row.locked_until and row.locked_until > now):
        row.failures, row.window_started_at = 1, now
    if row.failures >= max_failures:
        row.locked_until = now + window
        row.failures = 0
        row.window_started_at = now
    session.add(row)


def _clear_failures(session: Session, key: str) -> None:
    row = session.get(LoginThrottle, key)
    if row:
        session.delete(row)


# The login page is sent the code (ADR 0007) and shows the same words.
_NOT_ACTIVE_CODE = {"disabled": "disabled", "invited": "not_activated", "unverified": "unverified"}
_NOT_ACTIVE = {
    "disabled": "This account is disabled.",
    "invited": "This account has not been activated yet.",
    "unverified": "Verify your email address first: open the link we mailed you.",
}


def _staff(session: Session, email: str) -> list[User]:
    return list(session.execute(select(User).where(User.email == email)).scalars())


def authenticate(*, session: Session, email: str, password: str, ip: str | None = None,
                 find: Callable[[Session, str], list] = _staff) -> User:
    """Check a login from client address `ip` (core.net.client_address). Commits throttling state;
    raises AuthError with a safe message (Throttled when a budget is spent).

    `find` lists who may log in with that (normalized) email: the staff user, or the customer users of
    services/customers (the same email may be a customer of several organizations; the password picks one)."""
    # Refused before the throttle rows, whose keys must fit their column.
    if len(check_text(email, "email")) > EMAIL_MAX:
        raise ValidationError(f"Email must be at most {EMAIL_MAX} characters.", "email")
    check_text(password, "password")
    settings = get_settings()
    key = _throttle_key(email, ip)
    _check_throttle(session, key, ACCOUNT_THROTTLED)
    if ip:
        _check_throttle(session, _address_key(ip), ADDRESS_THROTTLED)
    candidates = find(session, normalize_email(email))
    # An unknown email still costs one bcrypt hash, so timing does not reveal which emails exist.
    user = next((u for u in candidates if verify_password(password, u.password_hash or "")), None)
    if not candidates:
        verify_password(password, _dummy_hash())
    if user is None:
        _record_failure(session, key, settings.login_max_failures)
        if ip:
            _record_failure(session, _address_key(ip), settings.login_ip_max_failures)
        session.commit()
        raise AuthError("Incorrect email or password.")
    if user.status != "active":
        session.commit()
        raise AuthError(_NOT_ACTIVE.get(user.status, _NOT_ACTIVE["disabled"]),
                        _NOT_ACTIVE_CODE.get(user.status, "disabled"))
    _clear_failures(session, key)
    user.last_login_at = utcnow()
    session.add(user)
    session.commit()
    return user


# --- tokens -----------------------------------------------------------------

# Who a token speaks for: a staff user (app_user) or a customer user (customer_user). Staff tokens made
# before the claim existed have none and are staff.
STAFF, CUSTOMER = "staff", "customer"


@dataclass(frozen=True)
class TokenClaims:
    user_id: int
    token_version: int
    expires_at: int
    kind: str = STAFF


def _key() -> OctKey:
    return OctKey.import_key(get_settings().secret_key)


def issue_token(user: User, ttl: timedelta | None = None, kind: str = STAFF) -> str:
    settings = get_settings()
    now = int(utcnow().timestamp())
    ttl_s = int((ttl or timedelta(minutes=settings.jwt_ttl_minutes)).total_seconds())
    claims = {
        "iss": "voltdesk",
        "sub": str(user.id),
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + ttl_s,
        "ver": user.token_version,
        "role": user.role,
        "kind": kind,
    }
    return jwt.encode({"alg": "HS256"}, claims, _key())


def decode_token(token: str) -> TokenClaims:
    settings = get_settings()
    try:
        tok = jwt.decode(token, _key(), algorithms=["HS256"])
        registry = jwt.JWTClaimsRegistry(
            now=int(utcnow().timestamp()),
            aud={"essential": True, "value": settings.jwt_audience},
            exp={"essential": True},
            sub={"essential": True},
            ver={"essential": True},
        )
        registry.validate(tok.claims)
        return TokenClaims(int(tok.claims["sub"]), int(tok.claims["ver"]), int(tok.claims["exp"]),
                           str(tok.claims.get("kind", STAFF)))
    except (JoseError, ValueError, KeyError, TypeError) as exc:
        raise AuthError("Your session is invalid or has expired. Please log in again.") from exc


def user_from_token(*, session: Session, token: str | None) -> User:
    """The active user a token belongs to, checked against the database on every call."""
    if not token:
        raise AuthError("Not logged in.")
    claims = decode_token(token)
    if claims.kind != STAFF:  # a customer's token never opens the staff side
        raise AuthError("Your session is invalid or has expired. Please log in again.")
    user = session.get(User, claims.user_id)
    if user is None or user.token_version != claims.token_version:
        raise AuthError("Your session has ended. Please log in again.")
    if user.status != "active":
        raise AuthError("This account is disabled.")
    return user


def revoke_tokens(*, session: Session, user: User) -> None:
    """Logout: every token issued to this user stops working."""
    user.token_version += 1
    session.add(user)
    session.commit()


def revoke_reset_links(*, session: Session, user_id: int) -> None:
    """Every open password-reset link of the user stops working (answers "replaced"). Called whenever the
    password or the account's status changes: a link mailed before must not undo that change."""
    session.execute(
        update(UserToken)
        .where(UserToken.user_id == user_id, UserToken.purpose == "reset",
               UserToken.used_at.is_(None), UserToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def change_password(*, session: Session, user: User, current: str, new: str) -> None:
    """Set a new password; every token and every open reset link of the user stops working."""
    if not verify_password(current, user.password_hash):
        raise ValidationError("Current password is incorrect.", "current_password")
    user.password_hash = hash_password(new)
    user.token_version += 1
    user.must_change_password = False
    session.add(user)
    revoke_reset_links(session=session, user_id=user.id)
    session.commit()


