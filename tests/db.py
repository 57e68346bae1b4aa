"""Finding a PostgreSQL server for the tests and making a fresh database on it."""
from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

LOCAL = "postgresql://postgres@127.0.0.1:5432/postgres"


def _answers(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=2):
            return True
    except psycopg.Error:
        return False


def server_url() -> str:
    """TEST_DATABASE_URL, else the local server when it answers, else an embedded one."""
    if os.environ.get("TEST_DATABASE_URL"):
        return os.environ["TEST_DATABASE_URL"]
    if _answers(LOCAL):
        return LOCAL
    from core import embedded_db

    data_dir = Path(tempfile.gettempdir()) / "voltdesk-test-pg"
    return embedded_db.start(data_dir, db_name="postgres").replace("postgresql+psycopg://", "postgresql://")


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def create_database(base_url: str) -> str:
    """Create a uniquely named database on the server and return its URL."""
    name = f"voltdesk_test_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(_libpq(base_url), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return make_url(_libpq(base_url)).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    u = make_url(url)
    admin = u.set(database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{u.database}" WITH (FORCE)')
