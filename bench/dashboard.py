"""Dashboard and charger table at scale: 10,000 chargers, 5,000,000 sessions, 50 organizations.

    python -m bench.dashboard                 # create, migrate and seed a scratch database (~3 min), then time
    python -m bench.dashboard --reuse         # time again on the database seeded before
    python -m bench.dashboard --runs 30
    python -m bench.dashboard --reuse --rls both   # as the superuser (no row-level security), then as the app role

Times what the dashboard loads (status counts + first page of cards + revenue tiles and charts + one
page of the performance table) and one page of the charger table, through the same service calls
the pages make, per role: admin (all organizations), CPO (one organization), location owner.
Prints the median, p95 and fastest run in milliseconds. Also times building the performance table's rolling
windows for every organization (the first read after a rebuild) and moving them by one day (the first
read after each local midnight).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("DEMO_MODE", "1")

from core.rls import APP_ROLE, SYSTEM_ROLE  # noqa: E402 (after DEMO_MODE: settings are read on first use)

ADMIN_URL = os.environ.get("BENCH_ADMIN_URL", "postgresql://postgres@127.0.0.1/postgres")
DB_NAME = "voltdesk_bench_dashboard"


def prepare(url: str, *, orgs: int, chargers: int, sessions: int) -> None:
    import psycopg

    from bench import seed_bulk
    from core.migrate import upgrade

    upgrade(url.replace("postgresql://", "postgresql+psycopg://", 1), app_role=APP_ROLE, system_role=SYSTEM_ROLE)
    with psycopg.connect(url, autocommit=True) as conn:
        # Row-by-row roll-up upkeep would dominate a bulk load: build the roll-ups once afterwards.
        conn.execute("ALTER TABLE charging_session DISABLE TRIGGER session_stats")
    seed_bulk.seed(url, orgs=orgs, chargers=chargers, sessions=sessions)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ALTER TABLE charging_session ENABLE TRIGGER session_stats")
        t0 = time.perf_counter()
        conn.execute("SELECT rebuild_session_stats()")
        conn.execute("ANALYZE")
        print(f"  roll-ups rebuilt in {time.perf_counter() - t0:.1f}s")


def upgrade_only(url: str) -> None:
    """Bring a reused database to the current schema (new roll-ups are filled by their migration)."""
    from core.migrate import upgrade

    upgrade(url.replace("postgresql://", "postgresql+psycopg://", 1), app_role=APP_ROLE, system_role=SYSTEM_ROLE)


def time_windows(url: str) -> None:
    """Build every organization's windows from scratch, then move them back a day and forward again."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DELETE FROM session_window_as_of")
        conn.execute("DELETE FROM charger_window_stat")
        orgs = conn.execute("SELECT id, (now() AT TIME ZONE timezone)::date FROM organization ORDER BY id").fetchall()
        t0 = time.perf_counter()
        with conn.transaction():
            for oid, today in orgs:
                conn.execute("SELECT advance_session_windows(%s, %s)", (oid, today))
        built = time.perf_counter() - t0
        conn.execute("VACUUM ANALYZE charger_window_stat")
        with conn.transaction():
            for oid, today in orgs:
                conn.execute("SELECT advance_session_windows(%s, %s - 1)", (oid, today))
        t0 = time.perf_counter()
        with conn.transaction():
            for oid, today in orgs:
                conn.execute("SELECT advance_session_windows(%s, %s)", (oid, today))
        moved = time.perf_counter() - t0
        rows = conn.execute("SELECT count(*) FROM charger_window_stat").fetchone()[0]
        conn.execute("VACUUM ANALYZE charger_window_stat")
    print(f"  rolling windows for {len(orgs)} organizations ({rows} rows): built in {built * 1000:.0f} ms, "
          f"moved one day in {moved * 1000:.0f} ms")


def _users(session):
    from sqlalchemy import select

    from models import Charger, LocationOwner, Organization, User
    from services.access import users as user_svc

    def get_or_create(email, role, **kw):
        user = session.execute(select(User).where(User.email == email)).scalar_one_or_none()
        return user or user_svc.create_user(session=session, email=email, password="bench-password-1", role=role,
                                            **kw)

    org = session.execute(select(Organization).where(Organization.slug == "org-0008")).scalar_one()
    owner = session.execute(select(LocationOwner).where(LocationOwner.organization_id == org.id)).scalars().first()
    assert session.execute(select(Charger.id).where(Charger.location_owner_id == owner.id)).first()
    users = {
        "admin (all orgs)": get_or_create("bench-admin@example.test", "admin"),
        "cpo (one org)": get_or_create("bench-cpo@example.test", "cpo", org_slugs=[org.slug]),
        "location owner": get_or_create("bench-lo@example.test", "location_owner", location_owner_id=owner.id),
    }
    session.commit()
    return users


