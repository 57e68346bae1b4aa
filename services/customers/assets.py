"""Billing plans and the charging assets a customer account activates.

- A plan catalogue per organization: a price per month or year, an optional fee per session (fixed, or a
  percentage of the session's gross), and which assets may take it (card, AC charger, DC charger).
- A card is an idTag printed on the card: activated on one account at a time (unique while active). A card
  the platform does not know yet is created in the account's organization; one of another organization is
  refused as unknown. Until the account is active (email verified, invitation accepted) its cards are Blocked.
- A charger is claimed with its claim code (shown on the charger's detail page, or set by the operator).
- An asset takes a plan eligible for it, or none when the account has an Enterprise plan.
- An Enterprise plan with public charging off keeps the account's cards and stations to themselves: its cards
  charge only on the chargers of the account (and its sub-accounts), and those chargers take only its cards
  (`public_charging_refused`, asked by the OCPP idTag check for Authorize, StartTransaction and local lists).
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from core.clock import utcnow
from core.errors import Conflict, NotFound, ValidationError
from core.validation import check_text, decimal_in_range, fits_int32, required_text
from models import (
    BillingPlan,
    Charger,
    ChargerClaimCode,
    ChargingAsset,
    Connector,
    CustomerAccount,
    EnterprisePlan,
    IdTag,
    Organization,
)
from models.customer import AccountStatus
from models.customer_billing import AssetKind, FeeKind, PlanInterval
from services.access import audit
from services.access.permissions import Cap
from services.access.scope import Scope, get_in_scope
from services.charging.idtags import create_id_tag
from services.customers.accounts import actor, require_manage

DC_STANDARDS = ("ccs", "chademo", "gb/t dc")
MAX_PRICE = Decimal("1000000")


# --- plans --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanRow:
    id: int
    organization_id: int
    name: str
    price: Decimal
    interval: str
    session_fee: Decimal | None
    fee_kind: str | None
    for_card: bool
    for_ac: bool
    for_dc: bool
    currency: str
    active: bool = True
    organization: str = ""
    assets: int = 0  # the assets active on it now


@dataclass(frozen=True)
class PlanTerms:
    """What a plan says, checked: one checker for creating and editing."""
    name: str
    price: Decimal
    interval: str
    session_fee: Decimal | None
    fee_kind: str | None
    for_card: bool
    for_ac: bool
    for_dc: bool


def _terms(name: Any, price: Any, interval: Any, session_fee: Any, fee_kind: Any, for_card: Any, for_ac: Any,
           for_dc: Any) -> PlanTerms:
    plan_name = required_text(name, "name", max_len=100)
    amount = decimal_in_range(price, "price", low=Decimal(0), high=MAX_PRICE, places=4)
    if interval not in tuple(PlanInterval):
        raise ValidationError("The interval is month or year.", "interval")
    fee = None
    if session_fee not in (None, ""):
        if fee_kind not in tuple(FeeKind):
            raise ValidationError("Say whether the session fee is fixed or a percentage.", "fee_kind")
        high = Decimal(100) if fee_kind == FeeKind.PERCENT else MAX_PRICE
        fee = decimal_in_range(session_fee, "session_fee", low=Decimal(0), high=high, places=4)
    else:
        fee_kind = None
    if not (for_card or for_ac or for_dc):
        raise ValidationError("A plan is for cards, AC chargers or DC chargers: choose at least one.", "for_card")
    return PlanTerms(plan_name, amount, interval, fee, fee_kind, bool(for_card), bool(for_ac), bool(for_dc))


def _name_free(session: Session, organization_id: int, name: str, plan_id: int | None = None) -> None:
    where = [BillingPlan.organization_id == organization_id, func.lower(BillingPlan.name) == name.lower()]
    if plan_id is not None:
        where.append(BillingPlan.id != plan_id)
    if session.execute(select(BillingPlan.id).where(*where)).first():
        raise Conflict(f"There is already a plan named {name}.", "name")


def _changes(terms: PlanTerms) -> dict[str, Any]:
    return {"name": terms.name, "price": terms.price, "interval": terms.interval, "session_fee": terms.session_fee,
            "fee_kind": terms.fee_kind, "for_card": terms.for_card, "for_ac": terms.for_ac, "for_dc": terms.for_dc}


def create_plan(*, session: Session, scope: Scope, organization_id: int, name: str, price: Any,
                interval: str = PlanInterval.MONTH, session_fee: Any = None, fee_kind: str | None = None,
                for_card: bool = True, for_ac: bool = True, for_dc: bool = True) -> PlanRow:
    """Add a plan to the organization's catalogue. Commits."""
    scope.require(Cap.MANAGE_BILLING_PLANS)
    org = get_in_scope(session, Organization, organization_id, scope)
    terms = _terms(name, price, interval, session_fee, fee_kind, for_card, for_ac, for_dc)
    _name_free(session, org.id, terms.name)
    plan = BillingPlan(organization_id=org.id, **_changes(terms))
    session.add(plan)
    try:
        session.flush()
    except IntegrityError as exc:  # the same name added at the same moment
        session.rollback()
        raise Conflict(f"There is already a plan named {terms.name}.", "name") from exc
    audit.record(session=session, user_id=actor(scope), organization_id=org.id, entity="billing_plan",
                 entity_id=plan.id, action="create", changes={"name": terms.name, "price": terms.price,
                                                               "interval": terms.interval})
    session.commit()
    return get_plan(session=session, scope=scope, plan_id=plan.id)


