"""Scoping in one place: a user becomes the organizations and chargers it may see.

Every service query for tenant data takes a Scope and filters through `org_filter` /
`charger_filter`. Reading another organization's record by id answers NotFound.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import select, true
from sqlmodel import Session

from core.errors import NotFound
from models import Charger, LocationOwner, Organization, User, UserOrganization
from services.access.permissions import ALL_ORGANIZATION_ROLES, Cap, Role, can, require


@dataclass(frozen=True)
class Scope:
    user_id: int
    role: Role
    # None means every organization; otherwise the ids, descendants included.
    org_ids: frozenset[int] | None
    # A location owner sees only the chargers assigned to it.
    location_owner_id: int | None = None

    @property
    def all_orgs(self) -> bool:
        return self.org_ids is None

    @property
    def multi_org(self) -> bool:
        return self.org_ids is None or len(self.org_ids) > 1

    def can(self, cap: Cap) -> bool:
        return can(self.role, cap)

    def require(self, cap: Cap) -> None:
        require(self.role, cap)

    def org_filter(self, column: Any) -> Any:
        """A WHERE clause limiting an organization id column to this scope."""
        if self.org_ids is None:
            return true()
        return column.in_(sorted(self.org_ids))

    def charger_filter(self) -> Any:
        """A WHERE clause on Charger limiting rows to this scope."""
        clause = self.org_filter(Charger.organization_id)
        if self.location_owner_id is not None:
            clause = clause & (Charger.location_owner_id == self.location_owner_id)
        return clause

    def narrowed(self, org_id: int | None) -> Scope:
        """The organization switcher: one organization inside this scope, or all (None)."""
        if org_id is None:
            return self
        if self.org_ids is not None and org_id not in self.org_ids:
            raise NotFound("Organization not found.")
        return replace(self, org_ids=frozenset({org_id}))


def _descendants(session: Session, roots: set[int]) -> set[int]:
    rows = session.execute(select(Organization.id, Organization.parent_id)).all()
    children: dict[int, list[int]] = {}
    for oid, parent in rows:
        if parent is not None:
            children.setdefault(parent, []).append(oid)
    seen, stack = set(), list(roots)
    while stack:
        oid = stack.pop()
        if oid not in seen:
            seen.add(oid)
            stack.extend(children.get(oid, []))
    return seen


def scope_for(session: Session, user: User) -> Scope:
    role = Role(user.role)
    if role in ALL_ORGANIZATION_ROLES:
        return Scope(user_id=user.id, role=role, org_ids=None)
    bound = set(session.execute(
        select(UserOrganization.organization_id).where(UserOrganization.user_id == user.id)
    ).scalars())
    if role == Role.LOCATION_OWNER:
        # Bound to its owner's organization only, never to sub-organizations.
        owner = session.get(LocationOwner, user.location_owner_id)
        org_ids = frozenset({owner.organization_id}) if owner else frozenset()
        return Scope(user_id=user.id, role=role, org_ids=org_ids, location_owner_id=user.location_owner_id)
    return Scope(user_id=user.id, role=role, org_ids=frozenset(_descendants(session, bound)))


def get_in_scope(session: Session, model: type, obj_id: Any, scope: Scope) -> Any:
    """Fetch a tenant row by id, or NotFound if it is missing or outside the scope."""
    obj = session.get(model, obj_id)
    if obj is None:
        raise NotFound(f"{model.__name__} not found.")
    if model is Organization:
        org_id = obj.id
    else:
        org_id = obj.organization_id
    if scope.org_ids is not None and org_id not in scope.org_ids:
        raise NotFound(f"{model.__name__} not found.")
    if model is Charger and scope.location_owner_id is not None and obj.location_owner_id != scope.location_owner_id:
        raise NotFound("Charger not found.")
    return obj