def _time(fn, runs: int) -> tuple[float, float, float]:
    for _ in range(2):
        fn()  # warm caches and plans
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, int(round(0.95 * (len(samples) - 1))))]
    return statistics.median(samples), p95, samples[0]


def scopes_at(url: str, *, rls: bool = True) -> dict:
    """Point the services at the bench database and return each timed role's scope. With `rls`, the services
    connect as the application role under row-level security (as in production); without, as `url`'s own role
    (the superuser here, which row-level security does not apply to)."""
    from sqlmodel import Session

    from core.config import get_settings
    from core.db import SYSTEM, as_role, get_engine, reset_engine, use_db_scope
    from services.access.scope import scope_for

    os.environ["DATABASE_URL"] = as_role(url, APP_ROLE) if rls else url
    get_settings.cache_clear()
    reset_engine()
    with Session(get_engine()) as s:
        use_db_scope(s, SYSTEM)
        return {name: scope_for(s, u) for name, u in _users(s).items()}


def run(url: str, runs: int, *, rls: bool = True) -> None:
    from sqlmodel import Session

    from core.db import get_engine
    from services.network import chargers, dashboard

    scopes = scopes_at(url, rls=rls)
    print(f"row-level security {'on (application role, Scope.enter)' if rls else 'off (superuser)'}")
    # The fastest run shows the work itself when other processes compete for the CPU.
    print(f"{'role':<18} {'measure':<48} {'median ms':>10} {'p95 ms':>8} {'min ms':>8}")
    for name, scope in scopes.items():
        with Session(get_engine()) as s:
            if rls:
                scope.enter(s)

            def dashboard_load(period="7d", sc=scope):
                dashboard.overview(session=s, scope=sc, limit=24)
                dashboard.summary(session=s, scope=sc)
                dashboard.performance(session=s, scope=sc, period=period, limit=10)

            measures = [("dashboard load (perf table 7d, default)", dashboard_load)]
            for period in ("24h", "30d", "365d"):
                measures.append((f"dashboard load with perf table {period}",
                                 lambda p=period: dashboard_load(p)))
            measures += [
                ("  status counts + first page of cards", lambda sc=scope: dashboard.overview(session=s, scope=sc)),
                ("  revenue tiles + charts", lambda sc=scope: dashboard.summary(session=s, scope=sc)),
                ("charger table page (20 rows, by id)",
                 lambda sc=scope: chargers.list_chargers(session=s, scope=sc, limit=20)),
                ("charger table page (search 'Bench', by status)",
                 lambda sc=scope: chargers.list_chargers(session=s, scope=sc, search="Bench", sort="status", limit=20)),
            ]
            for label, fn in measures:
                median, p95, fastest = _time(fn, runs)
                print(f"{name:<18} {label:<48} {median:>10.1f} {p95:>8.1f} {fastest:>8.1f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reuse", action="store_true", help="time the database seeded by an earlier run")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--orgs", type=int, default=50)
    parser.add_argument("--chargers", type=int, default=10_000)
    parser.add_argument("--sessions", type=int, default=5_000_000)
    parser.add_argument("--rls", choices=("on", "off", "both"), default="on",
                        help="time with row-level security (the app role), without (the superuser), or both")
    args = parser.parse_args(argv)
    from bench.seed_bulk import create_database

    url = ADMIN_URL.rsplit("/", 1)[0] + f"/{DB_NAME}"
    if args.reuse:
        upgrade_only(url)
    else:
        url = create_database(ADMIN_URL, DB_NAME)
        prepare(url, orgs=args.orgs, chargers=args.chargers, sessions=args.sessions)
    time_windows(url)
    for rls in {"on": (True,), "off": (False,), "both": (False, True)}[args.rls]:
        run(url, args.runs, rls=rls)
    return 0


if __name__ == "__main__":
    sys.exit(main())
