"""Debian's HAProxy in front of two real OCPP processes (demo/haproxy.cfg): chargers are spread over both, and
when one process is killed its chargers reconnect through HAProxy to the other, which then owns them."""
from __future__ import annotations

import shutil
import subprocess
import urllib.request

import pytest
from sqlalchemy import select

from demo.cluster import HAPROXY, haproxy_config
from models import Charger
from tests.ocpp.conftest import connect, until
from tests.utils.factories import make_charger
from tests.utils.ocpp_process import OcppProcess, free_port

pytestmark = [pytest.mark.xdist_group("ocpp_processes"),
              pytest.mark.skipif(not shutil.which(HAPROXY), reason="Debian's haproxy is not installed")]


class _Proxy:
    def __init__(self, tmp_path, ports: list[int]) -> None:
        self.port = free_port()
        cfg = tmp_path / "haproxy.cfg"
        cfg.write_text(haproxy_config(ocpp_port=self.port, ocpp_ports=ports, web_port=free_port(),
                                      web_ports=[free_port()], runtime_socket=tmp_path / "haproxy.sock"))
        self.proc = subprocess.Popen([HAPROXY, "-db", "-f", str(cfg)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


def _holders(session, ids) -> dict[int, int | None]:
    session.expire_all()
    return dict(session.execute(select(Charger.id, Charger.connection_process_id).where(Charger.id.in_(ids))).all())


async def test_chargers_spread_over_two_processes_and_move_to_the_survivor_when_one_is_killed(
        database_url, session, org, tmp_path):
    chargers = [make_charger(session, org, ocpp_id=f"LB-{i}") for i in range(4)]
    ids = [c.id for c in chargers]
    processes = [OcppProcess(database_url, OCPP_PROCESS_RENEW_SECONDS="1", OCPP_PROCESS_DEAD_AFTER_SECONDS="3")
                 for _ in range(2)]
    proxy = _Proxy(tmp_path, [p.port for p in processes])
    try:
        await until(lambda: _probe(proxy.port), timeout=15)
        async with connect(proxy, "LB-0"), connect(proxy, "LB-1"), connect(proxy, "LB-2"), connect(proxy, "LB-3"):
            holders = _holders(session, ids)
            assert len(set(holders.values())) == 2  # both processes hold chargers
            processes[0].kill()
        # Reconnecting through the same address lands on the survivor, which now owns every charger.
        await until(lambda: _probe(proxy.port), timeout=15)
        async with connect(proxy, "LB-0"), connect(proxy, "LB-1"), connect(proxy, "LB-2"), connect(proxy, "LB-3"):
            assert len(set(_holders(session, ids).values())) == 1
    finally:
        proxy.stop()
        for p in processes:
            p.stop()


def _probe(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as res:
            return res.status == 200
    except OSError:
        return False
