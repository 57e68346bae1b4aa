"""A client's usage limits (chargers, users, API calls a minute): read, set, and refuse what exceeds them.

Limits count over the client's whole tree (its sub-organizations included). A refusal names the limit.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlmodel import Session

from core.errors import Conflict, ValidationError
from models import Charger, ClientLimits, Organization, UserOrganization
from models.organization import OrganizationKind
from services.access import audit
from services.access.permissions import Cap
from services.access.scope import Scope, client_scope, get_in_scope

LIMIT_FIELDS = ("max_chargers", "max_users", "api_calls_per_minute")
_LIMIT_MAX = 1_000_000


@dataclass(frozen=True)
class Limits:
    max_chargers: int | None
    max_users: int | None
    api_calls_per_minute: int | None


def client_of(session: Session, organization_id: int) -> Organization | None:
    """The client organization an organization belongs to (itself, or the client above a sub-account)."""
    org = session.get(Organization, organization_id)
    while org is not None and org.kind == OrganizationKind.SUB:
        org = session.get(Organization, org.parent_id)
    return org if org is not None and org.kind == OrganizationKind.CLIENT else None


def limits_of(session: Session, organization_id: int) -> Limits:
    row = session.get(ClientLimits, organization_id)
    return Limits(row.max_chargers, row.max_users, row.api_calls_per_minute) if row else Limits(None, None, None)


def _tree(session: Session, client: Organization) -> list[int]:
    return sorted(client_scope(session, organization_id=client.id, user_id=0, caps=frozenset()).org_ids or [])


def charger_count(session: Session, client: Organization) -> int:
    return session.execute(select(func.count()).select_from(Charger)
                           .where(Charger.organization_id.in_(_tree(session, client)))).scalar_one()


def user_count(session: Session, client: Organization) -> int:
    return session.execute(select(func.count(func.distinct(UserOrganization.user_id)))
                           .where(UserOrganization.organization_id.in_(_tree(session, client)))).scalar_one()


def check_charger_room(session: Session, organization_id: int, adding: int = 1) -> None:
    """Refuse a charger (new, or moved in) that would take the client past its maximum chargers."""
    client = client_of(session, organization_id)
    if client is None:
        return
    limit = limits_of(session, client.id).max_chargers
    if limit is not None and charger_count(session, client) + adding > limit:
        raise Conflict(f"{client.name} has reached its maximum chargers limit ({limit}).", "max_chargers")


def check_user_room(session: Session, organization_id: int) -> None:
    client = client_of(session, organization_id)
    if client is None:
        return
    limit = limits_of(session, client.id).max_users
    if limit is not None and user_count(session, client) + 1 > limit:
        raise Conflict(f"{client.name} has reached its maximum users limit ({limit}).", "max_users")


def set_limits(*, session: Session, scope: Scope, user_id: int, organization_id: int,
               changes: dict[str, int | None]) -> Limits:
    """The operator sets a client's limits; an empty value is unlimited."""
    scope.require(Cap.MANAGE_CLIENTS)
    org = get_in_scope(session, Organization, organization_id, scope)
    if org.kind != OrganizationKind.CLIENT:
        raise ValidationError("Usage limits belong to a client organization.", "organization_id")
    for key, value in changes.items():
        if key not in LIMIT_FIELDS:
            raise ValidationError(f"Unknown limit: {key[:40]}.", key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or not 0 <= value <= _LIMIT_MAX):
            raise ValidationError(f"{key.replace('_', ' ').capitalize()} must be a whole number from 0 to "
                                  f"{_LIMIT_MAX}, or empty for no limit.", key)
    row = session.get(ClientLimits, org.id, with_for_update=True) or ClientLimits(organization_id=org.id)
    old = {k: getattr(row, k) for k in LIMIT_FIELDS}
    for key, value in changes.items():
        setattr(row, key, value)
    session.add(row)
    changed = audit.diff(old, {k: getattr(row, k) for k in LIMIT_FIELDS})
    if changed:
        audit.record(session=session, user_id=user_id, organization_id=org.id, entity="client_limits",
                     entity_id=org.id, action="update", changes=changed)
    session.flush()
    return limits_of(session, org.id)
