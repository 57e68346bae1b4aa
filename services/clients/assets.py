"""Assign assets to a client besides chargers (services/clients/clients.py): branded apps and fleets.

- An **app** is a client's branded app (models.AppConfig, built in the App Builder). Linking it to another
  client moves its branding and feature switches there; the API key it used stays behind with the client that
  owns the key (keys never cross clients), so the new client connects it with one of its own keys.
- A **fleet** is a business customer account with its sub-accounts and their app users (services/customers).
  It moves with its people, its enterprise plan and an empty wallet. What it already did stays with the client
  that earned it, like a moved charger's sessions: its charging sessions, invoices, payments, ledger and
  reimbursement statements keep their organization. Refused while it still has something live in the old
  client: active cards or chargers (billed on the old client's plans), money in its wallet, a different
  currency, or an app user whose address the new client already has.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlmodel import Session

from core.errors import Conflict, NotFound, ValidationError
from models import AppConfig, ChargingAsset, CustomerAccount, CustomerUser, EnterprisePlan, Organization, Wallet
from models.customer import AccountKind
from models.organization import OrganizationKind
from services.access import audit
from services.access.permissions import Cap
from services.access.scope import Scope, get_in_scope


@dataclass(frozen=True)
class AppChoice:
    organization_id: int
    organization_name: str
    app_name: str


@dataclass(frozen=True)
class FleetChoice:
    id: int
    name: str
    organization_id: int
    organization_name: str
    sub_accounts: int
    users: int


def _client(session: Session, scope: Scope, organization_id: int, field: str = "organization_id") -> Organization:
    org = get_in_scope(session, Organization, organization_id, scope)
    if org.kind != OrganizationKind.CLIENT:
        raise ValidationError("Choose a client organization.", field)
    return org


def list_apps(*, session: Session, scope: Scope) -> list[AppChoice]:
    """Every client's branded app, for the operator to link elsewhere."""
    scope.require(Cap.MANAGE_CLIENTS)
    rows = session.execute(select(AppConfig.organization_id, Organization.name, AppConfig.app_name)
                           .join(Organization, Organization.id == AppConfig.organization_id)
                           .where(scope.org_filter(AppConfig.organization_id)).order_by(Organization.name))
    return [AppChoice(*r) for r in rows]


def assign_app(*, session: Session, scope: Scope, user_id: int, organization_id: int,
               from_organization_id: int) -> AppChoice:
    """Link the branded app of client `from_organization_id` to client `organization_id` (one app per client)."""
    scope.require(Cap.MANAGE_CLIENTS)
    scope.require(Cap.MANAGE_APPS)
    target = _client(session, scope, organization_id)
    source = _client(session, scope, from_organization_id, "from_organization_id")
    if source.id == target.id:
        raise ValidationError(f"That app is already {target.name}'s.", "from_organization_id")
    app = session.get(AppConfig, source.id, with_for_update=True)
    if app is None:
        raise NotFound(f"{source.name} has no branded app.")
    if session.get(AppConfig, target.id) is not None:
        raise Conflict(f"{target.name} already has a branded app; a client has one.", "from_organization_id")
    fields = {c: getattr(app, c) for c in AppConfig.model_fields if c not in ("organization_id", "api_key_id")}
    session.delete(app)
    session.flush()
    session.add(AppConfig(organization_id=target.id, api_key_id=None, **fields))
    for org, action in ((source, "unlink_app"), (target, "link_app")):
        audit.record(session=session, user_id=user_id, organization_id=org.id, entity="app_config", entity_id=org.id,
                     action=action, changes={"app_name": app.app_name, "from": source.name, "to": target.name})
    session.flush()
    return AppChoice(target.id, target.name, app.app_name)


