"""Staff notifications: the caller's in-app inbox, acknowledging an alert, and the delivery log."""
from __future__ import annotations

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from app.api.deps import CallerDep, SessionDep
from core.clock import utcnow
from services.notifications import alerts
from services.notifications import inbox as svc

router = APIRouter(tags=["notifications"])


class UnreadOut(BaseModel):
    unread: int


@router.get("/notifications", response_model=list[svc.InboxRow])
def list_notifications(session: SessionDep, caller: CallerDep, kind: str | None = Query(None, max_length=32),
                       unread: bool = False, limit: int = Query(50, ge=1, le=200),
                       offset: int = Query(0, ge=0, le=1_000_000)) -> list[svc.InboxRow]:
    return svc.list_inbox(session=session, scope=caller.scope, kind=kind, unread_only=unread, limit=limit,
                          offset=offset)


@router.get("/notifications/unread", response_model=UnreadOut)
def unread(session: SessionDep, caller: CallerDep) -> UnreadOut:
    return UnreadOut(unread=svc.unread_count(session=session, scope=caller.scope))


@router.post("/notifications/read", status_code=204)
def mark_all_read(session: SessionDep, caller: CallerDep) -> Response:
    svc.mark_read(session=session, scope=caller.scope, now=utcnow())
    session.commit()
    return Response(status_code=204)


@router.post("/alerts/{alert_id}/acknowledge", status_code=204)
def acknowledge(alert_id: int, session: SessionDep, caller: CallerDep) -> Response:
    alerts.acknowledge(session=session, scope=caller.scope, alert_id=alert_id, now=utcnow())
    session.commit()
    return Response(status_code=204)


@router.get("/notifications/deliveries", response_model=list[svc.DeliveryRow])
def deliveries(session: SessionDep, caller: CallerDep, notification_id: int | None = Query(None, ge=1, le=2**62),
               status: str | None = Query(None, max_length=16), limit: int = Query(100, ge=1, le=500),
               offset: int = Query(0, ge=0, le=1_000_000)) -> list[svc.DeliveryRow]:
    return svc.delivery_log(session=session, scope=caller.scope, notification_id=notification_id, status=status,
                            limit=limit, offset=offset)
