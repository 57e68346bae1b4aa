"""OCPP restart benchmark: N chargers connected; the server is stopped (SIGTERM) and started again; the chargers
reconnect at once, or spread at random over J seconds (as real chargers do after their backoff).

    python bench/ocpp_restart.py --chargers 2000 --jitter 0 --jitter 10

For each --jitter it reports: the stop time with N connections (every charger marked Offline), the start time,
the time until all N are back Online in the database (counted from the moment the new process listens), the
handshakes/s of that reconnect, and the server CPU it cost (per handshake). Real PostgreSQL, the real server
(`python -m ocpp_server`, pinned to CPU 0 when there are two), raw websockets as chargers (on CPU 1).
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import os
import random
import resource
import signal
import sys
import time
from pathlib import Path

import psutil
import psycopg
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ocpp_load import KEY, _free_port, machine_load, prepare_database, start_server  # noqa: E402

ONLINE_SQL = "SELECT count(*) FILTER (WHERE connected AND status <> 'Offline') FROM charger"
OFFLINE_SQL = "SELECT count(*) FILTER (WHERE NOT connected AND status = 'Offline') FROM charger"


class Chargers:
    """N raw websocket chargers that reconnect after a refusal or a refused TCP connection."""

    def __init__(self, port: int, count: int) -> None:
        self.port = port
        self.count = count
        self.sockets: dict[int, websockets.ClientConnection] = {}
        self.refused = 0  # 503s, refused or timed out connections, each retried

    async def connect(self, n: int, delay: float = 0.0) -> None:
        if delay:
            await asyncio.sleep(delay)
        ocpp_id = f"B{n:05d}"
        auth = base64.b64encode(f"{ocpp_id}:{KEY}".encode()).decode()
        backoff = 0.5
        while True:
            try:
                self.sockets[n] = await websockets.connect(
                    f"ws://127.0.0.1:{self.port}/ocpp/{ocpp_id}", subprotocols=["ocpp1.6"],
                    additional_headers={"Authorization": f"Basic {auth}"}, compression=None, open_timeout=60,
                    ping_interval=None, max_queue=4)
                return
            except (OSError, TimeoutError, websockets.exceptions.InvalidStatus,
                    websockets.exceptions.InvalidHandshake):
                self.refused += 1
                await asyncio.sleep(backoff * (0.5 + random.random()))  # a charger's backoff, randomised
                backoff = min(backoff * 2, 10)

    async def connect_all(self, jitter: float) -> None:
        await asyncio.gather(*(self.connect(n, random.uniform(0, jitter) if jitter else 0.0)
                               for n in range(self.count)))

    async def close_all(self) -> None:
        await asyncio.gather(*(ws.close() for ws in self.sockets.values()), return_exceptions=True)
        self.sockets.clear()


def count(url: str, sql: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchone()[0]


async def until_count(url: str, sql: str, target: int, timeout: float) -> float:
    """Seconds until `sql` counts `target` rows (polled every 50 ms), or raises after `timeout`."""
    t0 = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        while conn.execute(sql).fetchone()[0] < target:
            if time.perf_counter() - t0 > timeout:
                raise SystemExit(f"not reached in {timeout:.0f} s: {sql}")
            await asyncio.sleep(0.05)
    return time.perf_counter() - t0


def pin(pid: int) -> None:
    if len(os.sched_getaffinity(0)) >= 2:
        os.sched_setaffinity(pid, {0})
        os.sched_setaffinity(0, {1})


def server_cpu(ps: psutil.Process) -> float:
    return sum(ps.cpu_times()[:2])


async def main(args) -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if hard < args.chargers + 100:
        raise SystemExit(f"fd limit {hard} is too low for {args.chargers} chargers")
    from tests.db import LOCAL, drop_database

    print(f"command: {' '.join(sys.argv)}")
    print(f"at start: {machine_load()}")
    url = prepare_database(args.server_url or LOCAL, args.chargers)
    port = _free_port()
    server = start_server(url, port, args.server_log)
    pin(server.pid)
    chargers = Chargers(port, args.chargers)
    try:
        await chargers.connect_all(0)
        await until_count(url, ONLINE_SQL, args.chargers, args.timeout)
        print(f"{args.chargers} chargers connected and Online; {machine_load()}")
        for jitter in args.jitter:
            # Stop: SIGTERM, until the process has exited (it marks every charger Offline before it exits).
            t0 = time.perf_counter()
            server.send_signal(signal.SIGTERM)
            await asyncio.to_thread(server.wait, args.timeout)  # the chargers answer the close frames meanwhile
            stop_s = time.perf_counter() - t0
            offline = count(url, OFFLINE_SQL)
            await chargers.close_all()  # their sockets were closed by the server
            # Start again; the chargers come back at once or spread over `jitter` seconds.
            t1 = time.perf_counter()
            server = start_server(url, port, args.server_log)
            start_s = time.perf_counter() - t1
            pin(server.pid)
            ps = psutil.Process(server.pid)
            cpu0 = server_cpu(ps)
            refused0 = chargers.refused
            reconnect = asyncio.create_task(chargers.connect_all(jitter))
            back_s = await until_count(url, ONLINE_SQL, args.chargers, args.timeout + jitter)
            await reconnect
            cpu = server_cpu(ps) - cpu0
            # The server's CPU with N idle connections (liveness, sweeps, batch timers), to tell apart from the
            # handshakes' cost in a long jittered reconnect.
            idle0 = server_cpu(ps)
            await asyncio.sleep(3)
            idle = (server_cpu(ps) - idle0) / 3
            print(f"restart, jitter {jitter:g} s:")
            print(f"  stop with {args.chargers} connections:  {stop_s:.2f} s (SIGTERM to exit; "
                  f"{offline} of {args.chargers} Offline after it)")
            print(f"  start:                       {start_s:.2f} s (until the new process listens)")
            print(f"  all {args.chargers} back Online:     {back_s:.2f} s after it listens "
                  f"({stop_s + start_s + back_s:.2f} s after SIGTERM); {args.chargers / back_s:.0f} handshakes/s "
                  f"on average; {chargers.refused - refused0} attempts refused or timed out and retried")
            print(f"  server CPU:                  {cpu:.2f} s = {1000 * cpu / args.chargers:.2f} ms per charger back; "
                  f"idle with {args.chargers} connections {100 * idle:.1f} % of a core, so "
                  f"{1000 * max(0.0, cpu - idle * back_s) / args.chargers:.2f} ms per charger without it")
            print(f"  {machine_load()}")
        t0 = time.perf_counter()
        server.send_signal(signal.SIGTERM)
        await asyncio.to_thread(server.wait, args.timeout)  # the chargers answer the close frames meanwhile
        print(f"final stop: {time.perf_counter() - t0:.2f} s")
        await chargers.close_all()
        print(f"at end: {machine_load()}")
    finally:
        if server.poll() is None:
            server.terminate()
            server.wait(timeout=60)
        if not args.keep:
            drop_database(url)


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--chargers", type=int, default=10000)
    p.add_argument("--jitter", type=float, action="append",
                   help="reconnect spread in seconds; repeat for several restarts (default: 0 and 30)")
    p.add_argument("--timeout", type=float, default=600, help="give up after this many seconds per phase")
    p.add_argument("--server-url", help="PostgreSQL server for the scratch database (default: local)")
    p.add_argument("--server-log", metavar="FILE", help="keep the server's log in FILE")
    p.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = p.parse_args()
    args.jitter = args.jitter or [0.0, 30.0]
    asyncio.run(main(args))
