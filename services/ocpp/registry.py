"""The OCPP processes' liveness (docs/adr/0013-connection-registry-and-durable-ack.md).

Each OCPP process has a row it renews every few seconds. A row not renewed for OCPP_PROCESS_DEAD_AFTER_SECONDS
belongs to a dead process (kill -9, a lost machine): the sweep, run by every OCPP process and by the worker,
marks that process's chargers Offline, fails the commands it had claimed and not settled (their callers are
waiting on the row: services/ocpp/commands.py), and deletes the row. Which process holds which charger is on the
charger row (`connection_process_id`, `connection_generation`, `connection_token`, services/ocpp/presence.py).
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select, text
from sqlmodel import Session

from core.clock import utcnow
from models import Charger, OcppProcess
from services.ocpp.commands import fail_commands_of
from services.ocpp.presence import go_offline_many


def register_process(*, session: Session, hostname: str, pid: int, now: datetime) -> int:
    row = OcppProcess(hostname=hostname[:255], pid=pid, started_at=now, renewed_at=now)
    session.add(row)
    session.flush()
    return row.id


def renew_process(*, session: Session, process_id: int, now: datetime | None = None) -> bool:
    """False when the row is gone: the process was swept as dead (it stalled past the limit). Without `now`,
    the time is read here, on the database thread: a time read before waiting for that thread would renew
    the row into the past."""
    now = now or utcnow()
    return bool(session.execute(text("UPDATE ocpp_process SET renewed_at = greatest(renewed_at, :now)"
                                     " WHERE id = :id"), {"now": now, "id": process_id}).rowcount)


def _release(session: Session, process_ids: list[int], now: datetime, info: str) -> list[int]:
    # Locked, and the condition re-checked on the locked rows: a charger that reconnected to another process
    # while this runs is that process's now, and is not marked Offline.
    ids = session.execute(select(Charger.id).where(Charger.connection_process_id.in_(process_ids))
                          .order_by(Charger.id).with_for_update()).scalars().all()
    offline = go_offline_many(session=session, charger_ids=list(ids), now=now, info=info)
    fail_commands_of(session, process_ids)
    session.execute(delete(OcppProcess).where(OcppProcess.id.in_(process_ids)))
    return offline


def release_process(*, session: Session, process_id: int, now: datetime) -> int:
    """A clean stop: every charger the process holds goes Offline in one go, and its row is deleted."""
    return len(_release(session, [process_id], now, "Server stopped"))


def sweep_dead_processes(*, session: Session, now: datetime, dead_after: timedelta,
                         sweeper_id: int | None = None) -> list[int]:
    """Processes silent for longer than `dead_after`: their chargers go Offline. Returns those chargers' ids.
    A process never sweeps itself (`sweeper_id`): running the sweep proves it alive, and its own renewal may
    carry a time read before a long wait for a database thread (a reconnect storm), which once made a
    process close thousands of healthy connections."""
    query = select(OcppProcess.id).where(OcppProcess.renewed_at < now - dead_after)
    if sweeper_id is not None:
        query = query.where(OcppProcess.id != sweeper_id)
    dead = session.execute(query.with_for_update(skip_locked=True)).scalars().all()
    return _release(session, list(dead), now, "OCPP process stopped responding") if dead else []
