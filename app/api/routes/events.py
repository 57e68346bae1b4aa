"""GET /events: live charger status, session starts and stops and command results as Server-Sent Events.

Fed by the same NOTIFY path as the browsers (core/listener.py). Every event carries its id; a client that
reconnects with `Last-Event-ID` first gets the kept events after it (EVENT_RETENTION_MINUTES), so nothing
is lost. While the stream is idle it also catches up from the kept events, which covers a listener that
is still connecting.
"""
from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import StreamingResponse
from sqlmodel import Session

from app.api.deps import CallerDep, SessionDep
from core.db import database_url, get_engine
from core.listener import hub, libpq_dsn
from services.access.scope import Scope
from services.clients import events as svc

router = APIRouter(tags=["events"])
IDLE_SECONDS = 5.0

EXAMPLE = ('id: 812\nevent: charger_status\ndata: {"type":"charger_status","charger_id":3,"organization_id":2,'
           '"connector_id":1,"status":"Charging","error_code":"NoError","event_id":812}\n\n')


def _frame(event: dict[str, Any]) -> str:
    return f"id: {event['event_id']}\nevent: {event.get('type')}\ndata: {json.dumps(event, default=str)}\n\n"


def _after(scope: Scope, after_id: int, accept) -> tuple[list[dict[str, Any]], int]:
    with Session(get_engine()) as session:
        scope.enter(session)
        return svc.events_after(session=session, scope=scope, after_id=after_id, accept=accept)


async def _stream(request: Request, scope: Scope, accept, start: int) -> AsyncIterator[str]:
    """A NOTIFY wakes the stream; the kept events are read in order from the last one read, so an event
    is sent once, in order, even if the listener missed it."""
    read = start
    hub.ensure_running(libpq_dsn(await asyncio.to_thread(database_url)))
    async with hub.subscribe() as queue:
        yield ": connected\n\n"
        while True:
            while True:  # until nothing new is kept (a long resumption takes several reads)
                kept, last = await asyncio.to_thread(_after, scope, read, accept)
                for event in kept:
                    yield _frame(event)
                if last == read:
                    break
                read = last
            try:
                while not accept(await asyncio.wait_for(queue.get(), IDLE_SECONDS)):
                    pass
            except TimeoutError:
                if await request.is_disconnected():
                    return
                yield ": keep-alive\n\n"
            while not queue.empty():  # a burst: one read covers it
                queue.get_nowait()


@router.get("/events", response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {"example": EXAMPLE}}}},
            openapi_extra={"x-required-scope": "view_chargers (status), view_transactions (sessions), "
                                               "command_chargers (command results)"})
def events(request: Request, caller: CallerDep, session: SessionDep,
           last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None) -> StreamingResponse:
    """Status changes, session starts and stops, and command results of the caller's scope, as SSE.
    Send `Last-Event-ID` to resume after a disconnect."""
    accept = svc.stream_filter(session=session, scope=caller.scope)
    start = svc.latest_id(session=session)
    if last_event_id is not None and last_event_id.strip().isdigit() and len(last_event_id.strip()) < 19:
        start = min(int(last_event_id), start)
    return StreamingResponse(_stream(request, caller.scope, accept, start), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