def list_fleets(*, session: Session, scope: Scope) -> list[FleetChoice]:
    """The business accounts (fleets) of the organizations in scope, with their size."""
    scope.require(Cap.MANAGE_CLIENTS)
    sub = CustomerAccount.__table__.alias("sub")
    subs = (select(func.count()).select_from(sub).where(sub.c.parent_id == CustomerAccount.id)
            .correlate(CustomerAccount).scalar_subquery())
    member = CustomerAccount.__table__.alias("member")
    users = (select(func.count()).select_from(CustomerUser).join(member, member.c.id == CustomerUser.account_id)
             .where((member.c.id == CustomerAccount.id) | (member.c.parent_id == CustomerAccount.id))
             .correlate(CustomerAccount).scalar_subquery())
    rows = session.execute(select(CustomerAccount.id, CustomerAccount.name, Organization.id, Organization.name,
                                  subs, users)
                           .join(Organization, Organization.id == CustomerAccount.organization_id)
                           .where(CustomerAccount.kind == AccountKind.BUSINESS, CustomerAccount.parent_id.is_(None),
                                  scope.account_filter())
                           .order_by(Organization.name, CustomerAccount.name))
    return [FleetChoice(*r) for r in rows]


def assign_fleet(*, session: Session, scope: Scope, user_id: int, organization_id: int, account_id: int) -> int:
    """Move a fleet (a business account, its sub-accounts and their app users) to a client. Returns how many
    app users moved with it."""
    scope.require(Cap.MANAGE_CLIENTS)
    scope.require(Cap.MANAGE_CUSTOMERS)
    target = _client(session, scope, organization_id)
    try:
        account = get_in_scope(session, CustomerAccount, account_id, scope)
    except NotFound:
        raise ValidationError("Choose a fleet (a business account).", "account_id") from None
    if account.parent_id is not None:
        raise ValidationError("A sub-account moves with its parent account; move that instead.", "account_id")
    if account.kind != AccountKind.BUSINESS:
        raise ValidationError("Only business accounts (fleets) move between clients.", "account_id")
    source = session.get(Organization, account.organization_id)
    if source.id == target.id:
        raise ValidationError(f"{account.name} is already {target.name}'s.", "account_id")
    if source.currency != target.currency:
        raise ValidationError(f"{account.name} is billed in {source.currency} and {target.name} in "
                              f"{target.currency}; a fleet moves only between clients of one currency.", "account_id")
    ids = [account.id, *session.execute(select(CustomerAccount.id).where(
        CustomerAccount.parent_id == account.id).with_for_update()).scalars()]
    active = session.execute(select(func.count()).select_from(ChargingAsset).where(
        ChargingAsset.account_id.in_(ids), ChargingAsset.deactivated_at.is_(None))).scalar_one()
    if active:
        raise Conflict(f"{account.name} has {active} active card(s) or charger(s), billed on {source.name}'s "
                       "plans. Deactivate them first; they can be activated again on the new client's plans.",
                       "account_id")
    wallets = session.execute(select(Wallet).where(Wallet.customer_account_id.in_(ids))
                              .with_for_update()).scalars().all()
    if any(w.balance or w.held for w in wallets):
        raise Conflict(f"{account.name}'s wallet still holds money at {source.name}. Refund or use it first.",
                       "account_id")
    people = session.execute(select(CustomerUser).where(CustomerUser.account_id.in_(ids))
                             .with_for_update()).scalars().all()
    emails = [p.email for p in people]
    if emails:
        clash = session.execute(select(CustomerUser.email).where(CustomerUser.organization_id == target.id,
                                                                 CustomerUser.email.in_(emails))).scalar()
        if clash:
            raise Conflict(f"{target.name} already has an app user {clash}; the fleet cannot join it.", "account_id")
    for row in session.execute(select(CustomerAccount).where(CustomerAccount.id.in_(ids))).scalars():
        row.organization_id = target.id
        session.add(row)
    for row in [*people, *wallets, *session.execute(select(EnterprisePlan).where(
            EnterprisePlan.account_id.in_(ids))).scalars()]:
        row.organization_id = target.id
        session.add(row)
    for org, action in ((source, "unlink_fleet"), (target, "link_fleet")):
        audit.record(session=session, user_id=user_id, organization_id=org.id, entity="customer_account",
                     entity_id=account.id, action=action,
                     changes={"fleet": account.name, "from": source.name, "to": target.name,
                              "sub_accounts": len(ids) - 1, "users": len(people)})
    session.flush()
    return len(people)
