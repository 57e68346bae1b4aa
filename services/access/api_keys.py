"""Per-client API keys: create (shown once), list, rotate with a grace period, revoke, authenticate.

A key reads `vd_live_` + 32 random base62 characters + a 6-character CRC-32 checksum, so a typo or a
truncated paste is told apart from an unknown key without a database hit, and secret scanners can
recognise it. Only the SHA-256 of the whole key is stored: keys carry 190 random bits, so a slow hash
would add nothing. A key is found by that hash, for well-formed and malformed keys alike, so the
answer time does not depend on whether some prefix exists.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session

from core.clock import utcnow
from core.config import get_settings
from core.errors import ValidationError
from core.validation import required_text
from models import ApiKey, ApiKeyUse, ApiRateWindow, AppConfig, ClientLimits, Organization, User
from models.organization import OrganizationKind
from services.access import audit
from services.access.permissions import CLIENT_CAPS, Cap, parse_caps
from services.access.scope import Scope, client_scope, get_in_scope

KEY_PREFIX = "vd_live_"
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_BODY, _CHECK = 32, 6
_KEY_RE = re.compile(rf"^{KEY_PREFIX}[0-9A-Za-z]{{{_BODY + _CHECK}}}$")
SHOWN_PREFIX = len(KEY_PREFIX) + 4  # `vd_live_AbCd`: enough to tell keys apart in a list, useless to guess

# Rotation grace periods the operator may choose.
GRACE = {"none": timedelta(0), "1h": timedelta(hours=1), "1d": timedelta(days=1), "7d": timedelta(days=7)}
NAME_MAX = 100


class KeyRefused(Exception):
    """The key does not authenticate. The message says why and is safe to show."""


class RateLimited(Exception):
    def __init__(self, limit: int, retry_after: int) -> None:
        super().__init__(f"API calls per minute limit reached: this client may make {limit} calls a minute. "
                         f"Try again in {retry_after} seconds.")
        self.retry_after = retry_after


def _base62(number: int, width: int) -> str:
    out = []
    for _ in range(width):
        number, rest = divmod(number, 62)
        out.append(_ALPHABET[rest])
    return "".join(reversed(out))


def _checksum(body: str) -> str:
    return _base62(zlib.crc32(body.encode("ascii")), _CHECK)


def generate_key() -> str:
    body = "".join(secrets.choice(_ALPHABET) for _ in range(_BODY))
    return KEY_PREFIX + body + _checksum(body)


def well_formed(key: str) -> bool:
    if not _KEY_RE.match(key):
        return False
    body, check = key[len(KEY_PREFIX):-_CHECK], key[-_CHECK:]
    return hmac.compare_digest(_checksum(body), check)


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class KeyRow:
    id: int
    organization_id: int
    name: str
    prefix: str
    last_four: str
    scopes: list[str]
    status: str  # active, expired, revoked, grace (rotated, still working), rotated (no longer working)
    created_at: datetime
    created_by: str | None
    expires_at: datetime | None
    revoked_at: datetime | None
    grace_until: datetime | None
    replaced_by_id: int | None
    last_used_at: datetime | None
    last_used_ip: str | None


@dataclass(frozen=True)
class CreatedKey:
    key: KeyRow
    secret: str  # shown once, never stored


@dataclass(frozen=True)
class UseRow:
    day: str
    ip: str
    user_agent: str
    calls: int
    last_at: datetime


def status(key: ApiKey, now: datetime) -> str:
    if key.revoked_at is not None:
        return "revoked"
    if key.replaced_by_id is not None:
        return "grace" if key.grace_until is not None and key.grace_until > now else "rotated"
    if key.expires_at is not None and key.expires_at <= now:
        return "expired"
    return "active"


_REFUSALS = {
    "revoked": "This API key was revoked.",
    "rotated": "This API key was rotated and its grace period has ended; use the new key.",
    "expired": "This API key has expired.",
}


def _row(key: ApiKey, creator: str | None, now: datetime) -> KeyRow:
    return KeyRow(key.id, key.organization_id, key.name, key.prefix, key.last_four, list(key.scopes),
                  status(key, now), key.created_at, creator, key.expires_at, key.revoked_at, key.grace_until,
                  key.replaced_by_id, key.last_used_at, key.last_used_ip)


def _client(session: Session, scope: Scope, organization_id: int) -> Organization:
    org = get_in_scope(session, Organization, organization_id, scope)
    if org.kind != OrganizationKind.CLIENT:
        raise ValidationError("API keys belong to a client organization.", "organization_id")
    return org


def _get_key(session: Session, scope: Scope, key_id: int) -> ApiKey:
    return get_in_scope(session, ApiKey, key_id, scope)


def _new_key(session: Session, *, org_id: int, name: str, caps: frozenset[Cap], user_id: int,
             expires_at: datetime | None) -> tuple[ApiKey, str]:
    secret = generate_key()
    key = ApiKey(organization_id=org_id, name=name, prefix=secret[:SHOWN_PREFIX], last_four=secret[-4:],
                 key_hash=key_hash(secret), scopes=sorted(c.value for c in caps), created_by_id=user_id,
                 expires_at=expires_at)
    session.add(key)
    session.flush()
    return key, secret


def create_key(*, session: Session, scope: Scope, user_id: int, organization_id: int, name: str,
               scopes: list[str], expires_at: datetime | None = None) -> CreatedKey:
    scope.require(Cap.MANAGE_API_KEYS)
    org = _client(session, scope, organization_id)
    name = required_text(name, "name", max_len=NAME_MAX)
    caps = parse_caps(scopes)
    if not caps:
        raise ValidationError("Choose at least one scope for the key.", "scopes")
    scope.require_grantable(caps, "An API key")
    now = utcnow()
    if expires_at is not None and expires_at <= now:
        raise ValidationError("The expiry must be in the future.", "expires_at")
    key, secret = _new_key(session, org_id=org.id, name=name, caps=caps, user_id=user_id, expires_at=expires_at)
    audit.record(session=session, user_id=user_id, organization_id=org.id, entity="api_key", entity_id=key.id,
                 action="create", changes={"name": name, "scopes": key.scopes, "prefix": key.prefix,
                                           "expires_at": expires_at})
    return CreatedKey(_row(key, None, now), secret)


def list_keys(*, session: Session, scope: Scope, organization_id: int) -> list[KeyRow]:
    scope.require(Cap.MANAGE_API_KEYS)
    org = _client(session, scope, organization_id)
    now = utcnow()
    rows = session.execute(select(ApiKey, User.email).outerjoin(User, User.id == ApiKey.created_by_id)
                           .where(ApiKey.organization_id == org.id).order_by(ApiKey.created_at.desc(),
                                                                               ApiKey.id.desc()))
    return [_row(k, email, now) for k, email in rows]


def get_key(*, session: Session, scope: Scope, key_id: int) -> KeyRow:
    scope.require(Cap.MANAGE_API_KEYS)
    return _row(_get_key(session, scope, key_id), None, utcnow())


def recent_use(*, session: Session, scope: Scope, key_id: int, days: int = 7) -> list[UseRow]:
    """What called with the key lately, per day and address: the rotation dialog lists it."""
    scope.require(Cap.MANAGE_API_KEYS)
    key = _get_key(session, scope, key_id)
    since = (utcnow() - timedelta(days=days)).date()
    rows = session.execute(select(ApiKeyUse).where(ApiKeyUse.api_key_id == key.id, ApiKeyUse.day >= since)
                           .order_by(ApiKeyUse.last_at.desc())).scalars()
    return [UseRow(u.day.isoformat(), u.ip, u.user_agent, u.calls, u.last_at) for u in rows]


def rotate_key(*, session: Session, scope: Scope, user_id: int, key_id: int, grace: str) -> CreatedKey:
    """A new key with the same name, scopes and expiry; the old one works for the grace period, then stops."""
    scope.require(Cap.MANAGE_API_KEYS)
    if grace not in GRACE:
        raise ValidationError(f"Grace period must be one of: {', '.join(GRACE)}.", "grace")
    old = session.execute(select(ApiKey).where(ApiKey.id == _get_key(session, scope, key_id).id)
                          .with_for_update()).scalar_one()
    now = utcnow()
    if status(old, now) not in ("active", "expired"):
        raise ValidationError(f"This key is {status(old, now)}; only a current key can be rotated.", "key")
    caps = parse_caps(old.scopes)
    scope.require_grantable(caps, "The new key")
    expires_at = old.expires_at if old.expires_at and old.expires_at > now else None
    new, secret = _new_key(session, org_id=old.organization_id, name=old.name, caps=caps, user_id=user_id,
                           expires_at=expires_at)
    old.replaced_by_id, old.grace_until = new.id, now + GRACE[grace]
    # A branded app built on the old key follows to the new one (the old still finds it during the grace).
    session.execute(update(AppConfig).where(AppConfig.api_key_id == old.id).values(api_key_id=new.id))
    audit.record(session=session, user_id=user_id, organization_id=old.organization_id, entity="api_key",
                 entity_id=old.id, action="rotate", changes={"replaced_by": new.id, "new_prefix": new.prefix,
                                                             "grace": grace, "grace_until": old.grace_until})
    return CreatedKey(_row(new, None, now), secret)


def revoke_key(*, session: Session, scope: Scope, user_id: int, key_id: int) -> KeyRow:
    scope.require(Cap.MANAGE_API_KEYS)
    key = _get_key(session, scope, key_id)
    now = utcnow()
    if key.revoked_at is None:
        key.revoked_at = now
        audit.record(session=session, user_id=user_id, organization_id=key.organization_id, entity="api_key",
                     entity_id=key.id, action="revoke", changes={"prefix": key.prefix})
    session.flush()
    return _row(key, None, now)


# --- Authenticating a request -------------------------------------------------------------------------

def authenticate(*, session: Session, key: str) -> ApiKey:
    """The key's row, or KeyRefused saying why (malformed, unknown, expired, revoked, rotated out)."""
    digest = key_hash(key[:200])
    # The same query for every input: no shortcut reveals whether a prefix or a key exists.
    found = session.execute(select(ApiKey).where(ApiKey.key_hash == digest)).scalar_one_or_none()
    if not well_formed(key):
        raise KeyRefused("Malformed API key: it should read vd_live_ followed by 38 letters and digits.")
    if found is None or not hmac.compare_digest(found.key_hash, digest):
        raise KeyRefused("Unknown API key.")
    state = status(found, utcnow())
    if state in _REFUSALS:
        raise KeyRefused(_REFUSALS[state])
    return found


