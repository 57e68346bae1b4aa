"""A stand-in OpenADR 2.0b VTN (a utility's demand-response server) over real HTTP, for tests and the demo.

It is openleadr's own `OpenADRServer`: VENs register (their VEN name becomes their ven_id), poll, and receive
the events queued for them, with SIMPLE signals (level 0 normal … 3 special). Two extra routes let a test or
the demo play the utility:
- POST /standin/events {"ven_id", "minutes", "level", "start_in_seconds"}: queue an event, answers its id;
- POST /standin/events/{ven_id}/{event_id}/cancel: cancel it (the VEN hears it on its next poll);
- GET /standin/responses: the VENs' answers to each event (optIn / optOut).

`python -m demo.vtn_standin [--port 8742] [--event-for VEN --event-after 240 --event-minutes 10]` runs it on its
own; the demo's VTN sends Berlin eMobility's VEN one event a few minutes after `make run`.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import threading
from datetime import UTC, datetime, timedelta

from aiohttp import web
from openleadr import OpenADRServer, enums

DEFAULT_PORT = 8742
PATH = "/OpenADR2/Simple/2.0b"
VTN_ID = "VOLTDESK-STANDIN-VTN"
POLL = timedelta(seconds=2)


class StandInVtn:
    def __init__(self, port: int = 0, host: str = "127.0.0.1", poll: timedelta = POLL) -> None:
        self.host, self.port, self.poll = host, port, poll
        self.registered: dict[str, str] = {}          # ven_id -> registration_id
        self.responses: list[dict[str, str]] = []     # {"ven_id", "event_id", "opt_type"}
        self.loop: asyncio.AbstractEventLoop | None = None
        self.server: OpenADRServer | None = None
        self._ready = threading.Event()

    # --- openleadr handlers --------------------------------------------------------------------------------
    def _ven_lookup(self, ven_id: str) -> dict:
        if ven_id not in self.registered:
            return {}
        return {"ven_id": ven_id, "ven_name": ven_id, "fingerprint": None,
                "registration_id": self.registered[ven_id]}

    async def _on_create_party_registration(self, info: dict):
        ven_id = info["ven_name"]
        self.registered.setdefault(ven_id, f"reg-{ven_id}")
        return ven_id, self.registered[ven_id]

    def _answered(self, ven_id: str, event_id: str, opt_type: str) -> None:
        self.responses.append({"ven_id": ven_id, "event_id": event_id, "opt_type": opt_type})

    # --- the utility's side -------------------------------------------------------------------------------
    def add_event(self, ven_id: str, *, minutes: int, level: float = 2, start_in_seconds: float = 0) -> str:
        start = datetime.now(UTC) + timedelta(seconds=start_in_seconds)
        intervals = [{"dtstart": start, "duration": timedelta(minutes=minutes), "signal_payload": float(level)}]
        return self.server.add_event(ven_id=ven_id, signal_name=enums.SIGNAL_NAME.SIMPLE,
                                     signal_type=enums.SIGNAL_TYPE.LEVEL, intervals=intervals,
                                     market_context="oadr://voltdesk.standin/grid-relief",
                                     callback=lambda ven_id, event_id, opt_type: self._answered(
                                         ven_id, event_id, opt_type))

    def cancel_event(self, ven_id: str, event_id: str) -> None:
        self.server.cancel_event(ven_id, event_id)

    async def _post_event(self, request: web.Request) -> web.Response:
        body = await request.json()
        event_id = self.add_event(str(body["ven_id"]), minutes=int(body.get("minutes", 10)),
                                  level=float(body.get("level", 2)),
                                  start_in_seconds=float(body.get("start_in_seconds", 0)))
        return web.json_response({"event_id": event_id})

    async def _post_cancel(self, request: web.Request) -> web.Response:
        self.cancel_event(request.match_info["ven_id"], request.match_info["event_id"])
        return web.json_response({})

    async def _get_responses(self, request: web.Request) -> web.Response:
        return web.json_response(self.responses)

    # --- running -------------------------------------------------------------------------------------------
    async def serve(self) -> None:
        self.server = OpenADRServer(vtn_id=VTN_ID, http_host=self.host, http_port=self.port,
                                    requested_poll_freq=self.poll, ven_lookup=self._ven_lookup,
                                    verify_message_signatures=False, show_fingerprint=False)
        self.server.add_handler("on_create_party_registration", self._on_create_party_registration)
        self.server.app.add_routes([web.post("/standin/events", self._post_event),
                                    web.post("/standin/events/{ven_id}/{event_id}/cancel", self._post_cancel),
                                    web.get("/standin/responses", self._get_responses)])
        await self.server.run()
        if not self.port:
            self.port = self.server.app_runner.addresses[0][1]

    @property
    def url(self) -> str:
        """What a VEN is configured with (the policy's vtn_url)."""
        return f"http://{self.host}:{self.port}{PATH}"

    def start(self) -> StandInVtn:
        """Serve in a thread of its own (tests)."""
        def run() -> None:
            self.loop = asyncio.new_event_loop()
            self.loop.run_until_complete(self.serve())
            self._ready.set()
            self.loop.run_forever()

        threading.Thread(target=run, name="vtn-standin", daemon=True).start()
        if not self._ready.wait(30):
            raise RuntimeError("the stand-in VTN did not start")
        return self

    def call(self, fn, *args, **kwargs):
        """Run one of its methods on its own loop (openleadr's queues are not thread-safe)."""
        async def do():
            return fn(*args, **kwargs)
        return asyncio.run_coroutine_threadsafe(do(), self.loop).result(10)

    def stop(self) -> None:
        if self.loop is not None:
            asyncio.run_coroutine_threadsafe(self.server.stop(), self.loop).result(10)
            self.loop.call_soon_threadsafe(self.loop.stop)


async def _main(args: argparse.Namespace) -> None:
    vtn = StandInVtn(args.port)
    await vtn.serve()
    print(f"stand-in OpenADR VTN on {vtn.url}", flush=True)
    if args.event_for:
        await asyncio.sleep(args.event_after)
        event_id = vtn.add_event(args.event_for, minutes=args.event_minutes, level=2)
        print(f"VTN: event {event_id} (level 2, {args.event_minutes} min) queued for {args.event_for}", flush=True)
    await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Stand-in OpenADR 2.0b VTN (openleadr).")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--event-for", default="", help="a VEN name to send one event to")
    parser.add_argument("--event-after", type=float, default=240, help="seconds after start")
    parser.add_argument("--event-minutes", type=int, default=10)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("openleadr").setLevel(logging.WARNING)  # it sets INFO itself: one line per poll
    asyncio.run(_main(args))


if __name__ == "__main__":
    main()
