"""Demand response from an OpenADR 2.0b VTN: what an organization's VEN (services/grid/ven.py) does with the
events it receives. An event becomes a demand-response event of origin "openadr" with the organization's
policy limits, which the engine (response.py) applies and clears like any other.

- The organization opts in only when its policy names the VTN, the event asks for a curtailment (a SIMPLE
  signal level above 0) and has not ended, and no other event of the organization is running; it opts out
  otherwise, and the VTN hears which.
- The event starts at the VTN's start time (nothing is sent to a charger before it) and lasts the VTN's
  duration, capped by the policy's maximum duration; an open-ended event (duration 0) runs that maximum.
- The same event received again (a VEN restarted and synced) is not started twice: the VTN's event id is
  kept on our event. A cancelled event ends ours: every profile is cleared on the engine's next pass.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlmodel import Session

from core.clock import utcnow
from models.grid import DrEvent, DrPolicy
from services.grid import response

OPT_IN, OPT_OUT = "optIn", "optOut"


@dataclass(frozen=True)
class VtnLink:
    organization_id: int
    vtn_url: str
    ven_name: str


def links(*, session: Session) -> list[VtnLink]:
    """The organizations whose policy names a VTN: each runs a VEN."""
    rows = session.execute(select(DrPolicy.organization_id, DrPolicy.vtn_url, DrPolicy.ven_name)
                           .where(DrPolicy.vtn_url != "").order_by(DrPolicy.organization_id)).all()
    return [VtnLink(org_id, url, name) for org_id, url, name in rows]


def signal_level(event: dict) -> Decimal:
    """The highest level the event's signals ask for (SIMPLE: 0 normal, 1 moderate, 2 high, 3 special)."""
    levels = [Decimal(0)]
    for signal in event.get("event_signals") or []:
        for interval in signal.get("intervals") or []:
            try:
                levels.append(Decimal(str(interval.get("signal_payload"))))
            except (InvalidOperation, ValueError):
                continue
    return max(x for x in levels if x.is_finite())


def _period(event: dict) -> tuple[datetime, timedelta]:
    active = event.get("active_period") or {}
    start, duration = active.get("dtstart"), active.get("duration")
    if not isinstance(start, datetime) or start.tzinfo is None or not isinstance(duration, timedelta):
        raise ValueError("the event has no start or duration")
    return start, duration


def _mine(session: Session, organization_id: int, event_id: str) -> DrEvent | None:
    return session.execute(select(DrEvent).where(DrEvent.organization_id == organization_id,
                                                 DrEvent.external_id == event_id)).scalar_one_or_none()


def receive(*, session: Session, organization_id: int, event: dict) -> str:
    """An event (new, updated or cancelled) from the organization's VTN, as openleadr parsed it: start, end
    or leave our event; answer optIn or optOut."""
    descriptor = event.get("event_descriptor") or {}
    event_id, status = str(descriptor.get("event_id") or "")[:64], descriptor.get("event_status")
    if not event_id:
        return OPT_OUT
    mine = _mine(session, organization_id, event_id)
    if status == "cancelled":
        if mine is not None:
            response.begin_ending(session, mine, "cancelled by the VTN")
        return OPT_IN
    if mine is not None:  # received again: we took it on already
        return OPT_IN
    policy = session.execute(select(DrPolicy).where(DrPolicy.organization_id == organization_id)
                             ).scalar_one_or_none()
    if policy is None or not policy.vtn_url or status == "completed":
        return OPT_OUT
    try:
        start, duration = _period(event)
    except ValueError:
        return OPT_OUT
    level, now = signal_level(event), utcnow()
    end = start + duration if duration > timedelta(0) else None
    if level <= 0 or (end is not None and end <= now) or response.open_event(session, organization_id):
        return OPT_OUT
    begins = max(start, now)
    minutes = policy.max_duration_minutes if end is None else \
        min(policy.max_duration_minutes, max(1, math.ceil((end - begins).total_seconds() / 60)))
    response.start_event(session, policy, origin="openadr", minutes=minutes, start=start, external_id=event_id,
                         note=f"OpenADR event {event_id} (level {level}) from {policy.vtn_url}")
    return OPT_IN
