"""Scoping in one place: a user becomes the organizations, chargers and charging history it may see.

Every service query for tenant data takes a Scope and filters through its methods; no service writes its
own tenant clause. Reading another organization's record by id answers NotFound.

- `org_filter(column)`: organizations in scope.
- `charger_filter()`: chargers as they are now (a location owner: the chargers assigned to it today).
- `transaction_filter()` / `stat_filter(model)`: history. A charging session belongs to the organization
  and the location owner that held the charger when it started, the snapshot columns
  `Transaction.organization_id` and `Transaction.location_owner_id`, never to whoever holds the charger
  now: a charger moved to another organization or owner keeps its history with the one that earned it.
  An empty snapshot (no location owner at start) belongs to no location owner; the organization's staff
  see it. Roll-up rows (models/stats.py) carry the same two columns and are filtered the same way.
- Which roles see invoices is a capability (`Cap.VIEW_INVOICES`), not a rule here.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import select, true
from sqlmodel import Session

from core.errors import NotFound
from core.validation import fits_int32
from models import Charger, LocationOwner, Organization, Transaction, User, UserOrganization
from services.access.permissions import ALL_ORGANIZATION_ROLES, Cap, Role, can, require


@dataclass(frozen=True)
class Scope:
    user_id: int
    role: Role
    # None means every organization; otherwise the ids, descendants included.
    org_ids: frozenset[int] | None
    # A location owner sees only the chargers assigned to it, and the sessions it earned.
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

    @property
    def for_location_owner(self) -> bool:
        return self.location_owner_id is not None

    def transaction_filter(self) -> Any:
        """A WHERE clause on Transaction: the sessions this scope earned (snapshot at start)."""
        return self.stat_filter(Transaction)

    def stat_filter(self, model: Any) -> Any:
        """A WHERE clause on any row with the snapshot columns `organization_id` and `location_owner_id`
        (Transaction, a roll-up): the same rule as `transaction_filter`.

        A location owner cannot be told apart in a row without `location_owner_id` (see `can_filter`).
        """
        clause = self.org_filter(model.organization_id)
        if self.location_owner_id is not None:
            if not hasattr(model, "location_owner_id"):
                raise TypeError(f"{model.__name__} has no location_owner_id: a location owner's figures "
                                "need a roll-up split by owner.")
            # `==` is never true for NULL: an empty snapshot belongs to no location owner.
            clause = clause & (model.location_owner_id == self.location_owner_id)
        return clause

    def can_filter(self, model: Any) -> bool:
        """Whether `stat_filter` can express this scope on a roll-up model (picking the roll-up to read)."""
        return self.location_owner_id is None or hasattr(model, "location_owner_id")

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
    if isinstance(obj_id, int) and not fits_int32(obj_id):
        raise NotFound(f"{model.__name__} not found.")  # no 32-bit id column holds it
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


def system_scope(org_id: int) -> Scope:
    """The platform acting on one organization's behalf (the demand-response engine in the worker): no
    user, the organization's chargers only."""
    return Scope(user_id=0, role=Role.TECHNICAL, org_ids=frozenset({org_id}))
