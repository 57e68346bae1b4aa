"""`python -m ocpp_server`: the OCPP 1.6J server on OCPP_HOST:OCPP_PORT until SIGINT/SIGTERM."""
from __future__ import annotations

import asyncio
import gc
import logging
import resource
import signal
import sys
from concurrent.futures import ThreadPoolExecutor

import uvloop

from ocpp_server.server import OcppServer
from services.access.audit import record_system_scope


def _raise_fd_limit() -> None:
    # One file descriptor per charger: lift the soft limit to the hard one.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


async def main() -> None:
    # Database calls run in worker threads; more than the default few keep handshakes flowing under load.
    asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(max_workers=16, thread_name_prefix="db"))
    try:
        await asyncio.to_thread(record_system_scope, process="ocpp_server")
    except Exception:  # noqa: BLE001 (the server starts without its database and waits for it; see outage.py)
        logging.getLogger("ocpp").warning("could not record the system-scope start in the audit log")
    server = await OcppServer().start()
    # Everything loaded so far lives forever: keep it out of the collector, and collect young objects in
    # larger steps. Full collections over a big heap were the main source of multi-100 ms pauses.
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
    # Database threads do Python work too; a shorter switch interval keeps the event loop's wait for the GIL
    # after each socket call short (the "convoy effect").
    sys.setswitchinterval(0.001)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    # SIGUSR1: drain before a restart. The health check fails, so the load balancer sends new chargers to the
    # other processes; chargers already here stay until the stop.
    loop.add_signal_handler(signal.SIGUSR1, lambda: setattr(server, "draining", True))
    print(f"OCPP server ready on port {server.port}", flush=True)
    await stop.wait()
    await server.stop()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("websockets").setLevel(logging.WARNING)
    _raise_fd_limit()
    # uvloop (libuv) runs the socket reads/writes and timers of 10,000 connections for less CPU than asyncio's
    # selector loop; see docs/BENCHMARKS.md "OCPP load".
    uvloop.run(main())
