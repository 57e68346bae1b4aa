"""`make run`: database, migrations, demo data, then every process under one honcho manager."""
from __future__ import annotations

import os
import sys
from pathlib import Path

from honcho.manager import Manager

from core import embedded_db
from core.config import ROOT, get_settings
from core.db import database_url, session_scope
from core.migrate import upgrade
from demo.grid import demo_grid_env
from demo.logins import print_logins
from demo.seed import DEMO_CHARGER_KEY, demo_charger_ids, seed_demo


def _processes(*, ocpp_url: str, charger_ids: list[str], chargers: int) -> list[tuple[str, str]]:
    py = sys.executable
    port = get_settings().web_port
    procs = [("web", f"{py} -m reflex run --env prod --single-port --frontend-port {port} --loglevel warning")]
    # Each part joins the stack once it exists in the code base.
    if (ROOT / "ocpp_server" / "__main__.py").exists():
        procs.append(("ocpp", f"{py} -m ocpp_server"))
    if (ROOT / "worker" / "__main__.py").exists():
        procs.append(("worker", f"{py} -m worker"))
    if (ROOT / "ocpp_server" / "simulator.py").exists() and chargers > 0 and charger_ids:
        ids = ",".join(charger_ids[:chargers])
        procs.append(("chargers", f"{py} -m ocpp_server.simulator --url {ocpp_url} --ids {ids} "
                                  f"--auth-key {DEMO_CHARGER_KEY} --wait-for-server 60"))
    if get_settings().demo_mode:  # stand-in for Elexon BMRS, ENTSO-E and CEB
        port = os.environ.get("GRID_STANDIN_PORT", "8741")
        procs.append(("grid-sources", f"{py} -m demo.grid_standin --port {port}"))
    return procs


def run_stack(*, chargers: int = 8) -> int:
    settings = get_settings()
    if settings.demo_mode:  # the grid monitor plays its recorded day and reads the stand-in (demo/grid.py)
        os.environ.update(demo_grid_env(os.environ))
        get_settings.cache_clear()
        settings = get_settings()
    embedded = not settings.database_url
    url = database_url()
    print(f"Database: {'embedded PostgreSQL under ' + str(settings.data_dir) if embedded else 'DATABASE_URL'}")
    upgrade(url)
    logins, charger_ids = [], []
    if settings.demo_mode:
        with session_scope() as s:
            result = seed_demo(session=s)
            charger_ids = demo_charger_ids(session=s)
        logins = result.logins

    env = dict(os.environ, DATABASE_URL=url, PYTHONUNBUFFERED="1")
    ocpp_url = f"ws://127.0.0.1:{settings.ocpp_port}/ocpp"
    manager = Manager()
    for name, cmd in _processes(ocpp_url=ocpp_url, charger_ids=charger_ids, chargers=chargers):
        manager.add_process(name, cmd, env=env, cwd=str(ROOT))

    print("\n" + "=" * 64)
    print(f"  Voltdesk web app   {settings.public_url}  (ready after the frontend build, ~30 s)")
    print(f"  REST API           {settings.public_url}/api/v1/docs")
    print(f"  OCPP endpoint      ws://<host>:{settings.ocpp_port}/ocpp/<charge_point_id>")
    if settings.demo_mode:
        print(f"  Grid monitor       {settings.public_url}/grid  (replayed day; the frequency drops to 49.7 Hz"
              " about 2.5 min after start)")
    if logins:
        print_logins(logins)
    print("  Ctrl-C stops everything.")
    print("=" * 64 + "\n", flush=True)
    try:
        manager.loop()
    finally:
        if embedded:
            embedded_db.stop(Path(settings.data_dir))
            print("Embedded PostgreSQL stopped.")
    return manager.returncode or 0
