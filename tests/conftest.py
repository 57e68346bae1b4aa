"""Test set-up: every run gets a fresh PostgreSQL database with the migrations applied."""
from __future__ import annotations

import os
import secrets
import time

# Settings are read once; set them before anything imports core.config.
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(48))
os.environ["DEMO_MODE"] = "0"
os.environ["BCRYPT_ROUNDS"] = "4"  # production uses 12; tests/services/access/test_auth.py checks that default
os.environ.pop("DATABASE_URL", None)

import pytest  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlalchemy.exc import OperationalError  # noqa: E402
from sqlmodel import Session, SQLModel  # noqa: E402

from tests import db as testdb  # noqa: E402


@pytest.fixture(scope="session")
def owner_url() -> str:
    """The test database, as the role that owns the tables (migrations, emptying the tables)."""
    url = testdb.create_database(testdb.server_url())
    yield url
    from core.db import reset_engine

    reset_engine()
    testdb.drop_database(url)


@pytest.fixture(scope="session")
def database_url(owner_url) -> str:
    """The test database as the application's role: not a superuser, so row-level security applies."""
    from core.config import get_settings
    from core.db import as_role, normalize_url, reset_engine
    from core.migrate import upgrade
    from core.rls import APP_ROLE, SYSTEM_ROLE

    upgrade(normalize_url(owner_url), app_role=APP_ROLE, system_role=SYSTEM_ROLE)
    url = as_role(owner_url, APP_ROLE)
    os.environ["DATABASE_URL"] = url
    os.environ["DATABASE_OWNER_URL"] = owner_url
    os.environ["DATABASE_SYSTEM_URL"] = as_role(owner_url, SYSTEM_ROLE)
    get_settings.cache_clear()
    reset_engine()
    yield url
    reset_engine()


@pytest.fixture(scope="session")
def engine(database_url):
    """The system role's engine: factories, in-process OCPP servers and jobs see every tenant."""
    from core.db import get_system_engine

    return get_system_engine()


@pytest.fixture(scope="session")
def owner_engine(database_url, owner_url):
    from sqlalchemy import create_engine

    from core.db import normalize_url

    eng = create_engine(normalize_url(owner_url))
    yield eng
    eng.dispose()


def _truncate(engine) -> None:
    import models  # noqa: F401

    names = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    # A running app (browser tests) may still be reading or writing; TRUNCATE can then meet a lock
    # wait or a deadlock. Retrying after the app's short transaction ends is safe.
    for attempt in range(10):
        try:
            with engine.begin() as conn:
                conn.execute(text("SET LOCAL lock_timeout = '3s'"))
                conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            return
        except OperationalError:
            if attempt == 9:
                raise
            time.sleep(0.2)


@pytest.fixture
def session(engine, owner_engine):
    """A session on a clean database. Commits are real; the tables are emptied afterwards."""
    from core.clock import clock

    with Session(engine, expire_on_commit=False) as s:
        yield s
    clock.set(None)
    _truncate(owner_engine)
