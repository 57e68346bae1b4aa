"""Broadcast fan-out: a composed message to N registered FCM devices through the local FCM stand-in.

    DATABASE_URL=postgresql://postgres@127.0.0.1/<scratch db with migrations> \
    DATABASE_SYSTEM_URL=postgresql://voltdesk_system@127.0.0.1/<same db> \
        python -m bench.notifications 100000 [--workers 2] [--profile DIR]

Registers N app users with one FCM device each (once), starts the stand-in in its own process, then
"clicks" Send in the composer (services.notifications.composer.send, as the page does) and lets
`--workers` worker processes expand and send it (worker.jobs.notifications, as `python -m worker` does).
Prints how long the request took, sends per second, the time from the click to the last send, and the CPU
spent per send from the click to the last send by each component: the worker processes, the stand-in and
the database's PostgreSQL backends (read from /proc through psutil, so PostgreSQL must run on this machine;
its figure is 0 otherwise): on a shared, loaded machine the rate
says how much CPU the bench got, the CPU per send what the fan-out costs. Load average at the start and the
end. `--profile DIR` writes each worker's cProfile stats there (`python -m pstats DIR/worker-0.prof`).
"""
from __future__ import annotations

import argparse
import cProfile
import multiprocessing as mp
import os
import resource
import socket
import subprocess
import sys
import time
import urllib.request
from json import dumps, loads

import psutil
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

os.environ.setdefault("DEMO_MODE", "1")

from sqlalchemy import func, select, text  # noqa: E402
from sqlmodel import Session  # noqa: E402

from core.clock import utcnow  # noqa: E402
from core.config import get_settings  # noqa: E402
from core.db import get_engine  # noqa: E402
from models import NotificationDelivery, Organization, User  # noqa: E402
from services.access import organizations as org_svc  # noqa: E402
from services.access import users as user_svc  # noqa: E402
from services.access.scope import scope_for  # noqa: E402
from services.notifications import composer, credentials  # noqa: E402


