"""Chargers that tried to connect without being registered (the OCPP server records them)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlmodel import Session

from core.errors import NotFound
from models import UnknownCharger
from services.access.permissions import Cap
from services.access.scope import Scope


@dataclass(frozen=True)
class UnknownRow:
    id: int
    ocpp_id: str
    remote_address: str | None
    attempts: int
    first_seen_at: datetime
    last_seen_at: datetime | None


def list_unknown(*, session: Session, scope: Scope, limit: int = 50, offset: int = 0) -> tuple[list[UnknownRow], int]:
    """Newest attempts first, one row per id and address. They belong to no organization, so only roles that
    manage the whole network see them (the capability)."""
    scope.require(Cap.VIEW_UNKNOWN_CHARGERS)
    total = session.execute(select(func.count()).select_from(UnknownCharger)).scalar_one()
    rows = session.execute(select(UnknownCharger).order_by(
        func.coalesce(UnknownCharger.last_seen_at, UnknownCharger.first_seen_at).desc(), UnknownCharger.id.desc())
        .limit(limit).offset(offset)).scalars()
    return [UnknownRow(u.id, u.ocpp_id, u.remote_address, u.attempts, u.first_seen_at, u.last_seen_at)
            for u in rows], total


def dismiss(*, session: Session, scope: Scope, unknown_id: int) -> None:
    """Forget an entry (it comes back if the charger tries again)."""
    scope.require(Cap.VIEW_UNKNOWN_CHARGERS)
    scope.require(Cap.MANAGE_CHARGERS)
    if not session.execute(delete(UnknownCharger).where(UnknownCharger.id == unknown_id)).rowcount:
        raise NotFound("Unknown charger not found.")