def update_plan(*, session: Session, scope: Scope, plan_id: int, name: str, price: Any,
                interval: str = PlanInterval.MONTH, session_fee: Any = None, fee_kind: str | None = None,
                for_card: bool = True, for_ac: bool = True, for_dc: bool = True) -> PlanRow:
    """Edit a plan. The assets on it are billed at the new terms from their next renewal; an asset it is no
    longer eligible for keeps it until it is deactivated (eligibility is checked when an asset picks a plan).
    Commits."""
    scope.require(Cap.MANAGE_BILLING_PLANS)
    plan = get_in_scope(session, BillingPlan, plan_id, scope)
    terms = _terms(name, price, interval, session_fee, fee_kind, for_card, for_ac, for_dc)
    _name_free(session, plan.organization_id, terms.name, plan.id)
    before = {k: getattr(plan, k) for k in _changes(terms)}
    changed = {k: v for k, v in _changes(terms).items() if before[k] != v}
    for key, value in changed.items():
        setattr(plan, key, value)
    session.add(plan)
    if changed:
        audit.record(session=session, user_id=actor(scope), organization_id=plan.organization_id,
                     entity="billing_plan", entity_id=plan.id, action="update", changes=changed)
    session.commit()
    return get_plan(session=session, scope=scope, plan_id=plan.id)


def set_plan_active(*, session: Session, scope: Scope, plan_id: int, active: bool) -> PlanRow:
    """Deactivate a plan (no longer offered; the assets on it keep it), or offer it again. Commits."""
    scope.require(Cap.MANAGE_BILLING_PLANS)
    plan = get_in_scope(session, BillingPlan, plan_id, scope)
    if plan.active != bool(active):
        plan.active = bool(active)
        session.add(plan)
        audit.record(session=session, user_id=actor(scope), organization_id=plan.organization_id,
                     entity="billing_plan", entity_id=plan.id, action="activate" if active else "deactivate",
                     changes={"name": plan.name})
    session.commit()
    return get_plan(session=session, scope=scope, plan_id=plan.id)


def list_plans(*, session: Session, scope: Scope, organization_id: int | None = None,
               offered_only: bool = False, plan_id: int | None = None) -> list[PlanRow]:
    """The plans of the organizations in scope. A customer sees only those offered (active) on its platform."""
    where = [scope.org_filter(BillingPlan.organization_id)]
    if organization_id is not None:
        where.append(BillingPlan.organization_id == organization_id)
    if offered_only or scope.is_customer:
        where.append(BillingPlan.active)
    if plan_id is not None:
        where.append(BillingPlan.id == plan_id)
    in_use = (select(func.count()).select_from(ChargingAsset)
              .where(ChargingAsset.plan_id == BillingPlan.id, ChargingAsset.deactivated_at.is_(None))
              .correlate(BillingPlan).scalar_subquery())
    rows = session.execute(select(BillingPlan, Organization.currency, Organization.name, in_use)
                           .join(Organization, Organization.id == BillingPlan.organization_id)
                           .where(*where).order_by(Organization.name, BillingPlan.active.desc(), BillingPlan.price,
                                                   BillingPlan.name))
    return [PlanRow(p.id, p.organization_id, p.name, p.price, p.interval, p.session_fee, p.fee_kind, p.for_card,
                    p.for_ac, p.for_dc, currency, p.active, org_name, n) for p, currency, org_name, n in rows]


