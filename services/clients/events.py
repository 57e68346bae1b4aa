"""The event stream for API clients (GET /api/v1/events): which live events a caller gets, and the kept
events after a Last-Event-ID.

The same events the browsers get (core/events.py, docs/adr/0002-live-updates.md), plus command results,
scoped the same way (`dashboard.event_filter`), and each kind only with the capability to see it.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from core.events import EventType
from models import EventLog
from services.access.permissions import Cap
from services.access.scope import Scope
from services.network import dashboard

# Which capability each kind of event needs.
NEEDS = {
    EventType.CHARGER: Cap.VIEW_CHARGERS,
    EventType.CHARGER_STATUS: Cap.VIEW_CHARGERS,
    EventType.TRANSACTION: Cap.VIEW_TRANSACTIONS,
    EventType.COMMAND_RESULT: Cap.COMMAND_CHARGERS,
}
REPLAY_LIMIT = 1000


def stream_filter(*, session: Session, scope: Scope) -> Callable[[dict[str, Any]], bool]:
    if not any(scope.can(cap) for cap in NEEDS.values()):
        scope.require(Cap.VIEW_CHARGERS)
    kinds = {kind.value for kind, cap in NEEDS.items() if scope.can(cap)}
    in_scope = dashboard.event_filter(session=session, scope=scope)

    def accept(event: dict[str, Any]) -> bool:
        kind = event.get("type")
        if kind not in kinds:
            return False
        # The browsers' filter knows the first three kinds; a command result is scoped the same way.
        return in_scope({**event, "type": EventType.CHARGER}) if kind == EventType.COMMAND_RESULT else in_scope(event)

    return accept


def latest_id(*, session: Session) -> int:
    return session.execute(select(func.coalesce(func.max(EventLog.id), 0))).scalar_one()


def events_after(*, session: Session, scope: Scope, after_id: int,
                 accept: Callable[[dict[str, Any]], bool]) -> tuple[list[dict[str, Any]], int]:
    """Kept events after `after_id` in this scope, oldest first, each with its "event_id"; and the last id
    read (the next call starts there, past events of other scopes)."""
    rows = session.execute(select(EventLog.id, EventLog.payload).where(
        EventLog.id > after_id, scope.org_filter(EventLog.organization_id)).order_by(EventLog.id)
        .limit(REPLAY_LIMIT)).all()
    out = []
    for event_id, payload in rows:
        event = {**payload, "event_id": event_id}
        if accept(event):
            out.append(event)
    return out, rows[-1][0] if rows else after_id
