"""1,000 waiting commands and the rest of the API: does a wait hold a database connection or a thread?

    python bench/commands_wait.py [--waiting 1000] [--timeout 20]

A scratch database with 200 chargers; `python -m ocpp_server` with one charger connected that never answers our
CALLs. `--waiting` commands are sent at once with `send_command_async` (what POST /chargers/{id}/commands
calls) on one event loop; while they wait, the charger list (`list_chargers`, what GET /chargers calls) is read
20 times through the same engine and pool, on the loop's default executor (where the API's other blocking calls
run). Reports the pool's checked-out connections during the wait, the list's p50/p99/max, the outcomes as the
callers saw them and as the rows say (they must agree; an expired command was never sent), CPU time and the load
average at the start and the end.
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import os
import sys
import time
from pathlib import Path

import websockets

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402
import psycopg  # noqa: E402

from bench.ocpp_load import KEY, _free_port, _pct, machine_load, prepare_database, start_server  # noqa: E402


def _list(engine, scope, list_chargers, session_cls) -> None:
    with session_cls(engine) as session:
        list_chargers(session=session, scope=scope, limit=50)


async def main(args) -> None:
    print("command: " + " ".join([Path(sys.executable).name, *sys.argv]))
    print(f"start: {machine_load()}")
    url = prepare_database(os.environ.get("BENCH_SERVER_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
                           200)
    from sqlmodel import Session, select

    from core.db import get_engine
    from models import Charger, Organization
    from services.access.scope import scope_for
    from services.network.chargers import list_chargers
    from services.ocpp.commands import send_command_async
    from tests.utils.factories import make_user

    engine = get_engine()
    with Session(engine) as s:
        org_slug = s.exec(select(Organization.slug)).first()
        scope = scope_for(s, make_user(s, role="admin"))
        charger_id = s.exec(select(Charger.id).where(Charger.ocpp_id == "B00000")).one()
    port = _free_port()
    server = start_server(url, port)
    try:
        auth = base64.b64encode(f"B00000:{KEY}".encode()).decode()
        ws = await websockets.connect(f"ws://127.0.0.1:{port}/ocpp/B00000", subprotocols=["ocpp1.6"],
                                      additional_headers={"Authorization": f"Basic {auth}"})
        await ws.send('[2,"hb","Heartbeat",{}]')
        await ws.recv()  # connected; from now on our CALLs are read and never answered

        received = set()  # the ids of the commands' CALLs that reached the charger

        async def deaf():
            async for frame in ws:
                received.add(frame)

        reader = asyncio.create_task(deaf())
        ps = psutil.Process(server.pid)
        server_cpu0, me0 = sum(ps.cpu_times()[:2]), time.process_time()
        t0 = time.perf_counter()
        waits = [asyncio.create_task(send_command_async(engine=engine, scope=scope, charger_id=charger_id,
                                                        action="Reset", payload={"type": "Soft"},
                                                        timeout=args.timeout)) for _ in range(args.waiting)]
        # The list starts at once, while the burst is still being created, and goes on while the commands wait.
        checked_out, lat = [], []
        for _ in range(args.reads):
            checked_out.append(engine.pool.checkedout())
            t = time.perf_counter()
            await asyncio.to_thread(_list, engine, scope, list_chargers, Session)
            lat.append(time.perf_counter() - t)
            await asyncio.sleep(0.25)
        created = time.perf_counter() - t0
        results = await asyncio.gather(*waits)
        elapsed = time.perf_counter() - t0
        server_cpu, me = sum(ps.cpu_times()[:2]) - server_cpu0, time.process_time() - me0
        seen = {}
        for r in results:
            seen[r.status] = seen.get(r.status, 0) + 1
        with psycopg.connect(url) as conn:
            rows = dict(conn.execute("SELECT id, status FROM charger_command").fetchall())
        disagree = sum(1 for r in results if rows.get(r.id) != r.status)
        print(f"{args.waiting} commands waiting on a silent charger (timeout {args.timeout:g} s), org {org_slug}")
        print(f"  pooled connections checked out during the wait: max {max(checked_out)} "
              f"(pool 10 + 20 overflow)")
        print(f"  list_chargers ({args.reads} reads over the first {created:.1f} s, from the start of the burst): "
              f"p50 {_pct(lat, .5):.0f} ms, p99 {_pct(lat, .99):.0f} ms, max {max(lat) * 1000:.0f} ms")
        print(f"  outcomes after {elapsed:.1f} s: expired (never sent) {seen.get('expired', 0)}, "
              f"failed {seen.get('failed', 0)}, done {seen.get('done', 0)}; "
              f"caller and row disagree on {disagree}")
        # A CALL's unique id is not the command's id: count them. Every sent command reached the charger; no
        # expired one did, so the charger's count is the failed count (no command here is answered).
        print(f"  CALLs the charger received: {len(received)} (must equal failed: expired ones are never sent)")
        errors = {}
        for r in results:
            errors[r.error] = errors.get(r.error, 0) + 1
        for error, n in sorted(errors.items(), key=lambda e: -e[1]):
            print(f"    {n} x {error}")
        print(f"  CPU: OCPP server {server_cpu:.1f} s ({server_cpu / args.waiting * 1000:.1f} ms per command), "
              f"this process (API side) {me:.1f} s ({me / args.waiting * 1000:.1f} ms per command)")
        reader.cancel()
        await ws.close()
    finally:
        server.terminate()
        server.wait(timeout=60)
        engine.dispose()
        from tests.db import drop_database

        drop_database(url)
        print(f"end: {machine_load()}")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--waiting", type=int, default=1000)
    p.add_argument("--timeout", type=float, default=20)
    p.add_argument("--reads", type=int, default=40, help="charger list reads, 0.25 s apart")
    asyncio.run(main(p.parse_args()))
