"""Live updates for open pages: the process's one listener, and the per-client follower.

`run_listener` is the web backend's single LISTEN on `voltdesk_events` (a Reflex lifespan task, see
app/app.py). A page that shows live data starts `follow(...)` from a background event: it subscribes
to the hub with a filter built on the server from the user's own scope, gathers events for a moment,
and hands each batch to the page, which refreshes only the cards it shows. It stops when the client
disconnects, leaves the page, or the page starts a newer follower. See docs/adr/0002-live-updates.md.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from core.db import database_url
from core.listener import Event, hub, libpq_dsn

log = logging.getLogger(__name__)
# How long a follower waits before checking that its client is still there.
IDLE_CHECK_SECONDS = 5.0
# Events arriving this close together are applied in one state update (a burst of StatusNotifications).
BATCH_SECONDS = 0.1


async def run_listener() -> None:
    # database_url() may start the embedded server: not on the event loop.
    await hub.run(libpq_dsn(await asyncio.to_thread(database_url)))


_running_app: Any = None


def attach_app(app: Any) -> None:
    """app/app.py hands over the running rx.App, so this layer never imports the app module."""
    global _running_app
    _running_app = app


def client_connected(token: str) -> bool:
    """Whether this process still has a websocket for the client (False once the tab is closed)."""
    namespace = getattr(_running_app, "event_namespace", None)
    if namespace is None:
        return True
    return token in namespace.token_to_sid


async def _next_batch(queue: asyncio.Queue[Event], accept: Callable[[Event], bool]) -> list[Event]:
    batch: list[Event] = []
    with contextlib.suppress(TimeoutError):
        first = await asyncio.wait_for(queue.get(), IDLE_CHECK_SECONDS)
        if accept(first):
            batch.append(first)
        loop = asyncio.get_running_loop()
        until = loop.time() + BATCH_SECONDS
        while (left := until - loop.time()) > 0:
            event = await asyncio.wait_for(queue.get(), left)
            if accept(event):
                batch.append(event)
    return batch


async def follow(*, accept: Callable[[Event], bool], still_wanted: Callable[[], Awaitable[bool]],
                 apply: Callable[[list[Event]], Awaitable[Any]]) -> None:
    """Feed batches of accepted events to `apply` until `still_wanted()` says stop."""
    async with hub.subscribe() as queue:
        while True:
            batch = await _next_batch(queue, accept)
            if not await still_wanted():
                return
            if batch:
                try:
                    await apply(batch)
                except Exception:  # noqa: BLE001 - one bad refresh must not stop the live page
                    log.exception("live update failed")


async def follow_charger(state: Any, route: str) -> None:
    """The follower of a page about one charger (its detail, its security sections): `state._fetch()` again on
    each batch of that charger's events, while this client still shows it. Called from a background event."""
    async with state:
        state._generation += 1
        generation, cid = state._generation, state.charger_id
        token = state.router.session.client_token

    def accept(event: dict) -> bool:  # the page already proved the charger is in scope
        return event.get("charger_id") == cid

    async def still_wanted() -> bool:
        async with state:
            return (state._generation == generation and state.charger_id == cid
                    and state.router.route_id in ("", route) and client_connected(token))

    async def apply(batch: list[dict]) -> None:
        async with state:
            await state._fetch()

    await follow(accept=accept, still_wanted=still_wanted, apply=apply)
