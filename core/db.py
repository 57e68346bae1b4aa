"""Engine and sessions. PostgreSQL (psycopg 3) is the only dialect."""
from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from urllib.parse import quote

from sqlalchemy import ColumnElement, String, bindparam, cast, create_engine, event, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.engine import make_url as sa_make_url
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.pool import NullPool
from sqlmodel import Session

from core import embedded_db
from core.config import get_settings
from core.rls import APP_ROLE, SYSTEM_ROLE


class DbMode(StrEnum):
    """What row-level security lets a connection see (core/rls.py)."""
    SYSTEM = "system"      # jobs, the OCPP server, the CLI: every row
    IDENTITY = "identity"  # the login path: users, organizations and their tokens only
    USER = "user"          # a logged-in request: its Scope, below


@dataclass(frozen=True)
class DbScope:
    """The per-transaction settings the policies read; the service layer derives them from a Scope."""
    mode: DbMode
    org_ids: str = ""   # user mode: "*" (every organization) or "{1,2,3}"
    owner_id: str = ""  # a location owner's id, or ""
    user_id: str = ""


SYSTEM = DbScope(DbMode.SYSTEM)
IDENTITY = DbScope(DbMode.IDENTITY)
_SCOPE_KEY = "voltdesk_db_scope"
_SET_SCOPE = ("SELECT set_config('voltdesk.mode', %s, true), set_config('voltdesk.org_ids', %s, true),"
              " set_config('voltdesk.owner_id', %s, true), set_config('voltdesk.user_id', %s, true)")


def _write_scope(conn: Connection, scope: DbScope) -> None:
    conn.exec_driver_sql(_SET_SCOPE, (scope.mode.value, scope.org_ids, scope.owner_id, scope.user_id))


def use_db_scope(session: Session, scope: DbScope) -> None:
    """From now on, every transaction of this session runs under `scope` (this one too, if it is open)."""
    session.info[_SCOPE_KEY] = scope
    if session.in_transaction():
        _write_scope(session.connection(), scope)


@contextmanager
def acting_as(session: Session, scope: DbScope) -> Iterator[Session]:
    """Run a narrow step of a request under another DbScope, then return to the caller's. For the few writes
    whose new row the caller cannot see yet (a user before its organizations are bound to it)."""
    before = session.info.get(_SCOPE_KEY)
    use_db_scope(session, scope)
    try:
        yield session
    finally:
        if before is not None:
            use_db_scope(session, before)
        else:
            session.info.pop(_SCOPE_KEY, None)


@contextmanager
def owner_session() -> Iterator[Session]:
    """A unit of work as the tables' owner (DATABASE_OWNER_URL), for maintenance that needs DDL: the application's
    and the system's roles own nothing and may create nothing (docs/adr/0010)."""
    engine = create_engine(owner_database_url(), poolclass=NullPool)
    try:
        with _unit_of_work(engine, SYSTEM) as session:
            yield session
    finally:
        engine.dispose()


def exists_anywhere(session: Session, statement) -> bool:
    """Whether `statement` finds a row in any tenant: for the few checks that must see past the caller's scope
    (an OCPP id is global), run in a short system-scope session of its own. Its answer must name nobody."""
    with Session(session.get_bind()) as probe:
        use_db_scope(probe, SYSTEM)
        return probe.execute(statement.limit(1)).first() is not None


@event.listens_for(OrmSession, "after_begin")
def _scope_each_transaction(session: OrmSession, transaction, connection: Connection) -> None:
    # The settings are transaction-local (they never leak to the pool's next user), so each begin sets them.
    scope = session.info.get(_SCOPE_KEY)
    if scope is not None:
        _write_scope(connection, scope)