def get_plan(*, session: Session, scope: Scope, plan_id: int) -> PlanRow:
    rows = list_plans(session=session, scope=scope, plan_id=plan_id)
    if not rows:
        raise NotFound("Billing plan not found.")
    return rows[0]


# --- claim codes --------------------------------------------------------------------------------------


def _new_code() -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read off a label
    return "".join(secrets.choice(alphabet) for _ in range(8))


def claim_code(*, session: Session, scope: Scope, charger_id: int) -> str:
    """The charger's claim code, made on first look (what its detail page shows)."""
    scope.require(Cap.VIEW_CUSTOMERS)
    charger = get_in_scope(session, Charger, charger_id, scope)
    row = session.get(ChargerClaimCode, charger.id)
    if row is None:
        row = ChargerClaimCode(charger_id=charger.id, code=_new_code(), set_at=utcnow())
        session.add(row)
        session.commit()
    return row.code


def set_claim_code(*, session: Session, scope: Scope, charger_id: int, code: str | None = None) -> str:
    """The operator sets the code printed on the charger (or a new random one)."""
    scope.require(Cap.MANAGE_CUSTOMERS)
    charger = get_in_scope(session, Charger, charger_id, scope)
    value = check_text((code or "").strip().upper(), "claim_code") or _new_code()
    if not 4 <= len(value) <= 32 or not value.isalnum():
        raise ValidationError("A claim code is 4 to 32 letters and digits.", "claim_code")
    row = session.get(ChargerClaimCode, charger.id) or ChargerClaimCode(charger_id=charger.id, code=value)
    row.code, row.set_at = value, utcnow()
    session.add(row)
    session.commit()
    return value


# --- assets -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AssetRow:
    id: int
    account_id: int
    account: str
    kind: str
    label: str  # the card's idTag or the charger's OCPP id
    charger_id: int | None
    plan_id: int | None
    plan: str  # the plan's name, or "Enterprise plan"
    active: bool
    activated_at: datetime


def _is_dc(session: Session, charger_id: int) -> bool:
    standards = session.execute(select(func.lower(Connector.standard)).where(Connector.charger_id == charger_id))
    return any(any(dc in (s or "") for dc in DC_STANDARDS) for s in standards.scalars())


def _plan_for(session: Session, account: CustomerAccount, plan_id: int | None, eligible: str) -> int | None:
    root = account.parent_id or account.id
    if plan_id is None:
        if session.get(EnterprisePlan, root) is not None:
            return None
        raise ValidationError("Choose a billing plan for this asset.", "plan_id")
    plan = session.get(BillingPlan, plan_id)
    if plan is None or plan.organization_id != account.organization_id:
        raise ValidationError("Choose one of the platform's billing plans.", "plan_id")
    if not plan.active:
        raise ValidationError(f"The plan {plan.name} is no longer offered: choose another.", "plan_id")
    if not getattr(plan, f"for_{eligible}"):
        what = {"card": "cards", "ac": "AC chargers", "dc": "DC chargers"}[eligible]
        raise ValidationError(f"The plan {plan.name} is not available for {what}.", "plan_id")
    return plan.id