def key_scope(session: Session, key: ApiKey) -> Scope:
    """The key's scopes within its client's organizations, never more."""
    caps = frozenset(Cap(c) for c in key.scopes if c in Cap._value2member_map_) & CLIENT_CAPS
    return client_scope(session, organization_id=key.organization_id, user_id=key.created_by_id, caps=caps,
                        api_key_id=key.id)


def calls_per_minute(session: Session, organization_id: int) -> int:
    limit = session.execute(select(ClientLimits.api_calls_per_minute)
                            .where(ClientLimits.organization_id == organization_id)).scalar_one_or_none()
    return limit if limit is not None else get_settings().api_calls_per_minute


def count_call(*, session: Session, key: ApiKey, ip: str | None, user_agent: str | None) -> None:
    """Count the call against the client's per-minute limit (shared by every process through the database),
    and record it: last use on the key, calls per day and address, an audit entry for a new address."""
    now = utcnow()
    window = now.replace(second=0, microsecond=0)
    calls = session.execute(
        insert(ApiRateWindow).values(organization_id=key.organization_id, window_start=window, calls=1)
        .on_conflict_do_update(index_elements=["organization_id", "window_start"],
                               set_={"calls": ApiRateWindow.calls + 1})
        .returning(ApiRateWindow.calls)).scalar_one()
    if calls == 1:  # a new minute: forget the old ones
        session.execute(ApiRateWindow.__table__.delete().where(ApiRateWindow.organization_id == key.organization_id,
                                                               ApiRateWindow.window_start < window))
    limit = calls_per_minute(session, key.organization_id)
    if calls > limit:
        session.commit()
        raise RateLimited(limit, 60 - now.second)
    ip = (ip or "unknown")[:45]
    uses = session.execute(
        insert(ApiKeyUse).values(api_key_id=key.id, day=now.date(), ip=ip, user_agent=(user_agent or "")[:200],
                                 calls=1, last_at=now)
        .on_conflict_do_update(index_elements=["api_key_id", "day", "ip"],
                               set_={"calls": ApiKeyUse.calls + 1, "last_at": now,
                                     "user_agent": (user_agent or "")[:200]})
        .returning(ApiKeyUse.calls)).scalar_one()
    if uses == 1:
        audit.record(session=session, user_id=key.created_by_id, organization_id=key.organization_id,
                     entity="api_key", entity_id=key.id, action="use",
                     changes={"ip": ip, "user_agent": (user_agent or "")[:200]})
    key.last_used_at, key.last_used_ip = now, ip
    session.commit()
