"""Client-specific custom roles: a name and a subset of the capabilities the client holds.

A custom role is a row of the one permission table held as data; `scope_for` reads it and every check
(`Scope.can`) is the same code as for the built-in roles. Its creator's own capabilities bound it.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlmodel import Session

from core.errors import Conflict, NotFound, ValidationError
from core.validation import required_text
from models import CustomRole, Organization, User
from models.organization import OrganizationKind
from services.access import audit
from services.access.permissions import CLIENT_CAPS, Cap, parse_caps
from services.access.scope import Scope, get_in_scope

NAME_MAX = 100
# The first admin of a new client holds this role: everything a client may hold.
CLIENT_ADMIN = "Client admin"


@dataclass(frozen=True)
class RoleRow:
    id: int
    organization_id: int
    name: str
    capabilities: list[str]
    users: int


def _client(session: Session, scope: Scope, organization_id: int) -> Organization:
    org = get_in_scope(session, Organization, organization_id, scope)
    if org.kind != OrganizationKind.CLIENT:
        raise ValidationError("Custom roles belong to a client organization.", "organization_id")
    return org


def get_role(*, session: Session, scope: Scope, role_id: int) -> CustomRole:
    return get_in_scope(session, CustomRole, role_id, scope)


def _users(session: Session, role_id: int) -> int:
    return session.execute(select(func.count()).select_from(User).where(User.custom_role_id == role_id)).scalar_one()


def _row(session: Session, role: CustomRole) -> RoleRow:
    return RoleRow(role.id, role.organization_id, role.name, list(role.capabilities), _users(session, role.id))


def _caps(scope: Scope, names: list[str]) -> list[str]:
    caps = parse_caps(names, "capabilities")
    if not caps:
        raise ValidationError("Choose at least one capability.", "capabilities")
    scope.require_grantable(caps, "A custom role")
    return sorted(c.value for c in caps)


def _unique_name(session: Session, org_id: int, name: str, role_id: int | None = None) -> str:
    name = required_text(name, "name", max_len=NAME_MAX)
    clash = session.execute(select(CustomRole.id).where(CustomRole.organization_id == org_id,
                                                        func.lower(CustomRole.name) == name.lower())).scalar()
    if clash is not None and clash != role_id:
        raise Conflict(f"A role named '{name}' already exists for this client.", "name")
    return name


def list_roles(*, session: Session, scope: Scope, organization_id: int) -> list[RoleRow]:
    if not (scope.can(Cap.MANAGE_ROLES) or scope.can(Cap.VIEW_USERS)):
        scope.require(Cap.MANAGE_ROLES)
    org = get_in_scope(session, Organization, organization_id, scope)
    roles = session.execute(select(CustomRole).where(CustomRole.organization_id == org.id)
                            .order_by(CustomRole.name)).scalars()
    return [_row(session, r) for r in roles]


def create_role(*, session: Session, scope: Scope, user_id: int, organization_id: int, name: str,
                capabilities: list[str]) -> RoleRow:
    scope.require(Cap.MANAGE_ROLES)
    org = _client(session, scope, organization_id)
    role = CustomRole(organization_id=org.id, name=_unique_name(session, org.id, name),
                      capabilities=_caps(scope, capabilities))
    session.add(role)
    session.flush()
    audit.record(session=session, user_id=user_id, organization_id=org.id, entity="custom_role", entity_id=role.id,
                 action="create", changes={"name": role.name, "capabilities": role.capabilities})
    return _row(session, role)


def client_admin_role(*, session: Session, organization_id: int) -> CustomRole:
    """The new client's "Client admin" role, holding everything a client may hold (made by the operator)."""
    role = CustomRole(organization_id=organization_id, name=CLIENT_ADMIN,
                      capabilities=sorted(c.value for c in CLIENT_CAPS))
    session.add(role)
    session.flush()
    return role


def update_role(*, session: Session, scope: Scope, user_id: int, role_id: int, name: str | None = None,
                capabilities: list[str] | None = None) -> RoleRow:
    scope.require(Cap.MANAGE_ROLES)
    role = get_role(session=session, scope=scope, role_id=role_id)
    old = {"name": role.name, "capabilities": list(role.capabilities)}
    if name is not None:
        role.name = _unique_name(session, role.organization_id, name, role.id)
    if capabilities is not None:
        role.capabilities = _caps(scope, capabilities)
    session.add(role)
    session.flush()
    changed = audit.diff(old, {"name": role.name, "capabilities": list(role.capabilities)})
    if changed:
        audit.record(session=session, user_id=user_id, organization_id=role.organization_id, entity="custom_role",
                     entity_id=role.id, action="update", changes=changed)
    return _row(session, role)


def delete_role(*, session: Session, scope: Scope, user_id: int, role_id: int) -> None:
    scope.require(Cap.MANAGE_ROLES)
    role = get_role(session=session, scope=scope, role_id=role_id)
    held = _users(session, role.id)
    if held:
        raise Conflict(f"{held} user(s) hold the role '{role.name}'; give them another role first.")
    audit.record(session=session, user_id=user_id, organization_id=role.organization_id, entity="custom_role",
                 entity_id=role.id, action="delete", changes={"name": role.name})
    session.delete(role)
    session.flush()


def check_assignable(*, session: Session, scope: Scope, role_id: int) -> CustomRole:
    """A custom role the caller may give: inside its scope, and holding nothing the caller lacks."""
    scope.require(Cap.MANAGE_USERS)
    try:
        role = get_role(session=session, scope=scope, role_id=role_id)
    except NotFound:
        raise ValidationError("Choose a role of this client.", "custom_role_id") from None
    scope.require_grantable(parse_caps(role.capabilities, "capabilities"), f"A user given '{role.name}'")
    return role


@dataclass(frozen=True)
class ClientOption:
    id: int
    name: str


def client_options(*, session: Session, scope: Scope) -> list[ClientOption]:
    """The client organizations whose roles the caller manages: every client for the operator, its own for a
    client admin."""
    scope.require(Cap.MANAGE_ROLES)
    rows = session.execute(select(Organization.id, Organization.name).where(
        Organization.kind == OrganizationKind.CLIENT, scope.org_filter(Organization.id)).order_by(Organization.name))
    return [ClientOption(i, n) for i, n in rows]


def grantable(scope: Scope) -> list[str]:
    """The capabilities the caller may put in a custom role: what a client may hold, and it holds itself."""
    return sorted(c.value for c in scope.capabilities & CLIENT_CAPS)


def names_by_id(session: Session, role_ids: set[int]) -> dict[int, str]:
    if not role_ids:
        return {}
    stmt = select(CustomRole.id, CustomRole.name).where(CustomRole.id.in_(sorted(role_ids)))
    return dict(session.execute(stmt).all())


def label_of(session: Session, user: User) -> str | None:
    """The custom role's name, for a user holding one."""
    return names_by_id(session, {user.custom_role_id}).get(user.custom_role_id) if user.custom_role_id else None
