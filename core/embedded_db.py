"""Embedded PostgreSQL (the `pgserver` wheel) for when DATABASE_URL is unset.

The server keeps its data under DATA_DIR/pg and listens on a unix socket only.
See docs/adr/0001-embedded-postgresql.md.
"""
from __future__ import annotations

import logging
from pathlib import Path

DB_NAME = "voltdesk"
log = logging.getLogger(__name__)


def _server(data_dir: Path):
    import pgserver  # imported lazily: production never needs it

    pgdata = (data_dir / "pg").resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    # cleanup_mode=None: the server outlives this process; `stop()` ends it.
    return pgserver.get_server(pgdata, cleanup_mode=None)


def start(data_dir: Path, db_name: str = DB_NAME) -> str:
    """Start (or reuse) the embedded server and return a SQLAlchemy URL for `db_name`."""
    server = _server(data_dir)
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{db_name}';")
    if "(1 row)" not in exists:
        server.psql(f'CREATE DATABASE "{db_name}";')
    socket_dir = server.get_postmaster_info().socket_dir
    return f"postgresql+psycopg://postgres@/{db_name}?host={socket_dir}"


def stop(data_dir: Path) -> None:
    from pgserver._commands import pg_ctl

    pgdata = (data_dir / "pg").resolve()
    if (pgdata / "postmaster.pid").exists():
        user = "pgserver" if _is_root() else None
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user)


def _is_root() -> bool:
    import os

    return hasattr(os, "geteuid") and os.geteuid() == 0
