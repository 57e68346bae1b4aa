"""A real OCPP server and a real charger (the `ocpp` library's ChargePoint) for browser tests.

Both run on an event loop in a background thread of the test process, against the test database,
so the browser test can drive the charger synchronously while the web app (another process) hears
the changes through PostgreSQL NOTIFY and sends commands through the command channel.
"""
from __future__ import annotations

import asyncio
import base64
import contextlib
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import websockets
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call, call_result


class TestCharger(ChargePoint):
    @on("Reset")
    def on_reset(self, type):
        return call_result.Reset(status="Accepted")


class LiveCharger:
    def __init__(self, loop: asyncio.AbstractEventLoop, cp: TestCharger) -> None:
        self._loop, self.cp = loop, cp

    def _do(self, coro, timeout: float = 30):
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def status(self, status: str, connector_id: int = 0, error_code: str = "NoError"):
        return self._do(self.cp.call(call.StatusNotification(
            connector_id=connector_id, error_code=error_code, status=status,
            timestamp=datetime.now(UTC).isoformat())))


@contextlib.contextmanager
def ocpp_charger(engine, ocpp_id: str, key: str) -> Iterator[LiveCharger]:
    """Start the OCPP server on a free port, connect `ocpp_id` with `key`, boot it; stop both afterwards."""
    from ocpp_server.server import OcppServer

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    def run(coro, timeout: float = 30):
        return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout)

    server = run(OcppServer(engine=engine).start(host="127.0.0.1", port=0))
    auth = base64.b64encode(f"{ocpp_id}:{key}".encode()).decode()

    async def connect():
        ws = await websockets.connect(f"ws://127.0.0.1:{server.port}/ocpp/{ocpp_id}", subprotocols=["ocpp1.6"],
                                      additional_headers={"Authorization": f"Basic {auth}"}, open_timeout=10)
        cp = TestCharger(ocpp_id, ws, response_timeout=20)
        task = asyncio.create_task(cp.start())
        await cp.call(call.BootNotification(charge_point_vendor="Voltdesk Test", charge_point_model="UI-1"))
        return ws, cp, task

    ws, cp, task = run(connect())
    try:
        yield LiveCharger(loop, cp)
    finally:
        async def close():
            task.cancel()
            await ws.close()
            with contextlib.suppress(BaseException):
                await task
            await server.stop()

        with contextlib.suppress(Exception):
            run(close())
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


@contextlib.contextmanager
def file_endpoint(database_url: str) -> Iterator[str]:
    """Voltdesk's file endpoint (`python -m ocpp_server.files`) over real HTTP on a free port; yields its origin."""
    import os
    import socket
    import subprocess
    import sys
    import time
    import urllib.error
    import urllib.request
    from pathlib import Path

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen([sys.executable, "-m", "ocpp_server.files", "--host", "127.0.0.1", "--port", str(port)],
                            cwd=root, env=dict(os.environ, DATABASE_URL=database_url), start_new_session=True)
    origin = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{origin}/upload/nothing", timeout=2)
            except urllib.error.HTTPError:
                break  # it answers (405 for a GET)
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("The file endpoint did not start.") from None
                time.sleep(0.2)
        yield origin
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextlib.contextmanager
def simulated_chargers(engine, ocpp_ids: list[str], key: str, *, uploads_to: str | None = None) -> Iterator[list]:
    """The demo's simulator (ocpp_server.simulator) as the chargers, against a real OCPP server: each boots and
    then only answers the server and reports what it was asked for (no random sessions). Uploads go to
    `uploads_to` (the file endpoint's origin), whatever origin the web app put in the request."""
    from urllib.parse import urlsplit, urlunsplit

    from ocpp_server.server import OcppServer
    from ocpp_server.simulator import SimCharger, Simulated

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    def run(coro, timeout: float = 30):
        return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout)

    def redirect(job: tuple) -> tuple:
        if uploads_to and job[0] in ("log", "diagnostics") and job[-2]:
            target, location = urlsplit(uploads_to), urlsplit(job[-2])
            job = (*job[:-2], urlunsplit((target.scheme, target.netloc, location.path, "", "")), job[-1])
        return job

    server = run(OcppServer(engine=engine).start(host="127.0.0.1", port=0))
    sims, tasks, sockets = [], [], []

    async def live(sim: Simulated) -> None:
        ws = await websockets.connect(sim.url, subprotocols=["ocpp1.6"], additional_headers=sim._headers(),
                                      open_timeout=10)
        sockets.append(ws)
        cp = SimCharger(sim.ocpp_id, ws, response_timeout=20)
        cp.sim = sim
        tasks.append(asyncio.create_task(cp.start()))
        await cp.call(call.BootNotification(charge_point_vendor="Voltdesk Sim", charge_point_model="VS-22"))
        await sim._status(cp, 0, "Available")
        while True:
            sim.pending = [redirect(job) for job in sim.pending]
            await sim._do_pending(cp)
            await asyncio.sleep(0.1)

    for ocpp_id in ocpp_ids:
        sim = Simulated(ocpp_id, url=f"ws://127.0.0.1:{server.port}/ocpp", auth_key=key, tags=[], pace=1.0)
        sims.append(sim)
        tasks.append(asyncio.run_coroutine_threadsafe(live(sim), loop))
    try:
        yield sims
    finally:
        async def close():
            for t in tasks:
                if isinstance(t, asyncio.Task):
                    t.cancel()
            for ws in sockets:
                await ws.close()
            await server.stop()

        for t in tasks:
            if not isinstance(t, asyncio.Task):
                t.cancel()
        with contextlib.suppress(Exception):
            run(close())
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
