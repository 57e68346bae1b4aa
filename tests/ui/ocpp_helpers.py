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
