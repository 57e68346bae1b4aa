"""The operator's clients: add one (with its first admin, invited by mail), assign chargers, usage against
limits, monitoring with the client's own numbers, and view-as-client (read-only, audited).

Monitoring reads through the client's own scope (`client_scope`), the same queries the client's dashboard
runs, so the operator sees exactly the client's numbers.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from core.clock import utcnow
from core.errors import ValidationError
from models import ApiKey, ApiRateWindow, Organization
from models.organization import OrganizationKind
from services.access import api_keys, audit, invitations, limits, roles
from services.access import organizations as org_svc
from services.access.permissions import CLIENT_CAPS, Cap
from services.access.scope import Scope, client_scope, get_in_scope
from services.network import chargers as charger_svc
from services.network import dashboard

# Legal details and settings the Add New Client form takes besides name, currency, timezone and region.
LEGAL_FIELDS = ("legal_name", "address", "registration_number", "tax_number", "billing_email")
# View as client: the client's own dashboard as it reads its charging business (chargers, network, sessions,
# money), nothing that changes anything, and not its people: its staff accounts (Users), its app users
# (Accounts, Customers) and the per-recipient delivery log stay with the client.
PEOPLE = frozenset({Cap.VIEW_USERS, Cap.VIEW_CUSTOMERS, Cap.VIEW_DELIVERY_LOG})
VIEW_ONLY = frozenset(c for c in CLIENT_CAPS if c.value.startswith("view_")) - PEOPLE


@dataclass(frozen=True)
class Usage:
    used: int
    limit: int | None


@dataclass(frozen=True)
class ClientRow:
    id: int
    name: str
    slug: str
    region: str
    currency: str
    timezone: str
    chargers: Usage
    users: Usage
    api_calls: Usage  # this minute, against the per-minute limit (the default when empty)
    api_keys: int
    status_counts: dict[str, int]
    sessions_month: int
    energy_kwh_month: Decimal
    revenue_month: Decimal


@dataclass(frozen=True)
class NewClient:
    organization_id: int
    admin_user_id: int
    message: str


def _client(session: Session, scope: Scope, organization_id: int) -> Organization:
    org = get_in_scope(session, Organization, organization_id, scope)
    if org.kind != OrganizationKind.CLIENT:
        raise ValidationError("Choose a client organization.", "organization_id")
    return org


def create_client(*, session: Session, scope: Scope, name: str, slug: str, currency: str, timezone: str,
                  region: str, admin_email: str, admin_name: str = "", **legal: Any) -> NewClient:
    """The client organization, its "Client admin" role and its first admin user, invited by mail.
    Commits (the invitation does); a refused mail saves nothing and raises MailError."""
    scope.require(Cap.MANAGE_CLIENTS)
    scope.require(Cap.MANAGE_USERS)
    unknown = set(legal) - set(LEGAL_FIELDS)
    if unknown:
        raise ValidationError(f"Unknown field: {sorted(unknown)[0]}.", sorted(unknown)[0])
    operator = session.execute(select(Organization).where(Organization.kind == OrganizationKind.OPERATOR)).scalar()
    if operator is None:
        raise ValidationError("Create the platform operator first.", "parent")
    fields = {k: (v.strip() or None) if isinstance(v, str) else v for k, v in legal.items()}
    org = org_svc.create_organization(session=session, name=name, slug=slug, currency=currency, timezone=timezone,
                                      region=region, parent_slug=operator.slug, **fields)
    role = roles.client_admin_role(session=session, organization_id=org.id)
    audit.record(session=session, user_id=scope.user_id, organization_id=org.id, entity="organization",
                 entity_id=org.id, action="create_client",
                 changes={"name": org.name, "region": org.region, "currency": org.currency,
                          "timezone": org.timezone, "admin_email": admin_email})
    invited = invitations.invite_user(session=session, scope=scope, email=admin_email, role="cpo",
                                      full_name=admin_name, custom_role_id=role.id)
    return NewClient(org.id, invited.user_id, f"Client {org.name} added. {invited.message}")


def _usage(session: Session, org: Organization, now: datetime) -> tuple[Usage, Usage, Usage]:
    lim = limits.limits_of(session, org.id)
    calls = session.execute(select(ApiRateWindow.calls).where(
        ApiRateWindow.organization_id == org.id,
        ApiRateWindow.window_start == now.replace(second=0, microsecond=0))).scalar() or 0
    return (Usage(limits.charger_count(session, org), lim.max_chargers),
            Usage(limits.user_count(session, org), lim.max_users),
            Usage(calls, api_keys.calls_per_minute(session, org.id)))


def client_row(session: Session, org: Organization, now: datetime) -> ClientRow:
    chargers, users, calls = _usage(session, org, now)
    seen = client_scope(session, organization_id=org.id, user_id=0, caps=VIEW_ONLY)
    counts = dashboard.status_counts(session=session, scope=seen)
    month = [p.periods["month"] for p in dashboard.summary(session=session, scope=seen).currencies]
    keys = session.execute(select(func.count()).select_from(ApiKey).where(
        ApiKey.organization_id == org.id, ApiKey.revoked_at.is_(None))).scalar_one()
    return ClientRow(org.id, org.name, org.slug, org.region, org.currency, org.timezone, chargers, users, calls,
                     keys, counts, sum(t.sessions for t in month),
                     sum((t.energy_kwh for t in month), Decimal(0)), sum((t.revenue for t in month), Decimal(0)))


def list_clients(*, session: Session, scope: Scope) -> list[ClientRow]:
    scope.require(Cap.MANAGE_CLIENTS)
    orgs = session.execute(select(Organization).where(Organization.kind == OrganizationKind.CLIENT,
                                                      scope.org_filter(Organization.id))
                           .order_by(Organization.name)).scalars().all()
    now = utcnow()
    return [client_row(session, o, now) for o in orgs]


def get_client(*, session: Session, scope: Scope, organization_id: int) -> ClientRow:
    scope.require(Cap.MANAGE_CLIENTS)
    return client_row(session, _client(session, scope, organization_id), utcnow())


def assign_chargers(*, session: Session, scope: Scope, user_id: int, organization_id: int,
                    charger_ids: list[int]) -> int:
    """Move chargers to a client (one or many). Their history stays with whoever earned it: a session
    belongs to the organization that held the charger when it started. Refused as a whole past the
    client's charger limit. Returns how many moved."""
    scope.require(Cap.MANAGE_CLIENTS)
    org = _client(session, scope, organization_id)
    if not charger_ids:
        raise ValidationError("Choose at least one charger.", "charger_ids")
    moving = [charger_svc.get_charger(session=session, scope=scope, charger_id=cid) for cid in sorted(set(charger_ids))]
    incoming = [c for c in moving if limits.client_of(session, c.organization_id) is not org]
    limits.check_charger_room(session, org.id, adding=len(incoming))
    for charger in incoming:
        charger_svc.update_charger(session=session, scope=scope, user_id=user_id, charger_id=charger.id,
                                   organization_id=org.id)
    return len(incoming)


def view_scope(*, session: Session, scope: Scope, organization_id: int) -> Scope:
    """The client's own scope with its reading capabilities only, for the operator viewing as the client."""
    scope.require(Cap.MANAGE_CLIENTS)
    org = _client(session, scope, organization_id)
    return client_scope(session, organization_id=org.id, user_id=scope.user_id, caps=VIEW_ONLY)


def view_as_client(*, session: Session, scope: Scope, user_id: int, organization_id: int) -> Scope:
    """Open a client's dashboard read-only; every such view is written to the audit log."""
    seen = view_scope(session=session, scope=scope, organization_id=organization_id)
    org = session.get(Organization, organization_id)
    audit.record(session=session, user_id=user_id, organization_id=org.id, entity="organization",
                 entity_id=org.id, action="view_as_client", changes={"client": org.name})
    session.flush()
    return seen
