"""`python manage.py cluster`: a local cluster behind HAProxy – N OCPP processes, two Reflex backends sharing
state through Redis, the billing worker – against one PostgreSQL. `make run` stays one process of each.

HAProxy listens on OCPP_PORT and WEB_PORT; the processes behind it on the ports after them. The OCPP processes
find one another through the connection registry (docs/adr/0008); a charger may land on any of them.
"""
from __future__ import annotations

import os
import resource
import shutil
import sys
from pathlib import Path
from string import Template

from honcho.manager import Manager

from core.config import ROOT, get_settings
from core.db import database_url
from core.migrate import upgrade

HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"
TEMPLATE = ROOT / "demo" / "haproxy.cfg"


def haproxy_config(*, ocpp_port: int, ocpp_ports: list[int], web_port: int, web_ports: list[int],
                   runtime_socket: Path) -> str:
    servers = "\n".join(f"    server ocpp{i + 1} 127.0.0.1:{p} check" for i, p in enumerate(ocpp_ports))
    web = "\n".join(f"    server web{i + 1} 127.0.0.1:{p} check" for i, p in enumerate(web_ports))
    # Two file descriptors per proxied connection, within what this machine allows (the hard limit).
    maxconn = min(60000, (resource.getrlimit(resource.RLIMIT_NOFILE)[1] - 200) // 2)
    return Template(TEMPLATE.read_text()).substitute(
        MAXCONN=maxconn, OCPP_BIND=f"0.0.0.0:{ocpp_port}", OCPP_SERVERS=servers, WEB_BIND=f"0.0.0.0:{web_port}",
        WEB_SERVERS=web, RUNTIME_SOCKET=str(runtime_socket))


def run_cluster(*, ocpp: int = 2, web: int = 2, redis_url: str = "redis://127.0.0.1:6379/0") -> int:
    settings = get_settings()
    url = database_url()
    upgrade(url)
    run_dir = Path(settings.data_dir) / "cluster"
    run_dir.mkdir(parents=True, exist_ok=True)
    ocpp_ports = [settings.ocpp_port + 1 + i for i in range(ocpp)]
    web_ports = [settings.web_port + 1 + i for i in range(web)]
    cfg = run_dir / "haproxy.cfg"
    cfg.write_text(haproxy_config(ocpp_port=settings.ocpp_port, ocpp_ports=ocpp_ports, web_port=settings.web_port,
                                  web_ports=web_ports, runtime_socket=run_dir / "haproxy.sock"))
    env = dict(os.environ, DATABASE_URL=url, PYTHONUNBUFFERED="1", REDIS_URL=redis_url)
    py = sys.executable
    manager = Manager()
    manager.add_process("haproxy", f"{HAPROXY} -W -db -f {cfg}", env=env, cwd=str(ROOT))
    for i, port in enumerate(ocpp_ports):
        manager.add_process(f"ocpp{i + 1}", f"{py} -m ocpp_server", env=dict(env, OCPP_PORT=str(port)),
                            cwd=str(ROOT))
    for i, port in enumerate(web_ports):
        manager.add_process(f"web{i + 1}", f"{py} -m reflex run --env prod --single-port --frontend-port {port}"
                            " --loglevel warning", env=dict(env, WEB_PORT=str(port)), cwd=str(ROOT))
    manager.add_process("worker", f"{py} -m worker", env=env, cwd=str(ROOT))
    print(f"HAProxy: OCPP ws://<host>:{settings.ocpp_port}/ocpp/<id> -> {ocpp_ports}; "
          f"web http://<host>:{settings.web_port} -> {web_ports}; config {cfg}", flush=True)
    manager.loop()
    return manager.returncode or 0
