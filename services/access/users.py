"""Users: provisioning, binding to organizations, enabling and disabling."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import exists, func, select
from sqlmodel import Session

from core.db import IDENTITY, acting_as, exists_anywhere
from core.errors import Conflict, NotFound, ValidationError
from core.search import search_clause
from core.validation import optional_text, required_text, validate_email
from models import LocationOwner, Organization, User, UserOrganization
from services.access import audit, limits, roles
from services.access.auth import hash_password, revoke_reset_links
from services.access.permissions import (
    ALL_ORGANIZATION_ROLES,
    ASSIGNABLE_ROLES,
    ROLE_LABELS,
    Cap,
    PermissionDenied,
    Role,
    parse_caps,
)
from services.access.scope import Scope, get_in_scope


def parse_role(value: str) -> Role:
    key = (value or "").strip().lower().replace(" ", "_").replace("-", "_")
    try:
        return Role(key)
    except ValueError:
        names = ", ".join(r.value for r in Role)
        raise ValidationError(f"Unknown role '{value}'. Choose one of: {names}.", "role") from None


@dataclass(frozen=True)
class UserRow:
    id: int
    email: str
    full_name: str
    role: str
    role_label: str
    status: str
    organizations: list[str]


# Names of people and location owners: one line on a page.
NAME_MAX = 200

# The password hash of an invited user who has not set a password yet: bcrypt never matches it.
NO_PASSWORD = "!invited"


def create_user(*, session: Session, email: str, password: str | None, role: str,
                org_slugs: list[str] | None = None, full_name: str = "", location_owner_id: int | None = None,
                status: str = "active") -> User:
    """Create a user bound to organizations (by slug). A location owner user needs its location owner.
    Without a password (an invitation) nobody can log in as the user until it sets one."""
    email = validate_email(email)
    full_name = optional_text(full_name, "full_name", max_len=NAME_MAX) or ""
    role_ = parse_role(role)
    if exists_anywhere(session, select(User.id).where(User.email == email)):
        raise Conflict(f"A user with email '{email}' already exists.")
    orgs: list[Organization] = []
    for slug in org_slugs or []:
        org = session.execute(select(Organization).where(Organization.slug == slug)).scalar_one_or_none()
        if org is None:
            raise ValidationError(f"Organization '{slug}' does not exist.", "org")
        orgs.append(org)
    if role_ == Role.LOCATION_OWNER:
        owner = session.get(LocationOwner, location_owner_id) if location_owner_id else None
        if owner is None:
            raise ValidationError("A location owner user needs its location owner.", "location_owner")
        orgs = [session.get(Organization, owner.organization_id)]
    elif location_owner_id is not None:
        raise ValidationError("Only a Location Owner user is linked to a location owner.", "location_owner")
    if role_ not in ALL_ORGANIZATION_ROLES and not orgs:
        raise ValidationError(f"A {ROLE_LABELS[role_]} user must be bound to an organization (--org).", "org")
    if password is None and status != "invited":
        raise ValidationError("Enter an initial password.", "password")
    password_hash = hash_password(password) if password is not None else NO_PASSWORD
    user = User(email=email, password_hash=password_hash, role=role_.value, full_name=full_name,
                location_owner_id=location_owner_id if role_ == Role.LOCATION_OWNER else None, status=status)
    session.add(user)
    session.flush()
    for org in orgs:
        session.add(UserOrganization(user_id=user.id, organization_id=org.id))
    session.flush()
    return user


def create_location_owner(*, session: Session, organization: Organization, name: str,
                          email: str | None = None) -> LocationOwner:
    name = required_text(name, "name", max_len=NAME_MAX)
    email = validate_email(email) if (email or "").strip() else None
    owner = LocationOwner(organization_id=organization.id, name=name, email=email)
    session.add(owner)
    session.flush()
    return owner


def bound_organizations(*, session: Session, user: User) -> list[Organization]:
    return list(session.execute(
        select(Organization).join(UserOrganization, UserOrganization.organization_id == Organization.id)
        .where(UserOrganization.user_id == user.id).order_by(Organization.name)
    ).scalars())


def set_status(*, session: Session, scope: Scope, user_id: int, status: str) -> User:
    """Enable or disable a user. Disabling takes effect at once: every token is revoked.

    The caller needs MANAGE_USERS, may only touch users whose role it could assign, and never itself.
    """
    scope.require(Cap.MANAGE_USERS)
    if status not in ("active", "disabled"):
        raise ValidationError("Status must be active or disabled.", "status")
    user = session.get(User, user_id)
    if user is None or not _visible(session, scope, user):
        raise NotFound("User not found.")
    if user.id == scope.user_id:
        raise ValidationError("You cannot change the status of your own account.", "status")
    if Role(user.role) not in ASSIGNABLE_ROLES.get(scope.role, frozenset()):
        raise PermissionDenied(f"Your role may not change {ROLE_LABELS[Role(user.role)]} users.")
    # Enabling someone who never accepted the invitation gives back "invited": it has no password yet.
    user.status = "invited" if status == "active" and user.password_hash == NO_PASSWORD else status
    user.token_version += 1
    session.add(user)
    # An administrator's action on the account also ends every reset link mailed before it.
    revoke_reset_links(session=session, user_id=user.id)
    session.flush()
    return user


def get_visible_user(*, session: Session, scope: Scope, user_id: int, lock: bool = False) -> User:
    """A user the caller may see (bound only to organizations in its scope), else NotFound."""
    user = session.get(User, user_id, with_for_update=lock)
    if user is None or not _visible(session, scope, user):
        raise NotFound("User not found.")
    return user


def _visible(session: Session, scope: Scope, user: User) -> bool:
    if scope.all_orgs:
        return True
    orgs = {o.id for o in bound_organizations(session=session, user=user)}
    return bool(orgs) and orgs <= set(scope.org_ids or ())


def visibility_clause(scope: Scope):
    """WHERE clause on User: the users the caller may see (None: every user)."""
    return _visibility_clause(scope)


def _visibility_clause(scope: Scope):
    """Users bound only to organizations inside the scope (and to at least one)."""
    if scope.org_ids is None:
        return None
    ids = sorted(scope.org_ids)
    inside = exists().where(UserOrganization.user_id == User.id, UserOrganization.organization_id.in_(ids))
    outside = exists().where(UserOrganization.user_id == User.id, UserOrganization.organization_id.not_in(ids))
    return inside & ~outside


def list_users(*, session: Session, scope: Scope, search: str | None = None, limit: int = 20,
               offset: int = 0) -> tuple[list[UserRow], int]:
    """One page of the users the caller may see, and the total count."""
    scope.require(Cap.VIEW_USERS)
    where = []
    clause = _visibility_clause(scope)
    if clause is not None:
        where.append(clause)
    if (found := search_clause(search, User.email, User.full_name)) is not None:
        where.append(found)
    total = session.execute(select(func.count()).select_from(User).where(*where)).scalar_one()
    users = list(session.execute(select(User).where(*where).order_by(User.email).limit(limit).offset(offset))
                 .scalars())
    names: dict[int, list[str]] = {u.id: [] for u in users}
    if users:
        for uid, name in session.execute(
            select(UserOrganization.user_id, Organization.name)
            .join(Organization, Organization.id == UserOrganization.organization_id)
            .where(UserOrganization.user_id.in_(list(names))).order_by(Organization.name)
        ):
            names[uid].append(name)
    custom = roles.names_by_id(session, {u.custom_role_id for u in users if u.custom_role_id})
    rows = [UserRow(u.id, u.email, u.full_name, u.role,
                    custom.get(u.custom_role_id) or ROLE_LABELS[Role(u.role)], u.status, names[u.id])
            for u in users]
    return rows, total


def assignable_roles(scope: Scope) -> list[Role]:
    """The roles the caller may give to a user it creates, in the permission table's order."""
    allowed = ASSIGNABLE_ROLES.get(scope.role, frozenset()) if scope.can(Cap.MANAGE_USERS) else frozenset()
    return [r for r in Role if r in allowed]


