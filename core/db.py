"""Engine and sessions. PostgreSQL (psycopg 3) is the only dialect."""
from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

from sqlalchemy import create_engine
from sqlalchemy.engine import Engine
from sqlmodel import Session

from core import embedded_db
from core.config import get_settings


def normalize_url(url: str) -> str:
    """Accept the usual `postgresql://` and `postgres://` spellings; use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def libpq_url(engine: Engine) -> str:
    """The engine's database as a plain libpq URL, for psycopg connections of our own (LISTEN, COPY)."""
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def database_url() -> str:
    """DATABASE_URL, or the embedded server's URL (started on demand)."""
    settings = get_settings()
    if settings.database_url:
        return normalize_url(settings.database_url)
    url = embedded_db.start(settings.data_dir)
    # Child processes (honcho, workers) reuse the same server without restarting it.
    os.environ["DATABASE_URL"] = url
    return url


@lru_cache
def get_engine() -> Engine:
    return create_engine(
        database_url(),
        pool_size=10,
        max_overflow=20,
        pool_pre_ping=True,
        pool_recycle=1800,
        future=True,
        # JIT compiling a plan costs 100-300 ms, more than the Finances and Transactions reads take to run
        # once their estimated cost crosses jit_above_cost; at the default 4 MB, the per-charger breakdown
        # over 10,000 chargers spills its aggregates to disk (docs/BENCHMARKS.md).
        connect_args={"options": "-c jit=off -c work_mem=16MB"},
    )


def reset_engine() -> None:
    """Forget the cached engine (tests switch databases)."""
    if get_engine.cache_info().currsize:
        get_engine().dispose()
    get_engine.cache_clear()


@contextmanager
def session_scope() -> Iterator[Session]:
    """A unit of work: commit on success, roll back on error."""
    with Session(get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