def activate_asset(*, session: Session, scope: Scope, account_id: int, kind: str, id_tag: str | None = None,
                   ocpp_id: str | None = None, claim_code: str | None = None, plan_id: int | None = None) -> AssetRow:
    """Activate a card (its idTag) or a charger (its OCPP id and claim code) on an account, on a plan. Commits."""
    require_manage(scope)
    account = get_in_scope(session, CustomerAccount, account_id, scope)
    org = session.get(Organization, account.organization_id)
    if kind == AssetKind.CARD:
        tag_text = required_text(id_tag, "id_tag", max_len=20)
        tag = session.execute(select(IdTag).where(func.lower(IdTag.tag) == tag_text.lower())
                              .with_for_update()).scalar_one_or_none()
        if tag is not None and tag.organization_id != org.id:
            raise ValidationError(f"Card {tag_text} is not a card of {org.name}.", "id_tag")
        if tag is not None and session.execute(select(ChargingAsset.id).where(
                ChargingAsset.id_tag_id == tag.id, ChargingAsset.deactivated_at.is_(None))).first():
            raise Conflict(f"Card {tag_text} is already active on another account.", "id_tag")
        plan = _plan_for(session, account, plan_id, "card")
        if tag is None:
            tag = create_id_tag(session=session, tag=tag_text, organization=org, holder_name=account.name)
        # An account that is not active yet (email not verified) cannot charge.
        tag.status = "Accepted" if account.status == AccountStatus.ACTIVE else "Blocked"
        session.add(tag)
        asset = ChargingAsset(organization_id=org.id, account_id=account.id, kind=kind, id_tag_id=tag.id,
                              plan_id=plan, activated_at=utcnow())
        label = tag.tag
    elif kind == AssetKind.CHARGER:
        ocpp = required_text(ocpp_id, "ocpp_id", max_len=48)
        charger = session.execute(select(Charger).where(Charger.ocpp_id == ocpp, Charger.organization_id == org.id)
                                  ).scalar_one_or_none()
        code = session.get(ChargerClaimCode, charger.id) if charger else None
        given = check_text((claim_code or "").strip().upper(), "claim_code")
        # One answer for an unknown charger and a wrong code: the code is the proof of holding it.
        if charger is None or code is None or not secrets.compare_digest(code.code, given):
            raise ValidationError("That charger id and claim code do not match. The claim code is on the "
                                  "charger's label, or ask the operator.", "claim_code")
        if session.execute(select(ChargingAsset.id).where(ChargingAsset.charger_id == charger.id,
                                                          ChargingAsset.deactivated_at.is_(None))).first():
            raise Conflict(f"Charger {ocpp} is already active on another account.", "ocpp_id")
        plan = _plan_for(session, account, plan_id, "dc" if _is_dc(session, charger.id) else "ac")
        asset = ChargingAsset(organization_id=org.id, account_id=account.id, kind=kind, charger_id=charger.id,
                              plan_id=plan, activated_at=utcnow())
        label = charger.ocpp_id
    else:
        raise ValidationError("An asset is a card or a charger.", "kind")
    session.add(asset)
    try:
        session.flush()
    except IntegrityError as exc:  # a concurrent activation of the same card or charger
        session.rollback()
        raise Conflict("That asset is already active on another account.", "kind") from exc
    audit.record(session=session, user_id=actor(scope), organization_id=org.id,
                 entity="charging_asset", entity_id=asset.id, action="activate",
                 changes={"account": account.name, "kind": kind, "asset": label})
    session.commit()
    return list_assets(session=session, scope=scope, account_id=account.id, asset_id=asset.id)[0]


def change_plan(*, session: Session, scope: Scope, asset_id: int, plan_id: int) -> AssetRow:
    """Move an active asset to another plan on offer, eligible for it; billed from its next renewal. Commits."""
    require_manage(scope)
    asset = session.get(ChargingAsset, asset_id) if fits_int32(asset_id) else None
    if asset is None or asset.deactivated_at is not None:
        raise NotFound("Card or charger not found.")
    account = get_in_scope(session, CustomerAccount, asset.account_id, scope)
    eligible = "card" if asset.kind == AssetKind.CARD else ("dc" if _is_dc(session, asset.charger_id) else "ac")
    if session.get(EnterprisePlan, account.parent_id or account.id) is not None:
        raise ValidationError("This account's cards and chargers are on its Enterprise plan.", "plan_id")
    new_plan = _plan_for(session, account, plan_id, eligible)
    if new_plan != asset.plan_id:
        old = asset.plan_id
        asset.plan_id = new_plan
        session.add(asset)
        audit.record(session=session, user_id=actor(scope), organization_id=account.organization_id,
                     entity="charging_asset", entity_id=asset.id, action="change_plan",
                     changes={"plan_id": new_plan, "from_plan_id": old})
    session.commit()
    return list_assets(session=session, scope=scope, asset_id=asset.id)[0]


