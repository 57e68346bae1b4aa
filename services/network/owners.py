"""Location owners as a CPO manages them: create one with contact details, assign it to chargers (one or many
at once), and see each one's commission contract.

Assigning applies from that moment: a session keeps the owner that held the charger when it started
(Transaction.location_owner_id is a snapshot), so earlier sessions stay with the earlier owner.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlmodel import Session

from core.clock import utcnow
from core.errors import Conflict, NotFound, ValidationError
from core.events import EventType, notify
from core.validation import optional_text, required_text, validate_email
from models import Charger, CommissionContract, LocationOwner, Organization, User
from services.access import audit
from services.access.permissions import Cap
from services.access.scope import Scope, get_in_scope
from services.charging import contracts

PHONE_MAX, ADDRESS_MAX, NAME_MAX = 40, 500, 200


@dataclass(frozen=True)
class OwnerRow:
    id: int
    name: str
    organization_id: int
    organization: str
    contact_name: str
    email: str
    phone: str
    address: str
    chargers: int
    users: int
    commission_rate: Decimal  # the contract in force now; 0 without one
    contract_from: datetime | None


def list_owners(*, session: Session, scope: Scope, now: datetime | None = None) -> list[OwnerRow]:
    """The location owners of the organizations in scope, with charger and user counts and the contract in force."""
    scope.require(Cap.VIEW_CHARGERS)
    now = now or utcnow()
    owners = session.execute(
        select(LocationOwner, Organization).join(Organization, Organization.id == LocationOwner.organization_id)
        .where(scope.org_filter(LocationOwner.organization_id)).order_by(Organization.name, LocationOwner.name)).all()
    ids = [o.id for o, _ in owners]
    chargers = dict(session.execute(select(Charger.location_owner_id, func.count()).where(
        Charger.location_owner_id.in_(ids)).group_by(Charger.location_owner_id)).all()) if ids else {}
    users = dict(session.execute(select(User.location_owner_id, func.count()).where(
        User.location_owner_id.in_(ids)).group_by(User.location_owner_id)).all()) if ids else {}
    rows = []
    for o, org in owners:
        rates = contracts.rates_in_force(session=session, organization=org, charger_id=None, location_owner_id=o.id,
                                         at=now)
        contract = (session.get(CommissionContract, rates.location_owner_contract_id)
                    if rates.location_owner_contract_id is not None else None)
        since = contract.effective_from if contract else None
        rows.append(OwnerRow(o.id, o.name, org.id, org.name, o.contact_name or "", o.email or "", o.phone or "",
                             o.address or "", chargers.get(o.id, 0), users.get(o.id, 0),
                             rates.location_owner_rate, since))
    return rows


def create_owner(*, session: Session, scope: Scope, user_id: int | None, organization_id: int, name: str,
                 contact_name: str = "", email: str = "", phone: str = "", address: str = "") -> LocationOwner:
    """A location owner of an organization in scope, with its contact details. Audited."""
    scope.require(Cap.MANAGE_LOCATION_OWNERS)
    org = get_in_scope(session, Organization, organization_id, scope)
    name = required_text(name, "name", max_len=NAME_MAX)
    if session.execute(select(LocationOwner.id).where(LocationOwner.organization_id == org.id,
                                                      LocationOwner.name == name)).first():
        raise Conflict(f"{org.name} already has a location owner named {name}.", "name")
    owner = LocationOwner(organization_id=org.id, name=name,
                          contact_name=optional_text(contact_name, "contact_name", max_len=NAME_MAX),
                          email=validate_email(email) if (email or "").strip() else None,
                          phone=optional_text(phone, "phone", max_len=PHONE_MAX),
                          address=optional_text(address, "address", max_len=ADDRESS_MAX))
    session.add(owner)
    session.flush()
    audit.record(session=session, user_id=user_id, organization_id=org.id, entity="location_owner",
                 entity_id=owner.id, action="create",
                 changes=audit.diff({}, {"name": owner.name, "contact_name": owner.contact_name, "email": owner.email,
                                         "phone": owner.phone, "address": owner.address}))
    return owner


def _owner_id(value: object) -> int | None:
    if value in (None, "", "none"):
        return None
    try:
        return int(str(value))
    except ValueError:
        raise ValidationError("Choose a location owner from the list.", "location_owner_id") from None


def assign_owner(*, session: Session, scope: Scope, user_id: int | None, charger_ids: list[int],
                 location_owner_id: object) -> int:
    """Set (or clear, with None) the location owner of each charger. All or nothing; each change audited.

    Returns how many chargers changed. From now on: sessions already started keep their owner."""
    scope.require(Cap.ASSIGN_LOCATION_OWNERS)
    wanted = sorted({int(c) for c in charger_ids})
    if not wanted:
        raise ValidationError("Select at least one charger.", "charger_ids")
    owner_id = _owner_id(location_owner_id)
    owner = get_in_scope(session, LocationOwner, owner_id, scope) if owner_id is not None else None
    chargers = session.execute(select(Charger).where(Charger.id.in_(wanted), scope.charger_filter())
                               .order_by(Charger.id).with_for_update()).scalars().all()
    if len(chargers) != len(wanted):
        raise NotFound("Charger not found.")
    if owner is not None:
        foreign = [c.ocpp_id for c in chargers if c.organization_id != owner.organization_id]
        if foreign:
            raise ValidationError(f"{owner.name} does not belong to the organization of {', '.join(foreign)}.",
                                  "location_owner_id")
    changed = 0
    for c in chargers:
        if c.location_owner_id == owner_id:
            continue
        audit.record(session=session, user_id=user_id, organization_id=c.organization_id, entity="charger",
                     entity_id=c.id, action="assign_owner",
                     changes={"location_owner_id": {"old": c.location_owner_id, "new": owner_id}})
        c.location_owner_id = owner_id
        session.add(c)
        notify(session, {"type": EventType.CHARGER, "charger_id": c.id, "organization_id": c.organization_id})
        changed += 1
    session.flush()
    return changed


def owner_contracts(*, session: Session, scope: Scope, location_owner_id: int) -> list[contracts.ContractRow]:
    """Every commission contract of one location owner (per owner and per charger), newest first."""
    scope.require(Cap.VIEW_CHARGERS)
    owner = get_in_scope(session, LocationOwner, location_owner_id, scope)
    charger_ids = set(session.execute(select(Charger.id).where(Charger.location_owner_id == owner.id)).scalars())
    return [c for c in contracts.list_contracts(session=session, scope=scope, organization_id=owner.organization_id)
            if c.kind == "location_owner" and (c.location_owner_id == owner.id or c.charger_id in charger_ids)]
