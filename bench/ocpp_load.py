"""OCPP load benchmark: one server process (pinned to CPU 0), this load generator on CPU 1, real PostgreSQL.

    python bench/ocpp_load.py [--connections 10000] [--meter-chargers 500] [--meter-rate 2500] [--seconds 30]
    python bench/ocpp_load.py --connections 2000 --parallel 200 --connect-only   # handshakes only

It creates a scratch database (migrated), registers the chargers, starts `python -m ocpp_server` and reports:
handshakes/s and server CPU per handshake, connections held, server RSS per idle connection, messages/s,
p50/p99 response time under heartbeats and under MeterValues load, and MeterValues persisted/s (rows counted
in the database), with the load average at start and end. Frames are built by hand on raw websockets so the
generator is not the bottleneck.
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import json
import logging
import os
import random
import resource
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import psutil
import psycopg
import websockets

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
KEY = "bench-auth-key-0123456789"

from ocpp_server.stalls import StallMonitor  # noqa: E402  (after the sys.path line)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))] * 1000


def prepare_database(server_url: str, connections: int) -> str:
    """A fresh database with the migrations and `connections` registered chargers (one org, one idTag)."""
    os.environ.setdefault("SECRET_KEY", "bench-secret-key-" + "x" * 40)
    os.environ["DEMO_MODE"] = "0"
    from tests import db as testdb

    url = testdb.create_database(server_url)
    os.environ["DATABASE_URL"] = url
    from core.db import normalize_url
    from core.migrate import upgrade
    from services.network.chargers import hash_auth_key

    upgrade(normalize_url(url))
    with psycopg.connect(url, autocommit=True) as conn:
        op = conn.execute("INSERT INTO organization (kind, slug, name, currency, timezone, region, billing_cycle,"
                          " billing_day, payment_terms_days, vat_rate, ssc_levy_rate, platform_commission_rate,"
                          " gateway_fee_percent, gateway_fee_fixed, energy_cost_per_kwh) VALUES ('operator',"
                          " 'bench', 'Bench', 'USD', 'UTC', 'US', 'monthly', 1, 30, 0, 0, 0, 0, 0, 0)"
                          " RETURNING id").fetchone()[0]
        conn.execute("INSERT INTO id_tag (tag, organization_id, status, holder_name) VALUES ('BENCH', %s,"
                     " 'Accepted', 'Bench')", (op,))
        key_hash = hash_auth_key(KEY)
        with conn.cursor() as cur, cur.copy("COPY charger (ocpp_id, organization_id, name, address,"
                                            " lifecycle_status, visible, security_profile, auth_key_hash, status,"
                                            " connected) FROM STDIN") as copy:
            for n in range(connections):
                copy.write_row((f"B{n:05d}", op, f"B{n:05d}", "", "Active", True, 1, key_hash, "Offline", False))
        conn.execute("INSERT INTO connector (charger_id, connector_id, standard, status)"
                     " SELECT id, 1, 'Type2', 'Offline' FROM charger")
    return url


def _report_frame_log(url: str, chargers: int) -> None:
    """Frame log size: bytes per stored frame (table + indexes over every day partition), and what a day costs
    per 1,000 chargers at a heartbeat every 5 min, a status change an hour and one MeterValues a minute during
    4 hours of charging (two frames per exchange)."""
    with psycopg.connect(url) as conn:
        size, rows = conn.execute(
            "SELECT sum(pg_total_relation_size(i.inhrelid)), (SELECT count(*) FROM ocpp_message)"
            " FROM pg_inherits i WHERE i.inhparent = 'ocpp_message'::regclass").fetchone()
    if not rows:
        return
    per_frame = size / rows
    frames_per_charger_day = 2 * (24 * 12 + 24 + 4 * 60)
    print(f"frame log:                   {rows} frames, {size / 2**20:.1f} MiB, {per_frame:.0f} bytes per frame; "
          f"{per_frame * frames_per_charger_day * 1000 / 2**30:.2f} GiB per 1,000 chargers per day "
          f"({frames_per_charger_day} frames per charger per day)")


def start_server(url: str, port: int, log_path: str | None = None) -> subprocess.Popen:
    env = dict(os.environ, DATABASE_URL=url, OCPP_HOST="127.0.0.1", OCPP_PORT=str(port),
               OCPP_HEARTBEAT_INTERVAL="300", OCPP_OFFLINE_GRACE_SECONDS="600")
    proc = subprocess.Popen([sys.executable, "-m", "ocpp_server"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    for line in proc.stdout:
        if "OCPP server ready" in line:
            break
    else:
        raise SystemExit("the OCPP server did not start")
    # Drain its log so the pipe never blocks it.
    import threading

    def drain() -> None:
        with open(log_path or os.devnull, "w") as out:
            for line in proc.stdout:
                out.write(line)
                out.flush()

    threading.Thread(target=drain, daemon=True).start()
    return proc


class Client:
    __slots__ = ("n", "tx", "ws")

    def __init__(self, ws, n):
        self.ws, self.n, self.tx = ws, n, None

    async def request(self, action: str, payload: dict, latencies: list | None) -> dict:
        uid = f"{self.n}-{time.monotonic_ns()}"
        t0 = time.perf_counter()
        await self.ws.send(json.dumps([2, uid, action, payload]))
        answer = json.loads(await self.ws.recv())
        if latencies is not None:
            latencies.append(time.perf_counter() - t0)
        if answer[0] != 3:
            raise RuntimeError(f"{action}: {answer}")
        return answer[2]


async def open_connections(port: int, count: int, parallel: int = 200) -> list[Client]:
    sem = asyncio.Semaphore(parallel)
    clients: list[Client] = []

    async def one(n: int) -> None:
        ocpp_id = f"B{n:05d}"
        auth = base64.b64encode(f"{ocpp_id}:{KEY}".encode()).decode()
        async with sem:
            ws = await websockets.connect(f"ws://127.0.0.1:{port}/ocpp/{ocpp_id}", subprotocols=["ocpp1.6"],
                                          additional_headers={"Authorization": f"Basic {auth}"},
                                          compression=None, open_timeout=120, ping_interval=None, max_queue=4)
            c = Client(ws, n)
            await c.request("Heartbeat", {}, None)  # the server has registered it once this answers
            clients.append(c)

    await asyncio.gather(*(one(n) for n in range(count)))
    return clients


async def paced(clients: list[Client], rate: float, seconds: float, make, latencies: list) -> int:
    """Open-loop load: `rate` requests/s spread over the clients, each client one request at a time."""
    per_client = rate / len(clients)
    sent = 0
    deadline = time.perf_counter() + seconds

    async def run(c: Client) -> None:
        nonlocal sent
        period = 1 / per_client
        next_at = time.perf_counter() + random.random() * period
        while True:
            delay = min(next_at, deadline) - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if time.perf_counter() >= deadline:
                return
            action, payload = make(c)
            await c.request(action, payload, latencies)
            sent += 1
            next_at += period

    await asyncio.gather(*(run(c) for c in clients))
    return sent


def iso() -> str:
    return datetime.now(UTC).isoformat()


def meter_payload(c: Client) -> tuple[str, dict]:
    wh = int(time.monotonic() * 10) % 10**9
    return "MeterValues", {"connectorId": 1, "transactionId": c.tx, "meterValue": [
        {"timestamp": iso(), "sampledValue": [{"value": str(wh), "measurand": "Energy.Active.Import.Register",
                                               "unit": "Wh"}]}]}


def _cpu(ps) -> tuple[float, float]:
    me = resource.getrusage(resource.RUSAGE_SELF)
    return sum(ps.cpu_times()[:2]), me.ru_utime + me.ru_stime


def _postgres_cpu() -> float:
    """CPU seconds of this machine's PostgreSQL processes (the scratch database's backends among them)."""
    total = 0.0
    for proc in psutil.process_iter(["name"]):
        if proc.info["name"] in ("postgres", "postmaster"):
            try:
                total += sum(proc.cpu_times()[:2])
            except psutil.Error:
                pass
    return total


def _report_cpu(ps, before: tuple[float, float], seconds: float, pg_before: float | None = None,
                units: int = 0) -> tuple[float, float]:
    now = _cpu(ps)
    line = (f"  CPU use:                   server {100 * (now[0] - before[0]) / seconds:.0f}% of a core, "
            f"load generator {100 * (now[1] - before[1]) / seconds:.0f}%")
    if pg_before is not None:
        pg = _postgres_cpu() - pg_before
        line += f", PostgreSQL {100 * pg / seconds:.0f}%"
        if units:
            line += (f"; per MeterValues: server {1000 * (now[0] - before[0]) / units:.3f} ms, PostgreSQL "
                     f"{1000 * pg / units:.3f} ms (backends that ended meanwhile are not counted)")
    print(line)
    return now


def machine_load() -> str:
    """Load average and CPU pressure: the benchmark shares its two cores with whatever else runs."""
    load = Path("/proc/loadavg").read_text().split()[:3]
    try:
        some = Path("/proc/pressure/cpu").read_text().split("\n")[0].split()[1]
    except (OSError, IndexError):
        some = "n/a"
    return f"loadavg {' '.join(load)}, cpu pressure {some}"


def schedstat(pid: int) -> tuple[float, float]:
    """Seconds the process's threads ran on a CPU and waited runnable for one (Linux /proc/PID/task/*/schedstat)."""
    ran = waited = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            fields = (task / "schedstat").read_text().split()
        except OSError:
            continue
        ran += int(fields[0])
        waited += int(fields[1])
    return ran / 1e9, waited / 1e9