@dataclass(frozen=True)
class LocationOwnerRow:
    id: int
    name: str
    organization_id: int
    organization_name: str


def list_location_owners(*, session: Session, scope: Scope) -> list[LocationOwnerRow]:
    rows = session.execute(
        select(LocationOwner, Organization.name)
        .join(Organization, Organization.id == LocationOwner.organization_id)
        .where(scope.org_filter(LocationOwner.organization_id))
        .order_by(Organization.name, LocationOwner.name)
    ).all()
    return [LocationOwnerRow(o.id, o.name, o.organization_id, org) for o, org in rows]


def provision_user(*, session: Session, scope: Scope, email: str, password: str | None, role: str,
                   full_name: str = "", organization_id: int | None = None, location_owner_id: int | None = None,
                   status: str = "active", custom_role_id: int | None = None) -> User:
    """Create a user from the Users page: the caller's role decides which roles it may give,
    and the organization and location owner must lie inside the caller's scope.
    An invitation passes no password and status "invited" (services/access/invitations.py).
    A client's custom role (services/access/roles.py) binds the user to that client with the base role CPO."""
    custom = None
    if custom_role_id is not None:
        scope.require(Cap.MANAGE_USERS)
        custom = roles.check_assignable(session=session, scope=scope, role_id=custom_role_id)
        role, organization_id, location_owner_id = Role.CPO.value, custom.organization_id, None
    role_ = parse_role(role)
    if not (role_ == Role.LOCATION_OWNER and scope.can(Cap.MANAGE_LOCATION_OWNERS)):
        scope.require(Cap.MANAGE_USERS)  # a CPO invites only its location owners' users
    if custom is None and role_ not in ASSIGNABLE_ROLES.get(scope.role, frozenset()):
        raise PermissionDenied(f"Your role may not create {ROLE_LABELS[role_]} users.")
    full_name = (full_name or "").strip()
    if len(full_name) > 200:
        raise ValidationError("Name must be at most 200 characters.", "full_name")
    # E-mail addresses are global (they are the login). Whether one belongs to a user the caller cannot see
    # is nobody's business: the answer says only that this address cannot be used.
    address = validate_email(email)
    existing = session.execute(select(User).where(User.email == address)).scalar_one_or_none()
    if existing is not None and _visible(session, scope, existing):
        raise Conflict(f"A user with email '{address}' already exists.", "email")
    # Row-level security hides other tenants' users from this session; the check itself must see them all.
    if exists_anywhere(session, select(User.id).where(User.email == address)):
        raise Conflict(f"The address '{address}' cannot be used for a new user. Check it, or ask an "
                       "administrator.", "email")
    org_slugs: list[str] = []
    if role_ == Role.LOCATION_OWNER:
        if location_owner_id is None:
            raise ValidationError("Choose the location owner this user belongs to.", "location_owner")
        get_in_scope(session, LocationOwner, location_owner_id, scope)
    else:
        location_owner_id = None
        if organization_id is not None:
            org_slugs = [get_in_scope(session, Organization, organization_id, scope).slug]
        elif role_ not in ALL_ORGANIZATION_ROLES:
            raise ValidationError(f"Choose the organization this {ROLE_LABELS[role_]} user belongs to.", "org")
    for org_id in [organization_id] if organization_id is not None else []:
        limits.check_user_room(session, org_id)
    # Checked above against the caller's scope. The new row is written in identity scope: until its
    # organizations are bound to it, row-level security would hide it from the caller (docs/adr/0010).
    with acting_as(session, IDENTITY):
        user = create_user(session=session, email=email, password=password, role=role_.value, org_slugs=org_slugs,
                           full_name=full_name, location_owner_id=location_owner_id, status=status)
        if custom is not None:
            user.custom_role_id = custom.id
            session.add(user)
            session.flush()
    return user


