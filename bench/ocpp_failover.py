"""Failover of two OCPP processes behind HAProxy: kill -9 one mid-run; its chargers move to the other.

    python bench/ocpp_failover.py [--chargers 20000] [--meter-chargers 2000] [--meter-rate 500]
        [--heartbeat-rate 200] [--command-rate 20] [--kill-after 30] [--after 90] [--jitter 10]

A scratch database (as bench/ocpp_load.py), Debian's HAProxy with demo/haproxy.cfg's template in front of two
`python -m ocpp_server`, and N chargers built by hand on raw websockets, connected through HAProxy. During the
run: heartbeats and MeterValues at a set rate (each MeterValues carries a reading no other has), and a stream of
GetConfiguration commands through services.ocpp.commands (what the API calls), each with a marker key the charger
echoes back. `--kill-after` seconds into the run one process gets SIGKILL; its chargers see their sockets close,
wait a random 0..`--jitter` s and reconnect through HAProxy, which sends them to the survivor.

Reports: the time from the kill until all the victim's chargers are Online on the survivor (from the database,
polled, and from the clients), commands that went to a stale socket (claimed by the dead process after the kill,
or received on a socket the charger had already replaced: must be 0), commands reported expired/failed that the
charger received anyway (must be 0 for expired), acknowledged MeterValues missing from the database (must be 0),
both servers' CPU and RSS, the load average at the start and the end.

File descriptors: each charger is one socket here and two in HAProxy (client and server side); the soft limit is
raised to the hard one, and HAProxy's maxconn follows it (demo/cluster.py). 20,000 chargers need a hard limit of
about 41,000 (`ulimit -Hn`); `--source-ips` spreads the client sockets over 127.0.0.1..N so that reconnects in
TIME_WAIT do not run out of ephemeral ports.
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import psutil
import psycopg
import websockets

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ocpp_load import KEY, _free_port, _pct, machine_load, prepare_database, start_server  # noqa: E402


def iso() -> str:
    return datetime.now(UTC).isoformat()


class Bench:
    """What the charger side saw, kept for the checks at the end."""

    def __init__(self) -> None:
        self.stopping = False
        self.kill_at: float | None = None
        self.seq = 0  # the MeterValues readings, unique across the run
        self.acked: list[int] = []  # readings whose MeterValues was answered
        # MeterValues whose socket closed before the answer: not acknowledged, so they may or may not be stored.
        self.unanswered = 0
        self.received: dict[str, list[tuple[int, int, bool]]] = {}  # marker -> (charger n, incarnation, stale)
        self.hb_lat: list[float] = []
        self.mv_lat: list[float] = []
        self.initial_failures = 0  # handshakes that failed before the kill (retried)
        self.connect_failures = 0  # after the kill (retried)


class Charger:
    __slots__ = ("bench", "busy", "first_after", "incarnation", "n", "ocpp_id", "online", "pending",
                 "reconnected_at", "ws")

    def __init__(self, bench: Bench, n: int) -> None:
        self.bench, self.n, self.ocpp_id = bench, n, f"B{n:05d}"
        self.ws = None
        self.incarnation = 0
        self.pending: dict[str, asyncio.Future] = {}
        self.online = False
        self.busy = False
        self.reconnected_at: float | None = None  # first answer on a socket opened after the kill
        self.first_after: int | None = None  # the first socket (incarnation) opened after the kill

    async def connect(self, url: str, source_ip: str) -> asyncio.Future:
        """Open a socket, answer-read it, send the first Heartbeat; returns the reader (done once it closes)."""
        auth = base64.b64encode(f"{self.ocpp_id}:{KEY}".encode()).decode()
        self.ws = await websockets.connect(f"{url}/ocpp/{self.ocpp_id}", subprotocols=["ocpp1.6"],
                                           additional_headers={"Authorization": f"Basic {auth}"},
                                           compression=None, open_timeout=120, ping_interval=None, max_queue=4,
                                           local_addr=(source_ip, 0))
        self.incarnation += 1
        if self.bench.kill_at is not None and self.first_after is None:
            self.first_after = self.incarnation
        reader = asyncio.ensure_future(self.read(self.ws, self.incarnation))
        await self.request("Heartbeat", {}, None)  # the server has registered it once this answers
        self.online = True
        if self.bench.kill_at is not None and self.reconnected_at is None:
            self.reconnected_at = time.perf_counter()
        return reader

    async def read(self, ws, incarnation: int) -> None:
        try:
            async for raw in ws:
                msg = json.loads(raw)
                if msg[0] == 2:  # a command from the central system
                    marker = (msg[3].get("key") or ["?"])[0] if isinstance(msg[3], dict) else "?"
                    # Stale: this socket is no longer the charger's newest (cannot happen while we keep one open).
                    stale = incarnation != self.incarnation
                    self.bench.received.setdefault(marker, []).append((self.n, incarnation, stale))
                    await ws.send(json.dumps([3, msg[1], {"configurationKey": [], "unknownKey": [marker]}]))
                else:
                    future = self.pending.pop(msg[1], None)
                    if future is not None and not future.done():
                        future.set_result(msg)
        except websockets.ConnectionClosed:
            pass
        finally:
            if incarnation == self.incarnation:
                self.online = False
            for future in self.pending.values():
                if not future.done():
                    future.set_exception(ConnectionError("closed"))
                    future.exception()  # whoever awaits it still gets it; nobody awaiting is no error
            self.pending.clear()

    async def request(self, action: str, payload: dict, latencies: list | None) -> dict:
        uid = f"{self.n}-{time.monotonic_ns()}"
        future = asyncio.get_running_loop().create_future()
        self.pending[uid] = future
        t0 = time.perf_counter()
        await self.ws.send(json.dumps([2, uid, action, payload]))
        answer = await asyncio.wait_for(future, 120)
        if latencies is not None:
            latencies.append(time.perf_counter() - t0)
        if answer[0] != 3:
            raise RuntimeError(f"{action}: {answer}")
        return answer[2]


async def paced(bench: Bench, chargers: list[Charger], rate: float, seconds: float, kind: str) -> None:
    """Open-loop load: `rate` requests/s on random online, idle chargers (one call at a time each)."""
    tick = 0.05
    end = time.perf_counter() + seconds
    owed = 0.0

    async def one(c: Charger) -> None:
        c.busy = True
        try:
            if kind == "MeterValues":
                bench.seq += 1
                reading = bench.seq
                try:
                    sample = {"value": str(reading), "measurand": "Energy.Active.Import.Register", "unit": "Wh"}
                    await c.request("MeterValues", {"connectorId": 1, "meterValue": [
                        {"timestamp": iso(), "sampledValue": [sample]}]}, bench.mv_lat)
                    bench.acked.append(reading)
                except (ConnectionError, websockets.ConnectionClosed, TimeoutError):
                    bench.unanswered += 1
            else:
                try:
                    await c.request("Heartbeat", {}, bench.hb_lat)
                except (ConnectionError, websockets.ConnectionClosed, TimeoutError):
                    pass
        finally:
            c.busy = False

    tasks = set()
    while time.perf_counter() < end:
        owed += rate * tick
        while owed >= 1:
            owed -= 1
            for _ in range(5):  # a few tries to find an online, idle charger
                c = random.choice(chargers)
                if c.online and not c.busy:
                    t = asyncio.ensure_future(one(c))
                    tasks.add(t)
                    t.add_done_callback(tasks.discard)
                    break
        await asyncio.sleep(tick)
    if tasks:
        await asyncio.gather(*tasks)


async def commands(bench: Bench, chargers: list[Charger], rate: float, seconds: float, timeout: float,
                   engine, scope, ids: dict[str, int], sent: list) -> None:
    from services.ocpp.commands import send_command_async

    end = time.perf_counter() + seconds
    tasks = []
    n = 0
    while time.perf_counter() < end:
        c = random.choice(chargers)
        n += 1
        marker = f"bench-{n}"
        created = time.perf_counter()

        async def one(c=c, marker=marker, created=created):
            r = await send_command_async(engine=engine, scope=scope, charger_id=ids[c.ocpp_id],
                                         action="GetConfiguration", payload={"key": [marker]}, timeout=timeout)
            sent.append((marker, c.n, created, r))

        tasks.append(asyncio.ensure_future(one()))
        await asyncio.sleep(1 / rate)
    await asyncio.gather(*tasks)


def haproxy(ports: list[int], run_dir: Path) -> tuple[subprocess.Popen, int, int]:
    from demo.cluster import HAPROXY, haproxy_config

    port = _free_port()
    cfg = run_dir / "haproxy.cfg"
    cfg.write_text(haproxy_config(ocpp_port=port, ocpp_ports=ports, web_port=_free_port(), web_ports=[_free_port()],
                                  runtime_socket=run_dir / "haproxy.sock"))
    maxconn = int(next(line.split()[1] for line in cfg.read_text().splitlines() if line.strip().startswith("maxconn")))
    proc = subprocess.Popen([HAPROXY, "-db", "-f", str(cfg)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return proc, port, maxconn


def _health(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as res:
            return res.status == 200
    except OSError:
        return False


def _usage(ps: psutil.Process) -> tuple[float, float]:
    try:
        return sum(ps.cpu_times()[:2]), ps.memory_info().rss / 2**20
    except psutil.Error:
        return float("nan"), float("nan")


async def main(args) -> None:
    print("command: " + " ".join([Path(sys.executable).name, *sys.argv]))
    print(f"start: {machine_load()}")
    low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
    print(f"ephemeral ports {low}-{high} ({int(high) - int(low) + 1}) per source IP and destination")
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # HAProxy and the servers inherit it
    if hard < args.chargers * 2 + 1000:
        raise SystemExit(f"fd limit {hard} is too low for {args.chargers} chargers through HAProxy (two sockets "
                         f"each in HAProxy): raise `ulimit -Hn` to {args.chargers * 2 + 1000} or more")
    from tests.db import LOCAL

    url = prepare_database(args.server_url or LOCAL, args.chargers)
    # Liveness as deployed unless told otherwise; both processes use the same settings.
    os.environ["OCPP_PROCESS_RENEW_SECONDS"] = str(args.renew)
    os.environ["OCPP_PROCESS_DEAD_AFTER_SECONDS"] = str(args.dead_after)
    run_dir = Path(tempfile.mkdtemp(prefix="ocpp-failover-"))
    ports = [_free_port(), _free_port()]
    servers = [start_server(url, p, str(run_dir / f"ocpp{i + 1}.log")) for i, p in enumerate(ports)]
    proxy, hport, maxconn = haproxy(ports, run_dir)
    engine = None
    try:
        if maxconn < args.chargers:
            raise SystemExit(f"HAProxy maxconn {maxconn} (from the fd limit) is below {args.chargers} chargers")
        deadline = time.perf_counter() + 30
        while not _health(hport):
            if time.perf_counter() > deadline:
                raise SystemExit("HAProxy did not come up")
            await asyncio.sleep(0.2)
        from sqlmodel import Session, select

        from core.db import get_engine
        from models import Charger as ChargerRow
        from services.access.scope import scope_for
        from tests.utils.factories import make_user

        engine = get_engine()
        with Session(engine) as s:
            scope = scope_for(s, make_user(s, role="admin"))
            ids = dict(s.exec(select(ChargerRow.ocpp_id, ChargerRow.id)).all())
        bench = Bench()
        chargers = [Charger(bench, n) for n in range(args.chargers)]
        ips = [f"127.0.0.{i + 1}" for i in range(args.source_ips)]
        sem = asyncio.Semaphore(args.parallel)

        async def live(c: Charger) -> None:
            """Stay connected: after a close, wait a random 0..jitter s and reconnect; retry failures with backoff."""
            delay = 1.0
            while not bench.stopping:
                try:
                    # The first connections are paced by --parallel; after the kill the chargers come back as
                    # real ones do, spread only by their jitter.
                    async with sem if bench.kill_at is None else contextlib.nullcontext():
                        reader = await c.connect(f"ws://127.0.0.1:{hport}", ips[c.n % len(ips)])
                except (OSError, websockets.InvalidHandshake, websockets.ConnectionClosed, TimeoutError,
                        ConnectionError, RuntimeError):
                    if bench.kill_at is None:
                        bench.initial_failures += 1
                    else:
                        bench.connect_failures += 1
                    await asyncio.sleep(delay * (0.5 + random.random()))
                    delay = min(delay * 2, 30)
                    continue
                delay = 1.0
                await reader
                if bench.stopping:
                    return
                await asyncio.sleep(random.random() * args.jitter)

        t0 = time.perf_counter()
        lives = [asyncio.ensure_future(live(c)) for c in chargers]
        while sum(c.online for c in chargers) < args.chargers:
            if time.perf_counter() - t0 > args.connect_limit:
                raise SystemExit(f"only {sum(c.online for c in chargers)} of {args.chargers} chargers connected "
                                 f"within {args.connect_limit:g} s ({bench.initial_failures} failed attempts)")
            await asyncio.sleep(0.5)
        connect_s = time.perf_counter() - t0
        await asyncio.sleep(3)
        with psycopg.connect(url) as conn:
            procs = dict(conn.execute("SELECT pid, id FROM ocpp_process").fetchall())
            held = dict(conn.execute("SELECT connection_process_id, count(*) FROM charger WHERE connected"
                                     " GROUP BY 1").fetchall())
        pss = [psutil.Process(s.pid) for s in servers]
        victim, survivor = procs[servers[0].pid], procs[servers[1].pid]
        print(f"{args.chargers} chargers through HAProxy (maxconn {maxconn}, {len(ips)} source IPs) connected in "
              f"{connect_s:.1f} s ({bench.initial_failures} failed attempts retried): "
              f"{held.get(victim, 0)} on process {victim} (pid {servers[0].pid}), "
              f"{held.get(survivor, 0)} on process {survivor} (pid {servers[1].pid})")
        usage0 = [_usage(p) for p in pss]
        print("  before the run: " + ", ".join(f"pid {p.pid} CPU {u[0]:.1f} s, RSS {u[1]:.0f} MiB"
                                                for p, u in zip(pss, usage0, strict=True)))

        sent: list = []
        run_s = args.kill_after + args.after
        meter = chargers[:args.meter_chargers]
        # Commands stop being sent early enough for the last ones to settle within the run.
        command_s = max(1.0, run_s - args.command_timeout - 5)
        loads = [asyncio.ensure_future(paced(bench, meter, args.meter_rate, run_s, "MeterValues")),
                 asyncio.ensure_future(paced(bench, chargers, args.heartbeat_rate, run_s, "Heartbeat")),
                 asyncio.ensure_future(commands(bench, chargers, args.command_rate, command_s, args.command_timeout,
                                                engine, scope, ids, sent))]
        await asyncio.sleep(args.kill_after)

        with psycopg.connect(url) as conn:
            # Which process holds each charger's first socket; every later socket is on the survivor.
            first_holder = dict(conn.execute("SELECT ocpp_id, connection_process_id FROM charger").fetchall())
        theirs = {ocpp_id for ocpp_id, pid in first_holder.items() if pid == victim}
        victim_usage = _usage(pss[0])
        survivor_before = _usage(pss[1])
        kill_wall = datetime.now(UTC)
        servers[0].kill()
        bench.kill_at = time.perf_counter()
        db_done = None
        poll_end = bench.kill_at + args.after
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
            while time.perf_counter() < poll_end:
                cur = await conn.execute("SELECT count(*) FROM charger WHERE ocpp_id = ANY(%s) AND connected"
                                         " AND connection_process_id = %s", (list(theirs), survivor))
                back = (await cur.fetchone())[0]
                if back == len(theirs):
                    db_done = time.perf_counter() - bench.kill_at
                    survivor_failover = _usage(pss[1])
                    break
                await asyncio.sleep(0.25)
        victims = [c for c in chargers if c.ocpp_id in theirs]
        await asyncio.gather(*loads)
        survivor_after = _usage(pss[1])
        elapsed_after = time.perf_counter() - bench.kill_at
        bench.stopping = True
        print(f"  victim before the kill: CPU {victim_usage[0] - usage0[0][0]:.1f} s during the run, "
              f"RSS {victim_usage[1]:.0f} MiB")

        # --- the checks ---
        client_times = [c.reconnected_at - bench.kill_at for c in victims if c.reconnected_at is not None]
        print(f"failover: killed process {victim} holding {len(theirs)} chargers at {kill_wall:%H:%M:%S} UTC "
              f"(jitter 0..{args.jitter:g} s, liveness renew {args.renew:g} s, dead after {args.dead_after:g} s)")
        print("  all its chargers Online on the survivor (database): "
              + (f"{db_done:.1f} s after the kill" if db_done is not None else f"NOT within {args.after:g} s"))
        if db_done is not None:
            cpu = survivor_failover[0] - survivor_before[0]
            print(f"  survivor CPU from the kill until then: {cpu:.1f} s ({cpu / max(db_done, 1e-9) * 100:.0f}% of a "
                  f"core), {cpu / max(len(theirs), 1) * 1000:.1f} ms per charger taken over (the run's load included)")
        print(f"  reconnected (clients): {len(client_times)} of {len(theirs)}; p50 {_pct(client_times, .5) / 1000:.1f}"
              f" s, p99 {_pct(client_times, .99) / 1000:.1f} s, last "
              f"{max(client_times) if client_times else float('nan'):.1f} s after the kill; "
              f"{bench.connect_failures} failed attempts retried")

        with psycopg.connect(url) as conn:
            rows = {r[0]: r[1:] for r in conn.execute(
                "SELECT id, status, claimed_by_process_id, created_at FROM charger_command").fetchall()}
            stored = {int(v) for (v,) in conn.execute("SELECT value FROM meter_value").fetchall()}
        stale_claims = sum(1 for st, claimant, created in rows.values()
                           if claimant == victim and created > kill_wall)
        stale_sockets = sum(1 for got in bench.received.values() for (_, _, stale) in got if stale)
        outcomes: dict[str, int] = {}
        expired_received = failed_received = done_not_received = disagree = wrong_process = 0
        for marker, n, _, r in sent:
            status = str(getattr(r.status, "value", r.status))
            outcomes[status] = outcomes.get(status, 0) + 1
            got = bench.received.get(marker, [])
            if r.status == "expired" and got:
                expired_received += 1
            if r.status == "failed" and got:
                failed_received += 1
            if r.status == "done" and not (got and r.result.get("unknownKey") == [marker] and got[0][0] == n):
                done_not_received += 1
            if rows.get(r.id, (None,))[0] != r.status:
                disagree += 1
            for charger_n, incarnation, _ in got:
                after = chargers[charger_n].first_after
                moved = after is not None and incarnation >= after
                holder = survivor if moved else first_holder[f"B{charger_n:05d}"]
                if rows.get(r.id, (None, None))[1] != holder:
                    wrong_process += 1
        twice = sum(1 for got in bench.received.values() if len(got) > 1)
        print(f"commands: {len(sent)} GetConfiguration at {args.command_rate:g}/s (timeout {args.command_timeout:g} s):"
              f" {outcomes}; caller and row disagree on {disagree}")
        errors: dict[str, int] = {}
        for _, _, _, r in sent:
            if r.error:
                errors[r.error] = errors.get(r.error, 0) + 1
        for error, count in sorted(errors.items(), key=lambda e: -e[1]):
            print(f"    {count} x {error}")
        print(f"  claimed by the dead process after the kill: {stale_claims} (must be 0)")
        print(f"  received on a socket not held by the process that claimed the command: {wrong_process} (must be 0)")
        print(f"  received on a socket the charger had replaced: {stale_sockets} (must be 0); received twice: {twice}")
        print(f"  expired but received: {expired_received} (must be 0); failed and received: {failed_received} "
              f"(sent to the victim before it died, or answered too late); done without the charger's answer: "
              f"{done_not_received} (must be 0)")
        acked = set(bench.acked)
        lost = [v for v in bench.acked if v not in stored]
        print(f"MeterValues: {len(bench.acked)} acknowledged, {len(lost)} of them missing from the database "
              f"(must be 0); {bench.unanswered} unanswered when their socket closed (not acknowledged; "
              f"{sum(1 for v in stored if v not in acked)} readings stored without an answer); "
              f"p50 {_pct(bench.mv_lat, .5):.0f} ms, p99 {_pct(bench.mv_lat, .99):.0f} ms")
        print(f"heartbeats: {len(bench.hb_lat)} answered, p50 {_pct(bench.hb_lat, .5):.0f} ms, "
              f"p99 {_pct(bench.hb_lat, .99):.0f} ms")
        print(f"survivor: CPU {survivor_after[0] - survivor_before[0]:.1f} s in the {elapsed_after:.0f} s after "
              f"the kill ({100 * (survivor_after[0] - survivor_before[0]) / elapsed_after:.0f}% of a core), "
              f"RSS {survivor_before[1]:.0f} -> {survivor_after[1]:.0f} MiB; this process "
              f"{sum(resource.getrusage(resource.RUSAGE_SELF)[:2]):.1f} s CPU in all")
        for c in chargers:
            if c.ws is not None:
                await c.ws.close()
        await asyncio.gather(*lives, return_exceptions=True)
    finally:
        for s in servers:
            if s.poll() is None:
                s.terminate()
                s.wait(timeout=120)
        proxy.terminate()
        proxy.wait(timeout=30)
        if engine is not None:
            engine.dispose()
        if not args.keep:
            from tests.db import drop_database

            drop_database(url)
        print(f"end: {machine_load()}; server logs in {run_dir}")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--chargers", type=int, default=20000)
    p.add_argument("--parallel", type=int, default=200, help="handshakes in flight at once (first connections)")
    p.add_argument("--connect-limit", type=float, default=900, help="give up if not all connected by then (s)")
    p.add_argument("--meter-chargers", type=int, default=2000, help="chargers sending MeterValues")
    p.add_argument("--meter-rate", type=float, default=500, help="MeterValues/s in all")
    p.add_argument("--heartbeat-rate", type=float, default=200, help="heartbeats/s in all")
    p.add_argument("--command-rate", type=float, default=20, help="GetConfiguration commands/s")
    p.add_argument("--command-timeout", type=float, default=30)
    p.add_argument("--kill-after", type=float, default=30, help="seconds into the run to kill -9 one process")
    p.add_argument("--after", type=float, default=90, help="seconds the run goes on after the kill")
    p.add_argument("--jitter", type=float, default=10, help="reconnect after a random 0..JITTER s")
    p.add_argument("--source-ips", type=int, default=4, help="client sockets from 127.0.0.1..N")
    p.add_argument("--renew", type=float, default=3.0, help="OCPP_PROCESS_RENEW_SECONDS")
    p.add_argument("--dead-after", type=float, default=9.0, help="OCPP_PROCESS_DEAD_AFTER_SECONDS")
    p.add_argument("--server-url", help="PostgreSQL server for the scratch database (default: local)")
    p.add_argument("--keep", action="store_true", help="keep the scratch database")
    asyncio.run(main(p.parse_args()))
