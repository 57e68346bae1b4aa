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
- A customer user (services/customers) gets a Scope too: its organization, no role (so no staff capability
  ever applies), and `customer_account_ids`, its own account and its sub-accounts. Its sessions are those
  linked to those accounts (`Transaction.customer_account_id`), its chargers those active on them.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import false, select, true
from sqlmodel import Session

from core.db import DbMode, DbScope, use_db_scope
from core.errors import NotFound
from core.validation import fits_int32
from models import (
    Charger,
    ChargingAsset,
    CustomerAccount,
    CustomerUser,
    CustomRole,
    LocationOwner,
    Organization,
    Transaction,
    User,
    UserOrganization,
)
from services.access.permissions import (
    ALL_ORGANIZATION_ROLES,
    CLIENT_CAPS,
    Cap,
    PermissionDenied,
    Role,
    capabilities,
    denied,
)


@dataclass(frozen=True)
class Scope:
    user_id: int
    role: Role | None  # None: a customer user, whom no staff capability reaches
    # None means every organization; otherwise the ids, descendants included.
    org_ids: frozenset[int] | None
    # A location owner sees only the chargers assigned to it, and the sessions it earned.
    location_owner_id: int | None = None
    # A customer user sees only these customer accounts (its own and its sub-accounts); None: staff.
    customer_account_ids: frozenset[int] | None = None

    @property
    def is_customer(self) -> bool:
        return self.customer_account_ids is not None

    def customer_account_filter(self, column: Any) -> Any:
        """A WHERE clause limiting a customer account id column to this scope (staff: no limit beyond
        their organizations, which `account_filter` adds)."""
        if self.customer_account_ids is None:
            return true()
        return column.in_(sorted(self.customer_account_ids))

    def account_filter(self) -> Any:
        """A WHERE clause on CustomerAccount: the accounts this scope may see."""
        return self.org_filter(CustomerAccount.organization_id) & self.customer_account_filter(CustomerAccount.id)
    # The capabilities, when they are not the built-in role's row: a custom role's or an API key's.
    caps: frozenset[Cap] | None = None
    # Set when an API key is the caller (its id), so audits and rate limits can name it.
    api_key_id: int | None = None

    @property
    def capabilities(self) -> frozenset[Cap]:
        return self.caps if self.caps is not None else capabilities(self.role)

    @property
    def all_orgs(self) -> bool:
        return self.org_ids is None

    @property
    def multi_org(self) -> bool:
        return self.org_ids is None or len(self.org_ids) > 1

    def can(self, cap: Cap) -> bool:
        return cap in self.capabilities

    def db_scope(self) -> DbScope:
        """The same scope for PostgreSQL's row-level security (core/rls.py), the second line behind the filters."""
        orgs = "*" if self.org_ids is None else "{" + ",".join(str(i) for i in sorted(self.org_ids)) + "}"
        owner = "" if self.location_owner_id is None else str(self.location_owner_id)
        # A customer's user id names a customer_user, not a staff user: the policies know only the latter.
        user = "" if self.is_customer else str(self.user_id)
        return DbScope(DbMode.USER, org_ids=orgs, owner_id=owner, user_id=user)

    def enter(self, session: Session) -> None:
        """From now on the database itself shows `session` only what this scope may see."""
        use_db_scope(session, self.db_scope())

    def require(self, cap: Cap) -> None:
        if not self.can(cap):
            raise denied(cap)

    def require_grantable(self, caps: frozenset[Cap], what: str) -> None:
        """A key or a custom role never holds more than its creator, nor anything only the operator holds."""
        for cap in sorted(caps):
            if cap not in CLIENT_CAPS:
                raise PermissionDenied(f"{what} cannot hold {cap.value}: only the operator holds it.")
            if not self.can(cap):
                raise PermissionDenied(f"{what} cannot hold {cap.value}: you do not hold it yourself.")

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
        if self.customer_account_ids is not None:
            clause = clause & Charger.id.in_(select(ChargingAsset.charger_id).where(
                ChargingAsset.account_id.in_(sorted(self.customer_account_ids)),
                ChargingAsset.deactivated_at.is_(None)))
        return clause

    @property
    def for_location_owner(self) -> bool:
        return self.location_owner_id is not None

    def owner_filter(self, owner_column: Any, org_column: Any) -> Any:
        """A WHERE clause on rows that belong to a location owner (its statements): a location owner sees
        its own; everyone else the owners of the organizations in scope."""
        if self.location_owner_id is not None:
            return self.org_filter(org_column) & (owner_column == self.location_owner_id)
        return self.org_filter(org_column)

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
        if self.customer_account_ids is not None:
            if not hasattr(model, "customer_account_id"):
                raise TypeError(f"{model.__name__} has no customer_account_id: a customer sees its own sessions only.")
            clause = clause & self.customer_account_filter(model.customer_account_id)
        return clause

    def payment_filter(self, model: Any) -> Any:
        """A WHERE clause on payments rows (payment, wallet, gateway configuration): the organizations in scope;
        a location owner sees none (its revenue is not the customers' money)."""
        if self.location_owner_id is not None:
            return false()
        return self.org_filter(model.organization_id)

    def can_filter(self, model: Any) -> bool:
        """Whether `stat_filter` can express this scope on a roll-up model (picking the roll-up to read)."""
        return ((self.location_owner_id is None or hasattr(model, "location_owner_id"))
                and (self.customer_account_ids is None or hasattr(model, "customer_account_id")))

    def customer_filter(self, model: Any) -> Any:
        """A WHERE clause on app-user (customer) rows by their organization: the staff of an organization
        reach its customers. A location owner reaches none (its portal holds no customer data)."""
        if self.location_owner_id is not None:
            return false()
        return self.org_filter(model.organization_id)

    def sees_organization(self, org_id: int) -> bool:
        """Whether this scope reaches the organization (a recipient check: alerts go to staff who may see it)."""
        return self.org_ids is None or org_id in self.org_ids

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
    caps = None
    if user.custom_role_id is not None:
        # A client's custom role: its row of the permission table is data, checked by the same code.
        custom = session.get(CustomRole, user.custom_role_id)
        caps = frozenset(Cap(c) for c in (custom.capabilities if custom else []) if c in Cap._value2member_map_)
        caps &= CLIENT_CAPS
    return Scope(user_id=user.id, role=role, org_ids=frozenset(_descendants(session, bound)), caps=caps)


