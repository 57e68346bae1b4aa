"""`python -m ocpp_server`: the OCPP 1.6J server on OCPP_HOST:OCPP_PORT until SIGINT/SIGTERM."""
from __future__ import annotations

import asyncio
import logging
import resource
import signal

from ocpp_server.server import OcppServer


def _raise_fd_limit() -> None:
    # One file descriptor per charger: lift the soft limit to the hard one.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


async def main() -> None:
    server = await OcppServer().start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(f"OCPP server ready on port {server.port}", flush=True)
    await stop.wait()
    await server.stop()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("websockets").setLevel(logging.WARNING)
    _raise_fd_limit()
    asyncio.run(main())
