"""Chargers: registration and scoped reads."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlmodel import Session

from models import Charger, Connector, Organization
from services.config import get_settings
from services.errors import Conflict, ValidationError
from services.scope import Scope, get_in_scope

OCPP_ID_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-")


def hash_auth_key(key: str) -> str:
    """Keyed hash (HMAC-SHA256 with SECRET_KEY) of a charger's OCPP AuthorizationKey."""
    secret = get_settings().secret_key.encode()
    return hmac.new(secret, key.encode("utf-8"), hashlib.sha256).hexdigest()


def check_auth_key(key: str, stored_hash: str | None) -> bool:
    if not stored_hash:
        return False
    return hmac.compare_digest(hash_auth_key(key), stored_hash)


def generate_auth_key() -> str:
    # OCPP 1.6 security whitepaper: AuthorizationKey is 16-40 bytes; this gives 32 hex-safe chars.
    return secrets.token_urlsafe(24)


def validate_ocpp_id(ocpp_id: str) -> str:
    ocpp_id = (ocpp_id or "").strip()
    if not 1 <= len(ocpp_id) <= 48 or not set(ocpp_id) <= OCPP_ID_CHARS:
        raise ValidationError("Charger id must be 1-48 characters: letters, digits, '.', '_', ':' or '-'.", "ocpp_id")
    return ocpp_id


def validate_auth_key(key: str) -> str:
    if not 16 <= len(key) <= 40:
        raise ValidationError("AuthorizationKey must be 16 to 40 characters.", "auth_key")
    return key


@dataclass(frozen=True)
class ChargerRow:
    id: int
    ocpp_id: str
    name: str
    organization_id: int
    organization_name: str
    address: str
    status: str
    lifecycle_status: str
    visible: bool
    connected: bool
    last_heartbeat_at: datetime | None
    location_owner_id: int | None


def register_charger(*, session: Session, ocpp_id: str, organization: Organization, name: str = "",
                     address: str = "", auth_key: str | None = None, security_profile: int = 1,
                     connectors: int = 1, **fields) -> tuple[Charger, str | None]:
    """Register a charger. Returns it with the plain AuthorizationKey (shown once) when one was set."""
    ocpp_id = validate_ocpp_id(ocpp_id)
    if security_profile not in (0, 1, 2):
        raise ValidationError("Security profile must be 0, 1 or 2.", "security_profile")
    if session.execute(select(Charger.id).where(Charger.ocpp_id == ocpp_id)).first():
        raise Conflict(f"A charger with id '{ocpp_id}' already exists.")
    if not 1 <= connectors <= 8:
        raise ValidationError("A charger has 1 to 8 connectors.", "connectors")
    plain = None
    if security_profile > 0:
        plain = validate_auth_key(auth_key) if auth_key else generate_auth_key()
    charger = Charger(ocpp_id=ocpp_id, organization_id=organization.id, name=name or ocpp_id, address=address,
                      security_profile=security_profile, auth_key_hash=hash_auth_key(plain) if plain else None,
                      **fields)
    session.add(charger)
    session.flush()
    for n in range(1, connectors + 1):
        session.add(Connector(charger_id=charger.id, connector_id=n))
    session.flush()
    return charger, plain


# Sort keys the charger table offers; anything else falls back to the OCPP id.
SORT_COLUMNS = {
    "ocpp_id": Charger.ocpp_id,
    "name": Charger.name,
    "organization": Organization.name,
    "status": Charger.status,
    "lifecycle_status": Charger.lifecycle_status,
    "last_heartbeat_at": Charger.last_heartbeat_at,
}


def list_chargers(*, session: Session, scope: Scope, search: str | None = None, limit: int = 50,
                  offset: int = 0, status: str | None = None, lifecycle_status: str | None = None,
                  sort: str = "ocpp_id", descending: bool = False) -> tuple[list[ChargerRow], int]:
    """One page of chargers in scope, and the total count. Filtering, sorting and paging happen in SQL."""
    where = [scope.charger_filter()]
    if search and search.strip():
        like = f"%{search.strip()}%"
        where.append(or_(Charger.ocpp_id.ilike(like), Charger.name.ilike(like), Charger.address.ilike(like)))
    if status:
        where.append(Charger.status == status)
    if lifecycle_status:
        where.append(Charger.lifecycle_status == lifecycle_status)
    total = session.execute(select(func.count()).select_from(Charger).where(*where)).scalar_one()
    column = SORT_COLUMNS.get(sort, Charger.ocpp_id)
    order = column.desc().nulls_last() if descending else column.asc().nulls_last()
    rows = session.execute(
        select(Charger, Organization.name)
        .join(Organization, Organization.id == Charger.organization_id)
        .where(*where)
        .order_by(order, Charger.ocpp_id)
        .limit(limit)
        .offset(offset)
    ).all()
    return [
        ChargerRow(c.id, c.ocpp_id, c.name, c.organization_id, org_name, c.address, c.status, c.lifecycle_status,
                   c.visible, c.connected, c.last_heartbeat_at, c.location_owner_id)
        for c, org_name in rows
    ], total


def get_charger(*, session: Session, scope: Scope, charger_id: int) -> Charger:
    return get_in_scope(session, Charger, charger_id, scope)


def get_by_ocpp_id(*, session: Session, ocpp_id: str) -> Charger | None:
    """Unscoped lookup, for the OCPP server (a charger identifies itself)."""
    return session.execute(select(Charger).where(Charger.ocpp_id == ocpp_id)).scalar_one_or_none()
