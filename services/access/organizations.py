"""Organizations: create, list and read, always through a Scope."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from core.errors import Conflict, ValidationError
from core.money import validate_currency
from core.validation import required_text, validate_slug, validate_timezone
from models import Organization
from models.base import values
from models.organization import BillingCycle, OrganizationKind, Region
from services.access.scope import Scope, get_in_scope


@dataclass(frozen=True)
class OrgRow:
    id: int
    slug: str
    name: str
    kind: str
    parent_id: int | None
    currency: str
    timezone: str
    region: str


def _row(org: Organization) -> OrgRow:
    return OrgRow(org.id, org.slug, org.name, org.kind, org.parent_id, org.currency, org.timezone, org.region)


def validate_billing(cycle: str, day: int) -> None:
    if cycle not in values(BillingCycle):
        raise ValidationError(f"Billing cycle must be one of: {', '.join(BillingCycle)}.", "billing_cycle")
    limit = 7 if cycle == "weekly" else 28
    if not isinstance(day, int) or not 1 <= day <= limit:
        what = "a weekday from 1 (Monday) to 7 (Sunday)" if cycle == "weekly" else "a day from 1 to 28"
        raise ValidationError(f"Billing day for a {cycle} cycle must be {what}.", "billing_day")


def create_organization(*, session: Session, name: str, slug: str, currency: str, timezone: str,
                        region: str = "US", parent_slug: str | None = None, **fields: Any) -> Organization:
    """Create an organization. Without a parent it is the platform operator (only one may exist)."""
    name = required_text(name, "name")
    slug = validate_slug(slug)
    currency = validate_currency(currency)
    timezone = validate_timezone(timezone)
    if region not in values(Region):
        raise ValidationError(f"Region must be one of: {', '.join(Region)}.", "region")
    validate_billing(fields.get("billing_cycle", "monthly"), fields.get("billing_day", 1))
    if session.execute(select(Organization.id).where(Organization.slug == slug)).first():
        raise Conflict(f"An organization with slug '{slug}' already exists.")
    if parent_slug:
        parent = session.execute(select(Organization).where(Organization.slug == parent_slug)).scalar_one_or_none()
        if parent is None:
            raise ValidationError(f"Parent organization '{parent_slug}' does not exist.", "parent")
        kind = OrganizationKind.CLIENT if parent.kind == OrganizationKind.OPERATOR else OrganizationKind.SUB
        parent_id = parent.id
    else:
        if session.execute(select(Organization.id).where(Organization.kind == OrganizationKind.OPERATOR)).first():
            raise ValidationError("The platform operator already exists; give --parent for a client organization.",
                                  "parent")
        kind, parent_id = OrganizationKind.OPERATOR, None
    for key in ("vat_rate", "ssc_levy_rate", "platform_commission_rate", "gateway_fee_percent"):
        if key in fields and not Decimal(0) <= Decimal(fields[key]) <= Decimal(100):
            raise ValidationError(f"{key.replace('_', ' ').capitalize()} must be between 0 and 100.", key)
    org = Organization(name=name, slug=slug, currency=currency, timezone=timezone, region=region,
                       kind=kind, parent_id=parent_id, **fields)
    session.add(org)
    session.flush()
    return org


def list_organizations(*, session: Session, scope: Scope) -> list[OrgRow]:
    rows = session.execute(
        select(Organization).where(scope.org_filter(Organization.id)).order_by(Organization.parent_id.nulls_first(),
                                                                                Organization.name)
    ).scalars()
    return [_row(o) for o in rows]


def get_organization(*, session: Session, scope: Scope, org_id: int) -> Organization:
    return get_in_scope(session, Organization, org_id, scope)


def get_by_slug(*, session: Session, slug: str) -> Organization | None:
    return session.execute(select(Organization).where(Organization.slug == slug)).scalar_one_or_none()
