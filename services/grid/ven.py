"""The OpenADR 2.0b VENs: one openleadr `OpenADRClient` per organization whose policy names a VTN.

`VenRunner.run()` is a long-running asyncio task (the worker runs it in a thread of its own). Every RECHECK
seconds it compares the running VENs with the policies: it starts a VEN for a new or changed VTN, stops the
VEN of a removed one, and restarts a VEN that could not register (the VTN was down). Each VEN registers,
polls the VTN at the frequency the VTN asks for, and hands every event to `openadr.receive` in a database
transaction of its own; the answer (optIn / optOut) goes back to the VTN.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from contextlib import AbstractContextManager

from openleadr import OpenADRClient
from sqlmodel import Session

from services.grid import openadr

log = logging.getLogger(__name__)
RECHECK_SECONDS = 15.0


class _Ven:
    def __init__(self, link: openadr.VtnLink, sessions: Callable[[], AbstractContextManager[Session]]) -> None:
        self.link, self.sessions = link, sessions
        self.client = OpenADRClient(ven_name=link.ven_name, vtn_url=link.vtn_url, show_fingerprint=False,
                                    disable_signature=True, allow_jitter=False)
        self.client.add_handler("on_event", self._on_event)
        self.client.add_handler("on_update_event", self._on_event)

    def _receive(self, event: dict) -> str:
        with self.sessions() as session:
            return openadr.receive(session=session, organization_id=self.link.organization_id, event=event)

    async def _on_event(self, event: dict) -> str:
        answer = await asyncio.to_thread(self._receive, event)
        log.info("OpenADR: organization %s, event %s (%s): %s", self.link.organization_id,
                 (event.get("event_descriptor") or {}).get("event_id"),
                 (event.get("event_descriptor") or {}).get("event_status"), answer)
        return answer

    @property
    def registered(self) -> bool:
        return bool(self.client.registration_id) and self.client.scheduler.running

    async def start(self) -> None:
        try:
            await self.client.run()
        except Exception as exc:  # noqa: BLE001 - a VTN that is down is tried again on the next check
            log.warning("OpenADR: VEN %s cannot reach %s: %s", self.link.ven_name, self.link.vtn_url, exc)

    async def stop(self) -> None:
        with contextlib.suppress(Exception):
            await self.client.stop()


class VenRunner:
    def __init__(self, *, sessions: Callable[[], AbstractContextManager[Session]],
                 recheck_seconds: float = RECHECK_SECONDS) -> None:
        self.sessions, self.recheck = sessions, recheck_seconds
        self.vens: dict[int, _Ven] = {}

    def _links(self) -> list[openadr.VtnLink]:
        with self.sessions() as session:
            return openadr.links(session=session)

    async def check(self) -> None:
        """Start, restart or stop VENs to match the policies."""
        wanted = {link.organization_id: link for link in await asyncio.to_thread(self._links)}
        for org_id in list(self.vens):
            ven = self.vens[org_id]
            if wanted.get(org_id) != ven.link or not ven.registered:
                await ven.stop()
                del self.vens[org_id]
        for org_id, link in wanted.items():
            if org_id not in self.vens:
                ven = self.vens[org_id] = _Ven(link, self.sessions)
                await ven.start()

    async def run(self, stop: asyncio.Event | None = None) -> None:
        stop = stop or asyncio.Event()
        try:
            while not stop.is_set():
                try:
                    await self.check()
                except Exception:  # noqa: BLE001 - the runner outlives a database hiccup
                    log.exception("OpenADR: checking the VENs failed")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.recheck)
        finally:
            for ven in self.vens.values():
                await ven.stop()
            self.vens.clear()