def client_scope(session: Session, *, organization_id: int, user_id: int, caps: frozenset[Cap],
                 api_key_id: int | None = None) -> Scope:
    """One client's organizations (its sub-organizations included) with exactly `caps`: an API key of the
    client, or the operator viewing as the client. The base role is a bound one that may assign no
    built-in role, so the capabilities are the whole reach."""
    return Scope(user_id=user_id, role=Role.CPO, org_ids=frozenset(_descendants(session, {organization_id})),
                 caps=caps, api_key_id=api_key_id)


def customer_scope(session: Session, user: CustomerUser) -> Scope:
    """A customer user's scope: its organization, its account and that account's sub-accounts."""
    subs = session.execute(select(CustomerAccount.id).where(CustomerAccount.parent_id == user.account_id)).scalars()
    return Scope(user_id=user.id, role=None, org_ids=frozenset({user.organization_id}),
                 customer_account_ids=frozenset({user.account_id, *subs}))


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
    if model is CustomerAccount and scope.customer_account_ids is not None and obj.id not in scope.customer_account_ids:
        raise NotFound("CustomerAccount not found.")
    if model is Charger and scope.location_owner_id is not None and obj.location_owner_id != scope.location_owner_id:
        raise NotFound("Charger not found.")
    return obj


def system_scope(org_id: int) -> Scope:
    """The platform acting on one organization's behalf (the demand-response engine in the worker): no
    user, the organization's chargers only."""
    return Scope(user_id=0, role=Role.TECHNICAL, org_ids=frozenset({org_id}))
