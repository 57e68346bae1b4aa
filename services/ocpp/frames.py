"""The raw OCPP frame log (session detail page): written in batches with one COPY."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from models import OcppMessage

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


def insert_frames(*, session: Session, rows: list[FrameRow]) -> int:
    if not rows:
        return 0
    raw = session.connection().connection.driver_connection
    with raw.cursor() as cur:
        with cur.copy(f"COPY ocpp_message ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for r in rows:
                tx = r.transaction_id if isinstance(r.transaction_id, int) and -2**31 <= r.transaction_id < 2**31 \
                    else None
                copy.write_row((r.charger_id, tx, r.direction, (r.action or None) and r.action[:40],
                                r.frame[:MAX_FRAME_CHARS].replace("\x00", ""), r.created_at))
    return len(rows)


def frames_for_session(*, session: Session, transaction_id: int, limit: int = 500) -> list[OcppMessage]:
    """Frames linked to one session, oldest first. Callers check the scope and Cap.VIEW_RAW_OCPP."""
    return list(session.execute(select(OcppMessage).where(OcppMessage.transaction_id == transaction_id)
                                .order_by(OcppMessage.created_at, OcppMessage.id).limit(limit)).scalars())