def enterprise_account_ids(*, session: Session, scope: Scope) -> set[int]:
    """The accounts in scope whose assets go on an Enterprise plan (theirs, or their parent's): no plan to pick."""
    rows = session.execute(select(CustomerAccount.id, CustomerAccount.parent_id).where(scope.account_filter()))
    accounts = dict(rows.all())
    roots = {a: (parent or a) for a, parent in accounts.items()}
    with_plan = set(session.execute(select(EnterprisePlan.account_id).where(
        EnterprisePlan.account_id.in_(set(roots.values())))).scalars()) if roots else set()
    return {a for a, root in roots.items() if root in with_plan}


def list_assets(*, session: Session, scope: Scope, account_id: int | None = None,
                asset_id: int | None = None) -> list[AssetRow]:
    """Cards and chargers with their plans, of the accounts in scope (a customer: its own and sub-accounts')."""
    if not scope.is_customer:
        scope.require(Cap.VIEW_CUSTOMERS)
    where = [scope.account_filter()]
    if account_id is not None:
        where.append(ChargingAsset.account_id == account_id)
    if asset_id is not None:
        where.append(ChargingAsset.id == asset_id)
    stmt = (select(ChargingAsset, CustomerAccount.name, IdTag.tag, Charger.ocpp_id, BillingPlan.name)
            .join(CustomerAccount, CustomerAccount.id == ChargingAsset.account_id)
            .outerjoin(IdTag, IdTag.id == ChargingAsset.id_tag_id)
            .outerjoin(Charger, Charger.id == ChargingAsset.charger_id)
            .outerjoin(BillingPlan, BillingPlan.id == ChargingAsset.plan_id)
            .where(*where).order_by(CustomerAccount.name, ChargingAsset.kind, ChargingAsset.id))
    return [AssetRow(a.id, a.account_id, acc, a.kind, tag or ocpp or "", a.charger_id, a.plan_id,
                     plan or "Enterprise plan", a.deactivated_at is None, a.activated_at)
            for a, acc, tag, ocpp, plan in session.execute(stmt)]


def account_for_session(session: Session, *, charger_id: int, id_tag_id: int | None) -> int | None:
    """The customer account a new session is linked to: the card's account, else the charger's."""
    conds = [ChargingAsset.charger_id == charger_id]
    if id_tag_id is not None:
        conds.append(ChargingAsset.id_tag_id == id_tag_id)
    rows = session.execute(select(ChargingAsset.kind, ChargingAsset.account_id).where(
        or_(*conds), ChargingAsset.deactivated_at.is_(None))).all()
    by_kind = dict(rows)
    return by_kind.get(AssetKind.CARD) or by_kind.get(AssetKind.CHARGER)



def _holder_root(session: Session, *where) -> int | None:
    """The top-level account (itself, or its parent) an active asset matching `where` belongs to."""
    row = session.execute(select(CustomerAccount.id, CustomerAccount.parent_id)
                          .join(ChargingAsset, ChargingAsset.account_id == CustomerAccount.id)
                          .where(*where, ChargingAsset.deactivated_at.is_(None))).first()
    return (row.parent_id or row.id) if row else None


def public_charging_refused(session: Session, *, id_tag_id: int, charger_id: int) -> bool:
    """True when an Enterprise plan with public charging off forbids this card on this charger: the card's
    account charges only on its own chargers, or the charger's account lets only its own cards charge. An
    account's family (the account and its sub-accounts) counts as its own."""
    card_root = _holder_root(session, ChargingAsset.id_tag_id == id_tag_id)
    station_root = _holder_root(session, ChargingAsset.charger_id == charger_id)
    if card_root is not None and card_root == station_root:
        return False
    for root in {card_root, station_root} - {None}:
        plan = session.get(EnterprisePlan, root)
        if plan is not None and not plan.public_charging:
            return True
    return False
