"""Users: provisioning, binding to organizations, enabling and disabling."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session

from models import LocationOwner, Organization, User, UserOrganization
from services.auth import hash_password
from services.errors import Conflict, NotFound, ValidationError
from services.permissions import ALL_ORGANIZATION_ROLES, ROLE_LABELS, Role
from services.scope import Scope
from services.validation import validate_email


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


def create_user(*, session: Session, email: str, password: str, role: str, org_slugs: list[str] | None = None,
                full_name: str = "", location_owner_id: int | None = None, status: str = "active") -> User:
    """Create a user bound to organizations (by slug). A location owner user needs its location owner."""
    email = validate_email(email)
    role_ = parse_role(role)
    if session.execute(select(User.id).where(User.email == email)).first():
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
    user = User(email=email, password_hash=hash_password(password), role=role_.value, full_name=full_name,
                location_owner_id=location_owner_id if role_ == Role.LOCATION_OWNER else None, status=status)
    session.add(user)
    session.flush()
    for org in orgs:
        session.add(UserOrganization(user_id=user.id, organization_id=org.id))
    session.flush()
    return user


def create_location_owner(*, session: Session, organization: Organization, name: str,
                          email: str | None = None) -> LocationOwner:
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
    """Enable or disable a user. Disabling takes effect at once: every token is revoked."""
    if status not in ("active", "disabled"):
        raise ValidationError("Status must be active or disabled.", "status")
    user = session.get(User, user_id)
    if user is None or not _visible(session, scope, user):
        raise NotFound("User not found.")
    user.status = status
    user.token_version += 1
    session.add(user)
    session.flush()
    return user


def _visible(session: Session, scope: Scope, user: User) -> bool:
    if scope.all_orgs:
        return True
    orgs = {o.id for o in bound_organizations(session=session, user=user)}
    return bool(orgs) and orgs <= set(scope.org_ids or ())
