"""The raw OCPP frame log (session detail page): written in batches with one COPY.

The table is partitioned by UTC day (migration ocpp18b_04): `maintain_partitions` (a worker job) makes the
next days' partitions and drops whole days older than OCPP_FRAME_LOG_DAYS, which costs nothing like a DELETE.

A frame is linked to a session only when the session is the sending charger's own: the `transactionId` in a
payload is the charger's word, and another tenant's charger must not write into a session's log.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

import psycopg
from sqlalchemy import select, text
from sqlmodel import Session

from models import OcppMessage, Transaction

COLUMNS = ("charger_id", "transaction_id", "direction", "action", "frame", "created_at")
# Frames are size-limited at the socket; this only protects the log from pathological input.
MAX_FRAME_CHARS = 65536


@dataclass(frozen=True)
class FrameRow:
    charger_id: int
    transaction_id: int | None
    direction: str  # "in" or "out"
    action: str | None
    frame: str
    created_at: datetime


_COPY_SQL = f"COPY ocpp_message ({', '.join(COLUMNS)}) FROM STDIN"


def _copy_tuple(r: FrameRow) -> tuple:
    tx = r.transaction_id if isinstance(r.transaction_id, int) and -2**31 <= r.transaction_id < 2**31 else None
    return (r.charger_id, tx, r.direction, (r.action or None) and r.action[:40],
            r.frame[:MAX_FRAME_CHARS].replace("\x00", ""), r.created_at)


_OWNERS_SQL = "SELECT id, charger_id FROM charging_session WHERE id = ANY(%(ids)s)"


def _own_links(rows: list[FrameRow], owners: dict[int, int]) -> list[FrameRow]:
    """Drop the session link of frames whose session belongs to another charger (or to none)."""
    return [r if r.transaction_id is None or owners.get(r.transaction_id) == r.charger_id
            else replace(r, transaction_id=None) for r in rows]


async def insert_frames_async(*, conn: psycopg.AsyncConnection, rows: list[FrameRow]) -> int:
    """One COPY on an autocommit connection: atomic on its own, and one round trip instead of three with
    BEGIN/COMMIT (each round trip wakes PostgreSQL, which then competes with the event loop for the CPU).
    Batches that name sessions first read which charger each belongs to (one more round trip)."""
    if not rows:
        return 0
    async with conn.cursor() as cur:
        ids = list({tx for r in rows if (tx := _copy_tuple(r)[1]) is not None})
        if ids:
            owners = dict(await (await cur.execute(_OWNERS_SQL, {"ids": ids})).fetchall())
            rows = _own_links(rows, owners)
        async with cur.copy(_COPY_SQL) as copy:
            for r in rows:
                await copy.write_row(_copy_tuple(r))
    return len(rows)


def frames_for_transaction(*, session: Session, transaction_id: int, limit: int = 500) -> list[OcppMessage]:
    """Frames linked to one session, oldest first, sent by the session's own charger (links written before
    the check at write time are filtered here too). Callers check the scope and Cap.VIEW_RAW_OCPP."""
    own_charger = select(Transaction.charger_id).where(Transaction.id == transaction_id).scalar_subquery()
    return list(session.execute(select(OcppMessage).where(OcppMessage.transaction_id == transaction_id,
                                                          OcppMessage.charger_id == own_charger)
                                .order_by(OcppMessage.created_at, OcppMessage.id).limit(limit)).scalars())


_PARTITIONS_SQL = text(
    "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent"
    " WHERE p.relname = 'ocpp_message' AND c.relname ~ '^ocpp_message_[0-9]{8}$'")


def _name(day: date) -> str:
    return f"ocpp_message_{day:%Y%m%d}"


def maintain_partitions(*, session: Session, today: date, keep_days: int, ahead: int = 3) -> list[str]:
    """Make the day partitions from today to `ahead` days on; drop those wholly older than `keep_days`.
    Returns the names dropped. Safe to run from several workers (IF NOT EXISTS / IF EXISTS)."""
    existing = set(session.execute(_PARTITIONS_SQL).scalars())
    for n in range(ahead + 1):
        day = today + timedelta(days=n)
        if _name(day) not in existing:
            session.execute(text(
                f"CREATE TABLE IF NOT EXISTS {_name(day)} PARTITION OF ocpp_message FOR VALUES"
                f" FROM ('{day.isoformat()} 00:00+00') TO ('{(day + timedelta(days=1)).isoformat()} 00:00+00')"))
    oldest_kept = _name(today - timedelta(days=keep_days))
    dropped = sorted(name for name in existing if name < oldest_kept)
    for name in dropped:
        session.execute(text(f"DROP TABLE IF EXISTS {name}"))
    return dropped
