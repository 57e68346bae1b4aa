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
def database_url() -> str:
    url = testdb.create_database(testdb.server_url())
    os.environ["DATABASE_URL"] = url
    from core.config import get_settings
    from core.db import normalize_url, reset_engine
    from core.migrate import upgrade

    get_settings.cache_clear()
    reset_engine()
    upgrade(normalize_url(url))
    yield url
    reset_engine()
    testdb.drop_database(url)


@pytest.fixture(scope="session")
def engine(database_url):
    from core.db import get_engine

    return get_engine()


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
def session(engine):
    """A session on a clean database. Commits are real; the tables are emptied afterwards."""
    from core.clock import clock

    with Session(engine, expire_on_commit=False) as s:
        yield s
    clock.set(None)
    _truncate(engine)
