"""Demand-response events by hand (a utility's call) and their list; the engine (response.py) applies them
on its next pass, so a manual event sends and clears profiles exactly like a grid event."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlmodel import Session

from core.errors import Conflict, NotFound, ValidationError
from core.validation import check_text
from models import Organization
from models.grid import DrAction, DrEvent, DrPolicy, DrStatus
from services.access.permissions import Cap
from services.access.scope import Scope, get_in_scope
from services.grid import response


@dataclass(frozen=True)
class EventRow:
    id: int
    organization_id: int
    organization_name: str
    region: str
    origin: str
    grid_state: str
    status: str
    limit_percent: Decimal | None
    limit_kw: Decimal | None
    started_at: datetime
    ends_at: datetime
    ended_at: datetime | None
    end_reason: str
    note: str
    limited: int        # chargers whose profile was accepted
    problems: int       # chargers that rejected it, were offline or did not answer


def _row(session: Session, e: DrEvent, org_name: str) -> EventRow:
    acts = session.execute(select(DrAction).where(DrAction.event_id == e.id, DrAction.action == response.SET)
                           .order_by(DrAction.id)).scalars().all()
    last = {a.charger_id: a for a in acts}
    limited = sum(1 for a in last.values() if a.ok)
    return EventRow(e.id, e.organization_id, org_name, e.region, e.origin, e.grid_state, e.status, e.limit_percent,
                    e.limit_kw, e.started_at, e.ends_at, e.ended_at, e.end_reason, e.note, limited,
                    len(last) - limited)


def list_events(*, session: Session, scope: Scope, limit: int = 50, offset: int = 0) -> list[EventRow]:
    scope.require(Cap.VIEW_GRID)
    rows = session.execute(select(DrEvent, Organization.name).join(Organization, Organization.id ==
                                                                   DrEvent.organization_id)
                           .where(scope.org_filter(DrEvent.organization_id))
                           .order_by(DrEvent.started_at.desc(), DrEvent.id.desc())
                           .limit(min(max(limit, 1), 200)).offset(max(offset, 0))).all()
    return [_row(session, e, name) for e, name in rows]


def get_event(*, session: Session, scope: Scope, event_id: int) -> EventRow:
    scope.require(Cap.VIEW_GRID)
    row = session.execute(select(DrEvent, Organization.name).join(Organization, Organization.id ==
                                                                  DrEvent.organization_id)
                          .where(DrEvent.id == event_id, scope.org_filter(DrEvent.organization_id))).first() \
        if isinstance(event_id, int) and 0 < event_id < 2**31 else None
    if row is None:
        raise NotFound("Demand-response event not found.")
    return _row(session, *row)


def start_event(*, session: Session, scope: Scope, organization_id: int, minutes: int | None = None,
                note: str = "", requested_by: int | None = None) -> EventRow:
    """Start an event by hand with the organization's policy limits (the policy need not be switched on)."""
    scope.require(Cap.MANAGE_DEMAND_RESPONSE)
    org = get_in_scope(session, Organization, organization_id, scope)
    note = check_text(note or "", "note")
    if len(note) > 500:
        raise ValidationError("The note is too long (500 characters at most).", "note")
    if minutes is not None and (not isinstance(minutes, int) or not 1 <= minutes <= 1440):
        raise ValidationError("The duration must be between 1 and 1440 minutes.", "minutes")
    policy = session.execute(select(DrPolicy).where(DrPolicy.organization_id == org.id)).scalar_one_or_none()
    if policy is None:
        raise ValidationError("Set the organization's grid region and limits first.", "organization_id")
    if response.open_event(session, org.id) is not None:
        raise Conflict("This organization already has a demand-response event running.")
    event = response.start_event(session, policy, origin="manual", note=note, minutes=minutes,
                                 requested_by=requested_by)
    return _row(session, event, org.name)


def end_event(*, session: Session, scope: Scope, event_id: int) -> EventRow:
    """Ask the engine to end an event: it clears every profile it set on its next pass."""
    scope.require(Cap.MANAGE_DEMAND_RESPONSE)
    get_event(session=session, scope=scope, event_id=event_id)
    event = session.get(DrEvent, event_id)
    if event.status != DrStatus.ACTIVE:
        raise Conflict("This event is already ending or ended.")
    response.begin_ending(session, event, "ended by hand")
    org = session.get(Organization, event.organization_id)
    return _row(session, event, org.name)
