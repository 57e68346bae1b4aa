"""`make run`: database, migrations, demo data, then every process under one honcho manager."""
from __future__ import annotations

import base64
import os
import shlex
import sys
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec
from honcho.manager import Manager

from core import embedded_db
from core.config import ROOT, get_settings
from core.db import SYSTEM, database_url, session_scope
from core.migrate import upgrade
from demo import customers as demo_customers
from demo.grid import DEMO_VEN, VTN_EVENT_AFTER, VTN_EVENT_MINUTES, demo_grid_env, vtn_port
from demo.logins import print_customer_logins, print_logins
from demo.payments import webhook_urls as payment_webhook_urls
from demo.seed import DEMO_CHARGER_KEY, demo_charger_ids, seed_demo

FCM_STANDIN_PORT = int(os.environ.get("FCM_STANDIN_PORT", "8721"))
WEBPUSH_STANDIN_PORT = int(os.environ.get("WEBPUSH_STANDIN_PORT", "8722"))


def _processes(*, ocpp_url: str, charger_ids: list[str], chargers: int,
               home_ids: list[str] = ()) -> list[tuple[str, str]]:
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
    # Customers' home chargers (issue 9), charging with their owners' cards.
    depot = demo_customers.DEPOT[0]
    homes = [i for i in home_ids if i != depot]
    if (ROOT / "ocpp_server" / "simulator.py").exists() and homes:
        procs.append(("home-chargers", f"{py} -m ocpp_server.simulator --url {ocpp_url} --ids {','.join(homes)} "
                                       f"--auth-key {DEMO_CHARGER_KEY} --wait-for-server 60 "
                                       f"--id-tags {','.join(demo_customers.HOME_TAGS)}"))
    # The Enterprise fleet's depot (public charging off), charging with the fleet's own cards.
    if (ROOT / "ocpp_server" / "simulator.py").exists() and depot in home_ids:
        procs.append(("fleet-depot", f"{py} -m ocpp_server.simulator --url {ocpp_url} --ids {depot} "
                                     f"--auth-key {DEMO_CHARGER_KEY} --wait-for-server 60 "
                                     f"--id-tags {','.join(demo_customers.FLEET_TAGS)}"))
    # Notifications: the local FCM and Web Push stand-ins (demo/push_standins.py) receive every push.
    procs.append(("push", f"{py} -m demo.push_standins --fcm-port {FCM_STANDIN_PORT} "
                          f"--webpush-port {WEBPUSH_STANDIN_PORT}"))
    # Voltdesk's file endpoint for chargers (signed firmware downloads), on FILE_ENDPOINT_PORT.
    procs.append(("files", f"{py} -m ocpp_server.files"))
    if get_settings().demo_mode:  # stand-in for Elexon BMRS, ENTSO-E and CEB
        port = os.environ.get("GRID_STANDIN_PORT", "8741")
        procs.append(("grid-sources", f"{py} -m demo.grid_standin --port {port}"))
        # A utility's OpenADR 2.0b VTN, which calls Berlin eMobility's VEN to curtail a few minutes in.
        procs.append(("vtn", f"{py} -m demo.vtn_standin --port {vtn_port()} --event-for {DEMO_VEN} "
                             f"--event-after {VTN_EVENT_AFTER} --event-minutes {VTN_EVENT_MINUTES}"))
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
    upgrade()
    logins, charger_ids, home_ids = [], [], []
    webhooks: dict[str, str] = {}
    if settings.demo_mode:
        with session_scope(SYSTEM) as s:
            result = seed_demo(session=s)
            charger_ids = demo_charger_ids(session=s)
            home_ids = demo_customers.home_charger_ids(session=s)
            webhooks = payment_webhook_urls(session=s, public_url=f"http://127.0.0.1:{settings.web_port}")
        logins = result.logins

    env = dict(os.environ, DATABASE_URL=url, PYTHONUNBUFFERED="1")
    if settings.demo_mode:  # pushes go to the local stand-ins, not to Google or a browser vendor
        env.setdefault("FCM_ENDPOINT", f"http://127.0.0.1:{FCM_STANDIN_PORT}")
        env.setdefault("WEBPUSH_INSECURE_BASE", f"http://127.0.0.1:{WEBPUSH_STANDIN_PORT}")
        # A VAPID key of the demo's own (kept with its data), so staff can turn on Web Push in Account.
        env.setdefault("VAPID_PRIVATE_KEY", _demo_vapid_key(settings.data_dir))
    ocpp_url = f"ws://127.0.0.1:{settings.ocpp_port}/ocpp"
    manager = Manager()
    for name, cmd in _processes(ocpp_url=ocpp_url, charger_ids=charger_ids, chargers=chargers, home_ids=home_ids):
        manager.add_process(name, cmd, env=env, cwd=str(ROOT))
    # Payments (issue 10): the stand-in gateways the demo organizations' configuration points at.
    for gateway, url in sorted(webhooks.items()):
        # Their records are kept with the demo's data: a payment from an earlier run can still be refunded.
        state = Path(settings.data_dir) / "standins" / f"{gateway}.json"
        manager.add_process(f"pay-{gateway}", f"{sys.executable} -m demo.standins {gateway} --webhook-url {url}"
                            f" --state {shlex.quote(str(state))}", env=env, cwd=str(ROOT))

    print("\n" + "=" * 64)
    print(f"  Voltdesk web app   {settings.public_url}  (ready after the frontend build, ~30 s)")
    print(f"  REST API           {settings.public_url}/api/v1/docs")
    print(f"  OCPP endpoint      ws://<host>:{settings.ocpp_port}/ocpp/<charge_point_id>")
    if settings.demo_mode:
        print(f"  Grid monitor       {settings.public_url}/grid  (replayed day; the frequency drops to 49.7 Hz"
              " about 2.5 min after start)")
        print(f"  OpenADR VTN        http://127.0.0.1:{vtn_port()}  (stand-in; calls Berlin eMobility's VEN to"
              f" curtail {VTN_EVENT_AFTER // 60} min after start)")
    if logins:
        print_logins(logins)
        print_customer_logins(demo_customers.LOGINS, logins[0][2])
    print("  Ctrl-C stops everything.")
    print("=" * 64 + "\n", flush=True)
    try:
        manager.loop()
    finally:
        if embedded:
            embedded_db.stop(Path(settings.data_dir))
            print("Embedded PostgreSQL stopped.")
    return manager.returncode or 0


def _demo_vapid_key(data_dir: Path) -> str:
    """The demo's VAPID private key (base64url, raw 32 bytes), made once and kept in the data directory."""
    path = Path(data_dir) / "vapid-demo.key"
    if not path.exists():
        key = ec.generate_private_key(ec.SECP256R1())
        raw = key.private_numbers().private_value.to_bytes(32, "big")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(base64.urlsafe_b64encode(raw).decode().rstrip("="))
        path.chmod(0o600)
    return path.read_text().strip()
