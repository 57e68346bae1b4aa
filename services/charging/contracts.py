"""Commission contracts: the platform's and the location owners' shares, effective-dated.

Rules:
- A contract row is never edited. A new rate is a new row effective from a date onward; the
  row in force at a moment is the one with the latest `effective_from` at or before it.
- The effective date cannot be in the past (organization's local date): a change never reaches
  back to sessions that already started. "Effective today" means from the moment it is saved.
- Platform commission: the platform contract in force at the session's start, else the
  organization's `platform_commission_rate` (the baseline before any contract). Once contracts
  exist that column is never changed again (services.billing.org_settings routes changes here).
- Location-owner commission: only for sessions that have a location owner. A contract for the
  charger overrides the contract for the location owner; neither means 0 %.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlmodel import Session

from core.clock import utcnow
from core.errors import ValidationError
from core.validation import decimal_in_range
from models import Charger, CommissionContract, LocationOwner, Organization
from models.base import values
from models.contract import ContractKind
from services.access import audit
from services.access.permissions import Cap
from services.access.scope import Scope, get_in_scope


@dataclass(frozen=True)
class ContractRow:
    id: int
    organization_id: int
    kind: str
    location_owner_id: int | None
    charger_id: int | None
    rate: Decimal
    effective_from: datetime
    note: str
    created_at: datetime


def row(c: CommissionContract) -> ContractRow:
    return ContractRow(c.id, c.organization_id, c.kind, c.location_owner_id, c.charger_id, c.rate, c.effective_from,
                       c.note, c.created_at)


def effective_instant(org: Organization, effective_on: date | None) -> datetime:
    """The moment a contract takes effect: now for today (or no date), local midnight for a later date."""
    now = utcnow()
    tz = ZoneInfo(org.timezone)
    today = now.astimezone(tz).date()
    if effective_on is None or effective_on == today:
        return now
    if effective_on < today:
        raise ValidationError(
            f"The effective date {effective_on.isoformat()} is in the past. A contract change applies from today "
            "onward and never rewrites past sessions.", "effective_on")
    return datetime.combine(effective_on, time(0), tzinfo=tz)


def add_contract(*, session: Session, scope: Scope, user_id: int | None, organization_id: int, kind: str,
                 rate: object, effective_on: date | None = None, location_owner_id: int | None = None,
                 charger_id: int | None = None, note: str = "") -> CommissionContract:
    scope.require(Cap.MANAGE_ORGANIZATIONS)
    org = get_in_scope(session, Organization, organization_id, scope)
    if kind not in values(ContractKind):
        raise ValidationError(f"Contract kind must be one of: {', '.join(ContractKind)}.", "kind")
    label = "platform commission" if kind == ContractKind.PLATFORM else "location owner commission"
    rate_ = decimal_in_range(rate, "rate", low=Decimal(0), high=Decimal(100), places=3,
                             label=f"{label} (%)")
    if kind == ContractKind.PLATFORM:
        if location_owner_id is not None or charger_id is not None:
            raise ValidationError("A platform contract covers the whole organization; give no owner or charger.",
                                  "kind")
    else:
        if (location_owner_id is None) == (charger_id is None):
            raise ValidationError("A location owner contract is for one location owner or one charger.",
                                  "location_owner_id")
        if location_owner_id is not None:
            owner = session.get(LocationOwner, location_owner_id)
            if owner is None or owner.organization_id != org.id:
                raise ValidationError("That location owner does not belong to this organization.",
                                      "location_owner_id")
        if charger_id is not None:
            charger = session.get(Charger, charger_id)
            if charger is None or charger.organization_id != org.id:
                raise ValidationError("That charger does not belong to this organization.", "charger_id")
    if len(note or "") > 200:
        raise ValidationError("Note must be at most 200 characters.", "note")
    contract = CommissionContract(organization_id=org.id, kind=kind, location_owner_id=location_owner_id,
                                  charger_id=charger_id, rate=rate_, note=(note or "").strip(), created_by_id=user_id,
                                  effective_from=effective_instant(org, effective_on))
    session.add(contract)
    session.flush()
    previous = _in_force(session, org.id, kind, contract.effective_from, location_owner_id=location_owner_id,
                         charger_id=charger_id, exclude_id=contract.id)
    old_rate = previous.rate if previous else (org.platform_commission_rate if kind == ContractKind.PLATFORM else None)
    audit.record(session=session, user_id=user_id, organization_id=org.id, entity="commission_contract",
                 entity_id=contract.id, action="create",
                 changes={"rate": {"old": audit.plain(old_rate), "new": str(rate_)},
                          "kind": kind, "location_owner_id": location_owner_id, "charger_id": charger_id,
                          "effective_from": contract.effective_from.isoformat()})
    session.flush()
    return contract


def list_contracts(*, session: Session, scope: Scope, organization_id: int) -> list[ContractRow]:
    org = get_in_scope(session, Organization, organization_id, scope)
    rows = session.execute(select(CommissionContract).where(CommissionContract.organization_id == org.id)
                           .order_by(CommissionContract.effective_from.desc(), CommissionContract.id.desc()))
    return [row(c) for c in rows.scalars()]


def _in_force(session: Session, org_id: int, kind: str, at: datetime, *, location_owner_id: int | None = None,
              charger_id: int | None = None, exclude_id: int | None = None) -> CommissionContract | None:
    stmt = select(CommissionContract).where(CommissionContract.organization_id == org_id,
                                            CommissionContract.kind == kind,
                                            CommissionContract.effective_from <= at)
    if kind == ContractKind.LOCATION_OWNER:
        stmt = stmt.where(CommissionContract.location_owner_id == location_owner_id if location_owner_id is not None
                          else CommissionContract.location_owner_id.is_(None))
        stmt = stmt.where(CommissionContract.charger_id == charger_id if charger_id is not None
                          else CommissionContract.charger_id.is_(None))
    if exclude_id is not None:
        stmt = stmt.where(CommissionContract.id != exclude_id)
    # Same instant: the later row wins.
    stmt = stmt.order_by(CommissionContract.effective_from.desc(), CommissionContract.id.desc()).limit(1)
    return session.execute(stmt).scalars().first()


@dataclass(frozen=True)
class RatesInForce:
    platform_rate: Decimal
    platform_contract_id: int | None
    location_owner_rate: Decimal
    location_owner_contract_id: int | None


def rates_in_force(*, session: Session, organization: Organization, charger_id: int | None,
                   location_owner_id: int | None, at: datetime) -> RatesInForce:
    """Commission rates for a session of this organization that started at `at`."""
    platform = _in_force(session, organization.id, ContractKind.PLATFORM, at)
    p_rate = platform.rate if platform else organization.platform_commission_rate
    lo = None
    if location_owner_id is not None:
        if charger_id is not None:
            lo = _in_force(session, organization.id, ContractKind.LOCATION_OWNER, at, charger_id=charger_id)
        if lo is None:
            lo = _in_force(session, organization.id, ContractKind.LOCATION_OWNER, at,
                           location_owner_id=location_owner_id)
    return RatesInForce(Decimal(p_rate), platform.id if platform else None,
                        Decimal(lo.rate) if lo else Decimal(0), lo.id if lo else None)