def _report_sched(pid: int, before: tuple[float, float], seconds: float) -> tuple[float, float]:
    now = schedstat(pid)
    print(f"  server scheduling:         on a CPU {100 * (now[0] - before[0]) / seconds:.0f}% of the time, "
          f"runnable but waiting for a CPU {100 * (now[1] - before[1]) / seconds:.0f}%")
    return now


def start_profile(pid: int, seconds: float, out: str, tool: str) -> subprocess.Popen:
    """Sample the server with py-spy (non-blocking, so the profile does not pause it) into collapsed stacks."""
    return subprocess.Popen([tool, "record", "--pid", str(pid), "--duration", str(int(seconds)), "--rate", "200",
                             "--nonblocking", "--format", "raw", "--output", out],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def count_rows(url: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM meter_value").fetchone()[0]


async def _stop(server: subprocess.Popen, clients: list[Client], ps) -> None:
    t_stop = time.perf_counter()
    server.terminate()
    # Waited for off the loop, so the chargers answer the server's close frames as real ones do.
    await asyncio.to_thread(server.wait, 120)
    print(f"server stop with {len(clients)} connections: {time.perf_counter() - t_stop:.1f} s "
          f"(every charger marked Offline)")
    for c in clients:
        await c.ws.close()


async def main(args) -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if hard < args.connections + 100:
        raise SystemExit(f"fd limit {hard} is too low for {args.connections} connections")
    from tests.db import LOCAL

    url = prepare_database(args.server_url or LOCAL, args.connections)
    port = _free_port()
    server = start_server(url, port, args.server_log)
    ps = psutil.Process(server.pid)
    try:
        if len(os.sched_getaffinity(0)) >= 2:
            os.sched_setaffinity(server.pid, {0})
            os.sched_setaffinity(0, {1})
        if args.server_nice:
            # Emulates a core of its own on a shared machine (other processes still run, at a lower weight).
            os.setpriority(os.PRIO_PROCESS, server.pid, args.server_nice)
        await asyncio.sleep(1)
        print(f"command: {' '.join(sys.argv)}")
        print(f"at start: {machine_load()}")
        rss_idle = ps.memory_info().rss
        cpu = _cpu(ps)
        t0 = time.perf_counter()
        clients = await open_connections(port, args.connections, args.parallel)
        connect_s = time.perf_counter() - t0
        connect_cpu = _cpu(ps)[0] - cpu[0]
        print(f"handshakes:                  {len(clients)} in {connect_s:.2f} s = {len(clients) / connect_s:.0f}/s "
              f"({args.parallel} in flight); server CPU {connect_cpu:.2f} s = "
              f"{1000 * connect_cpu / len(clients):.2f} ms per handshake (each with its first Heartbeat; "
              f"target <= 0.6 ms)")
        print(f"  after the handshakes: {machine_load()}")
        if args.connect_only:
            await _stop(server, clients, ps)
            print(f"at end: {machine_load()}")
            return
        await asyncio.sleep(5)  # let the liveness flush and connect bookkeeping settle
        rss_conn = ps.memory_info().rss
        held = len(clients)
        per_conn = (rss_conn - rss_idle) / held / 1024
        print(f"server pid {server.pid} (nice {os.getpriority(os.PRIO_PROCESS, server.pid)}); {machine_load()}")
        print(f"connections held:            {held} (opened in {connect_s:.1f} s, {held / connect_s:.0f}/s)")
        print(f"server RSS:                  {rss_idle / 2**20:.0f} MiB idle -> {rss_conn / 2**20:.0f} MiB "
              f"with {held} connections = {per_conn:.1f} KiB per idle connection (target < 30)")

        cpu = _cpu(ps)
        sched = schedstat(server.pid)
        hb_lat: list[float] = []
        sent = await paced(clients, args.heartbeat_rate, args.seconds, lambda c: ("Heartbeat", {}), hb_lat)
        print(f"heartbeats over {held} conns: {sent / args.seconds:.0f} msg/s, p50 {_pct(hb_lat, .5):.1f} ms, "
              f"p99 {_pct(hb_lat, .99):.1f} ms")
        cpu = _report_cpu(ps, cpu, args.seconds)
        sched = _report_sched(server.pid, sched, args.seconds)

        meter_clients = clients[:args.meter_chargers]
        for c in meter_clients:
            start = await c.request("StartTransaction", {"connectorId": 1, "idTag": "BENCH", "meterStart": 0,
                                                         "timestamp": iso()}, None)
            c.tx = start["transactionId"]
        before = count_rows(url)
        print(f"  {machine_load()}")
        sched = schedstat(server.pid)
        gen_sched = schedstat(os.getpid())
        logging.getLogger("ocpp_server.stalls").setLevel(logging.ERROR)  # counted below, not logged
        gen_stalls = StallMonitor()
        gen_stalls.start()
        profiler = None
        if args.profile:
            profiler = start_profile(server.pid, args.seconds, args.profile, args.py_spy)
        mv_lat: list[float] = []
        hb_bg: list[float] = []
        cpu, pg_cpu = _cpu(ps), _postgres_cpu()
        t0 = time.perf_counter()
        idle = clients[args.meter_chargers:]
        tasks = [paced(meter_clients, args.meter_rate, args.seconds, meter_payload, mv_lat)]
        if idle:
            tasks.append(paced(idle, args.background_heartbeats, args.seconds, lambda c: ("Heartbeat", {}), hb_bg))
        results = await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - t0
        print(f"  {machine_load()}")
        _report_sched(server.pid, sched, elapsed)
        cpu = _report_cpu(ps, cpu, elapsed, pg_cpu, results[0])
        gen_now = schedstat(os.getpid())
        await gen_stalls.stop()
        print(f"  load generator scheduling: waiting for a CPU {100 * (gen_now[1] - gen_sched[1]) / elapsed:.0f}% "
              f"of the time; its own loop stalled >= 100 ms {gen_stalls.stalls} times (worst "
              f"{gen_stalls.worst * 1000:.0f} ms), which adds to the response times it measures")
        if profiler is not None:
            profiler.wait()
        # Persisted = rows in the database; wait for the last batch (at most a flush interval or two).
        deadline = time.perf_counter() + 10
        while count_rows(url) - before < results[0] and time.perf_counter() < deadline:
            await asyncio.sleep(0.2)
        persisted = count_rows(url) - before
        persisted_at = time.perf_counter() - t0
        total_msgs = sum(results)
        print(f"MeterValues load:            {results[0] / elapsed:.0f} MeterValues/s sent on "
              f"{len(meter_clients)} conns (+{(sum(results) - results[0]) / elapsed:.0f} heartbeats/s on the others)"
              f", {total_msgs / elapsed:.0f} msg/s in all")
        print(f"  response time:             p50 {_pct(mv_lat, .5):.1f} ms, p99 {_pct(mv_lat, .99):.1f} ms "
              f"(target p99 < 100 ms)")
        print(f"  persisted:                 {persisted} of {results[0]} rows, "
              f"{persisted / persisted_at:.0f} MeterValues/s persisted (target >= 2000)")
        print(f"server CPU time:             {sum(ps.cpu_times()[:2]):.1f} s; RSS at end "
              f"{ps.memory_info().rss / 2**20:.0f} MiB")
        _report_frame_log(url, len(clients))
        await _stop(server, clients, ps)
        print(f"at end: {machine_load()}")
    finally:
        if server.poll() is None:
            server.terminate()
            server.wait(timeout=60)
        if not args.keep:
            from tests.db import drop_database

            drop_database(url)


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--connections", type=int, default=10000)
    p.add_argument("--parallel", type=int, default=200, help="handshakes in flight at once")
    p.add_argument("--heartbeat-rate", type=float, default=2000, help="heartbeats/s in the heartbeat phase")
    p.add_argument("--meter-chargers", type=int, default=500)
    p.add_argument("--meter-rate", type=float, default=2500, help="MeterValues/s in the meter phase")
    p.add_argument("--background-heartbeats", type=float, default=100,
                   help="heartbeats/s from the other chargers during the meter phase")
    p.add_argument("--seconds", type=float, default=30)
    p.add_argument("--connect-only", action="store_true", help="measure the handshakes only, then stop")
    p.add_argument("--server-url", help="PostgreSQL server for the scratch database (default: local)")
    p.add_argument("--keep", action="store_true", help="keep the scratch database")
    p.add_argument("--server-nice", type=int, default=0,
                   help="scheduling priority of the server (negative = favoured; needs root)")
    p.add_argument("--server-log", metavar="FILE", help="keep the server's log (stall warnings) in FILE")
    p.add_argument("--profile", metavar="FILE",
                   help="py-spy the server during the MeterValues phase (collapsed stacks)")
    p.add_argument("--py-spy", default="py-spy", help="the py-spy executable for --profile")
    asyncio.run(main(p.parse_args()))