def service_account(project_id: str, token_uri: str) -> str:
    """A Firebase service-account JSON with a fresh key, its token endpoint the stand-in's."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    return dumps({"type": "service_account", "project_id": project_id, "private_key_id": "k1", "private_key": pem,
                  "client_email": f"bench@{project_id}.iam.gserviceaccount.com", "token_uri": token_uri})


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _seed(n: int, fcm_url: str) -> tuple[int, int]:
    with Session(get_engine()) as s:
        org = s.execute(select(Organization).where(Organization.slug == "bench-push")).scalar_one_or_none()
        if org is None:
            root = s.execute(select(Organization).where(Organization.parent_id.is_(None))).scalars().first()
            if root is None:
                root = org_svc.create_organization(session=s, name="Operator", slug="operator", currency="EUR",
                                                   timezone="UTC")
            org = org_svc.create_organization(session=s, name="Bench Push", slug="bench-push", currency="EUR",
                                              timezone="UTC", parent_slug=root.slug)
        admin = s.execute(select(User).where(User.email == "bench-push@example.test")).scalar_one_or_none()
        if admin is None:
            admin = user_svc.create_user(session=s, email="bench-push@example.test", password="bench-password-123",
                                         role="admin")
        s.flush()
        credentials.set_fcm_credential(session=s, scope=scope_for(s, admin), organization_id=org.id,
                                       service_account_json=service_account("bench-app", f"{fcm_url}/token"))
        have = s.execute(text("SELECT count(*) FROM customer_user WHERE organization_id = :o"),
                         {"o": org.id}).scalar_one()
        if have < n:
            params = {"o": org.id, "a": have + 1, "b": n}
            s.execute(text("INSERT INTO customer_account (organization_id, kind, status, name, created_at) "
                           "SELECT :o, 'consumer', 'active', 'Bench ' || g, now() "
                           "FROM generate_series(CAST(:a AS integer), CAST(:b AS integer)) g"), params)
            s.execute(text("INSERT INTO customer_user (organization_id, account_id, email, status, role, full_name, "
                           "token_version) SELECT :o, a.id, 'bench' || a.id || '@example.test', 'active', 'owner', "
                           "'', 0 FROM customer_account a "
                           "WHERE a.organization_id = :o AND NOT EXISTS "
                           "(SELECT 1 FROM customer_user u WHERE u.account_id = a.id)"), {"o": org.id})
            s.execute(text("INSERT INTO push_device (customer_user_id, kind, token, label) "
                           "SELECT u.id, 'fcm', 'bench-token-' || u.id, '' FROM customer_user u "
                           "WHERE u.organization_id = :o AND NOT EXISTS "
                           "(SELECT 1 FROM push_device d WHERE d.customer_user_id = u.id)"), {"o": org.id})
        s.commit()
        return org.id, admin.id


def _work(fcm_url: str, done_after: float, profile: str | None = None, ready=None) -> None:
    get_settings().fcm_endpoint = fcm_url
    from worker.jobs import notifications  # a fresh process: its own engine and Firebase app

    prof = cProfile.Profile(time.thread_time) if profile else None  # this thread's CPU (the sends run on another)
    idle_since = None
    while True:
        if prof is not None:
            prof.enable()
        sent = notifications()["sent"]
        if prof is not None:
            prof.disable()
        if ready is not None:
            ready.set()  # imported, connected, one pass made: what a running `python -m worker` is
        if sent:
            idle_since = None
        else:
            idle_since = idle_since or time.monotonic()
            if time.monotonic() - idle_since > done_after:
                break
            # An idle pass (alert rules, composer, outbox) costs milliseconds of CPU: polled every 50 ms,
            # it showed up in the CPU per send on a loaded machine.
            time.sleep(0.25)
    if prof is not None:
        prof.dump_stats(profile)


class _Cpu:
    """CPU seconds (user + system) of a changing set of processes since `start`: the last reading of each
    process is kept, so one that has ended still counts, and one that started later counts from 0."""

    def __init__(self) -> None:
        self.base: dict[int, float] = {}
        self.last: dict[int, float] = {}

    def read(self, pids: list[int], *, start: bool = False) -> None:
        for pid in pids:
            try:
                t = psutil.Process(pid).cpu_times()
            except psutil.Error:
                continue
            self.last[pid] = t.user + t.system
            if start:
                self.base[pid] = self.last[pid]

    def spent(self) -> float:
        return sum(v - self.base.get(pid, 0.0) for pid, v in self.last.items())


def _backends() -> list[int]:
    """This database's PostgreSQL backend processes (the workers' connections among them)."""
    with get_engine().connect() as c:
        return list(c.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                                   "AND pid <> pg_backend_pid()")).scalars())


def _count(url: str) -> int:
    with urllib.request.urlopen(f"{url}/_count") as r:
        return loads(r.read())["count"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("devices", type=int, nargs="?", default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--profile", help="a directory for each worker's cProfile stats")
    args = parser.parse_args()
    print(f"command: python -m bench.notifications {' '.join(sys.argv[1:])}", flush=True)
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    if args.profile:
        os.makedirs(args.profile, exist_ok=True)
    fcm_port = _free_port()
    fcm_url = f"http://127.0.0.1:{fcm_port}"
    standin = subprocess.Popen([sys.executable, "-m", "demo.push_standins", "--fcm-port", str(fcm_port),
                                "--webpush-port", str(_free_port())], stdout=subprocess.DEVNULL)
    try:
        get_settings().fcm_endpoint = fcm_url
        for _ in range(300):  # the stand-in is starting in its own process
            try:
                _count(fcm_url)
                break
            except OSError:
                time.sleep(0.1)
        t = time.perf_counter()
        org_id, admin_id = _seed(args.devices, fcm_url)
        print(f"seeded {args.devices} devices in {time.perf_counter() - t:.1f} s", flush=True)
        before = _count(fcm_url)
        ctx = mp.get_context("spawn")
        ready = [ctx.Event() for _ in range(args.workers)]
        workers = [ctx.Process(target=_work, args=(fcm_url, 20.0, args.profile and
                                                   os.path.join(args.profile, f"worker-{i}.prof"), ready[i]))
                   for i in range(args.workers)]
        for w in workers:  # running already, as `python -m worker` is
            w.start()
        for r in ready:  # on a loaded machine starting them took longer than any fixed wait
            r.wait(300)
        time.sleep(1)
        groups = {"workers": lambda: [w.pid for w in workers], "standin": lambda: [standin.pid],
                  "postgres": _backends}  # the workers' connections may come and go: read them each time
        meters = {k: _Cpu() for k in groups}
        for k, pids in groups.items():
            meters[k].read(pids(), start=True)
        with Session(get_engine()) as s:
            scope = scope_for(s, s.get(User, admin_id))
            click = time.perf_counter()
            sent = composer.send(session=s, scope=scope, audience=composer.Audience("organization",
                                                                                    organization_id=org_id),
                                 title="Bench", body="A broadcast to every app user.", now=utcnow(), confirm=True)
            s.commit()
            request_ms = (time.perf_counter() - click) * 1000
        print(f"request returned in {request_ms:.0f} ms ({sent.recipients} recipients)", flush=True)
        last_change, seen = time.perf_counter(), before
        while any(w.is_alive() for w in workers):
            now_count = _count(fcm_url)
            changed = now_count != seen
            if changed:
                seen, last_change = now_count, time.perf_counter()
            if changed or now_count == before:
                # Read while the workers and their connections still live (they stop after 20 s idle).
                for k, pids in groups.items():
                    meters[k].read(pids())
            time.sleep(0.2)
        for w in workers:
            w.join()
        total = _count(fcm_url) - before
        with Session(get_engine()) as s:
            failed = s.execute(select(func.count()).select_from(NotificationDelivery).where(
                NotificationDelivery.notification_id == sent.notification_id,
                NotificationDelivery.status != "sent")).scalar_one()
        span = last_change - click
        print(f"sends={total} not_sent={failed} click_to_last_send_s={span:.1f} sends_per_s={total / span:.0f} "
              f"workers={args.workers}", flush=True)
        spent = {k: c.spent() for k, c in meters.items()}
        per_send = {k: v * 1000 / max(total, 1) for k, v in spent.items()}
        all_in = sum(per_send.values())
        print("cpu_ms_per_send (click to last send) " + " ".join(f"{k}={v:.3f}" for k, v in per_send.items())
              + f" all_in={all_in:.3f} (2 idle cores: at most about {2000 / max(all_in, 0.001):.0f}/s)",
              flush=True)
    finally:
        standin.terminate()
        standin.wait(10)
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = used.ru_utime + used.ru_stime
    print(f"cpu_s workers+standin incl. start-up={cpu:.0f} ({cpu * 1000 / max(total, 1):.2f} ms per send)",
          flush=True)
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)


if __name__ == "__main__":
    main()
