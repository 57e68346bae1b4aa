"""1,000 waiting commands and the rest of the API: does a wait hold a database connection or a thread?

    python bench/commands_wait.py [--waiting 1000] [--timeout 20]

A scratch database with 200 chargers; `python -m ocpp_server` with one charger connected that never answers our
CALLs. `--waiting` commands are sent at once with `send_command_async` (what POST /chargers/{id}/commands
calls) on one event loop; while they wait, the charger list (`list_chargers`, what GET /chargers calls) is read
20 times through the same engine and pool. Reports the pool's checked-out connections during the wait and the
list's response times.
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

from bench.ocpp_load import KEY, _free_port, _pct, prepare_database, start_server  # noqa: E402


def _list(engine, scope, list_chargers, session_cls) -> None:
    with session_cls(engine) as session:
        list_chargers(session=session, scope=scope, limit=50)


async def main(args) -> None:
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

        async def deaf():
            async for _ in ws:
                pass

        reader = asyncio.create_task(deaf())
        t0 = time.perf_counter()
        waits = [asyncio.create_task(send_command_async(engine=engine, scope=scope, charger_id=charger_id,
                                                        action="Reset", payload={"type": "Soft"},
                                                        timeout=args.timeout)) for _ in range(args.waiting)]
        await asyncio.sleep(3)  # every command created and waiting
        checked_out, lat = [], []
        for _ in range(20):
            checked_out.append(engine.pool.checkedout())
            t = time.perf_counter()
            await asyncio.to_thread(_list, engine, scope, list_chargers, Session)
            lat.append(time.perf_counter() - t)
            await asyncio.sleep(0.25)
        results = await asyncio.gather(*waits)
        elapsed = time.perf_counter() - t0
        statuses = {}
        for r in results:
            statuses[r.status] = statuses.get(r.status, 0) + 1
        print(f"{args.waiting} commands waiting on a silent charger (timeout {args.timeout:g} s), org {org_slug}")
        print(f"  pooled connections checked out during the wait: max {max(checked_out)} "
              f"(pool 10 + 20 overflow)")
        print(f"  list_chargers while they wait: p50 {_pct(lat, .5):.0f} ms, max {max(lat) * 1000:.0f} ms")
        print(f"  outcomes after {elapsed:.1f} s: {statuses}")
        reader.cancel()
        await ws.close()
    finally:
        server.terminate()
        server.wait(timeout=60)
        engine.dispose()
        from tests.db import drop_database

        drop_database(url)


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--waiting", type=int, default=1000)
    p.add_argument("--timeout", type=float, default=20)
    asyncio.run(main(p.parse_args()))