def set_custom_role(*, session: Session, scope: Scope, user_id: int, target_id: int, role_id: int) -> User:
    """Give a client's user one of that client's custom roles (the acting user is `user_id`).

    The role must hold nothing the caller lacks (`roles.check_assignable`), the user must belong to the role's
    client only, and the caller may not change itself nor a user who holds more than it does."""
    role = roles.check_assignable(session=session, scope=scope, role_id=role_id)
    target = get_visible_user(session=session, scope=scope, user_id=target_id, lock=True)
    if target.id == scope.user_id:
        raise ValidationError("You cannot change your own role.", "custom_role_id")
    bound = {o.id for o in bound_organizations(session=session, user=target)}
    if Role(target.role) != Role.CPO or bound != {role.organization_id}:
        raise ValidationError(f"'{role.name}' is a role of another client than this user's.", "custom_role_id")
    before = roles.names_by_id(session, {target.custom_role_id}).get(target.custom_role_id) \
        if target.custom_role_id else ROLE_LABELS[Role.CPO]
    if target.custom_role_id is not None and target.custom_role_id != role.id:
        held = roles.get_role(session=session, scope=scope, role_id=target.custom_role_id)
        try:
            scope.require_grantable(parse_caps(held.capabilities, "capabilities"), f"A user holding '{held.name}'")
        except PermissionDenied:
            raise PermissionDenied(f"{target.email} holds '{held.name}', which reaches further than your own "
                                   "role: only someone holding all of it may change it.") from None
    target.custom_role_id = role.id
    session.add(target)
    session.flush()
    if before != role.name:
        audit.record(session=session, user_id=user_id, organization_id=role.organization_id, entity="user",
                     entity_id=target.id, action="update", changes=audit.diff({"role": before}, {"role": role.name}))
    return target