def normalize_url(url: str) -> str:
    """Accept the usual `postgresql://` and `postgres://` spellings; use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def libpq_url(engine: Engine) -> str:
    """The engine's database as a plain libpq URL, for psycopg connections of our own (LISTEN, COPY), with the
    engine's session options (a system engine's scope among them), percent-encoded as libpq expects."""
    url = engine.url.set(drivername="postgresql")
    options = url.query.get("options")
    plain = url.difference_update_query(["options"]).render_as_string(hide_password=False)
    if not options:
        return plain
    return f"{plain}{'&' if '?' in plain else '?'}options={quote(options, safe='')}"


def as_role(url: str, role: str) -> str:
    """The same database reached as another role (the embedded and test servers trust local connections)."""
    return sa_make_url(url).set(username=role, password=None).render_as_string(hide_password=False)


def database_url() -> str:
    """DATABASE_URL (the application's role), or the embedded server's, as the application role."""
    settings = get_settings()
    if settings.database_url:
        return normalize_url(settings.database_url)
    owner = embedded_db.start(settings.data_dir)
    url = as_role(owner, APP_ROLE)
    # Child processes (honcho, workers) reuse the same server without restarting it.
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DATABASE_OWNER_URL", owner)
    os.environ.setdefault("DATABASE_SYSTEM_URL", as_role(owner, SYSTEM_ROLE))
    return url


def system_database_url() -> str:
    """The role of processes without a user (DATABASE_SYSTEM_URL, else DATABASE_URL)."""
    app = database_url()
    system = get_settings().database_system_url or os.environ.get("DATABASE_SYSTEM_URL")
    return normalize_url(system) if system else app


def owner_database_url() -> str:
    """The role that owns the tables: migrations and grants run as it (DATABASE_OWNER_URL, else DATABASE_URL)."""
    app = database_url()
    owner = get_settings().database_owner_url or os.environ.get("DATABASE_OWNER_URL")
    return normalize_url(owner) if owner else app


# Session settings for every connection: JIT compiling a plan costs 100-300 ms, more than the Finances and
# Transactions reads take to run once their estimated cost crosses jit_above_cost; at the default 4 MB, the
# per-charger breakdown over 10,000 chargers spills its aggregates to disk (docs/BENCHMARKS.md). A system
# engine's connections also start in system scope; the others see nothing until a DbScope is set.
_OPTIONS = "-c jit=off -c work_mem=16MB"


def _engine(options: str, base: str, pre_ping: bool = True) -> Engine:
    url = sa_make_url(base).update_query_dict({"options": options})
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=pre_ping, pool_recycle=1800,
                         future=True)


@lru_cache
def get_engine() -> Engine:
    """The application's engine: a session sees no tenant row until its DbScope is set (use_db_scope)."""
    return _engine(_OPTIONS, database_url())


@lru_cache
def get_system_engine() -> Engine:
    """For processes without a user (OCPP server, worker, CLI): every connection starts in system scope."""
    return _engine(f"{_OPTIONS} -c voltdesk.mode={DbMode.SYSTEM.value}", system_database_url())


@lru_cache
def get_ocpp_engine() -> Engine:
    """The OCPP process's system engine, without the pre-ping round trip at every checkout (it was 11% of a
    reconnect storm's database time). A connection found dead fails its call (the charger gets InternalError
    or 503 and retries); SQLAlchemy then drops it and every older pooled connection, so the next calls
    reconnect."""
    return _engine(f"{_OPTIONS} -c voltdesk.mode={DbMode.SYSTEM.value}", system_database_url(), pre_ping=False)


def reset_engine() -> None:
    """Forget the cached engines (tests switch databases)."""
    for cached in (get_engine, get_system_engine, get_ocpp_engine):
        if cached.cache_info().currsize:
            cached().dispose()
        cached.cache_clear()


@contextmanager
def session_scope(scope: DbScope | None = None) -> Iterator[Session]:
    """A unit of work: commit on success, roll back on error. `SYSTEM` uses the system engine; any other scope
    is set on each transaction; None sees no tenant rows until `use_db_scope` is called."""
    if scope == SYSTEM:
        scope = None  # the system engine's connections start in system scope
        engine = get_system_engine()
    else:
        engine = get_engine()
    with _unit_of_work(engine, scope) as session:
        yield session


@contextmanager
def _unit_of_work(engine: Engine, scope: DbScope | None) -> Iterator[Session]:
    """A session on `engine` (in `scope`, when given) that commits on success and rolls back on error."""
    with Session(engine, expire_on_commit=False) as session:
        if scope is not None:
            use_db_scope(session, scope)
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def among(column, ids) -> ColumnElement[bool]:
    """`column IN ids` written as `column IN (SELECT unnest(CAST('{1,2,…}' AS <its type>[])))`: one text
    parameter whatever the number of ids. An IN list of 500 is a statement of its own per length that psycopg
    parses afresh; an array parameter is dumped element by element in Python; and `column = ANY(array)` in a
    prepared statement compares each row with every element (150 ms for 500 ids on 5,000 devices), where
    the unnest is joined through the column's index."""
    array = cast(bindparam(None, id_array(ids), type_=String()), ARRAY(column.type))
    return column.in_(select(func.unnest(array)).scalar_subquery())


def id_array(ids) -> str:
    """Integer ids as one PostgreSQL array literal, for `CAST(:ids AS bigint[])` in text statements."""
    return "{" + ",".join(str(int(i)) for i in ids) + "}"
