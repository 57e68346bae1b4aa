"""The batch writers' own loop: a write runs off the server's event loop, a dropped connection is opened again,
and a stop leaves no thread behind."""
from __future__ import annotations

import threading

import psycopg
import pytest
from sqlalchemy import text

from core.db import libpq_url
from ocpp_server.writers import Writers


async def _where(*, conn: psycopg.AsyncConnection) -> tuple[str, int]:
    await conn.execute("SELECT 1")
    return threading.current_thread().name, conn.info.backend_pid


async def test_a_batch_runs_on_the_writers_thread_and_a_local_writer_on_the_callers(engine):
    writers = Writers(libpq_url(engine), ("meters",), local=("handshakes",))
    try:
        assert (await writers.run("meters", _where, {}))[0] == "db-writers"
        assert (await writers.run("handshakes", _where, {}))[0] == threading.current_thread().name
    finally:
        await writers.close()
    assert not any(t.name == "db-writers" for t in threading.enumerate())
    assert not writers.connected("meters") and not writers.connected("handshakes")


async def test_a_connection_the_database_dropped_fails_once_and_the_next_batch_opens_a_new_one(engine, session):
    writers = Writers(libpq_url(engine), ("meters",))
    try:
        _, pid = await writers.run("meters", _where, {})
        session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        session.commit()
        with pytest.raises(psycopg.OperationalError):
            await writers.run("meters", _where, {})  # the caller hears it (the server answers InternalError)
        assert not writers.connected("meters")
        _, again = await writers.run("meters", _where, {})
        assert again != pid
    finally:
        await writers.close()
