"""Id tags (RFID cards and app tokens)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlmodel import Session

from core.errors import Conflict, ValidationError
from models import IdTag, Organization


def create_id_tag(*, session: Session, tag: str, organization: Organization, expires_at: datetime | None = None,
                  holder_name: str = "", status: str = "Accepted") -> IdTag:
    tag = (tag or "").strip()
    if not 1 <= len(tag) <= 20:
        raise ValidationError("An idTag is 1 to 20 characters (OCPP 1.6 CiString20).", "tag")
    if expires_at is not None and expires_at.tzinfo is None:
        raise ValidationError("Expiry needs a timezone (for example 2027-01-31T23:59:59+00:00).", "expires")
    # IdTokens are case-insensitive (OCPP 1.6): "abc1" and "ABC1" are one card.
    if session.execute(select(IdTag.id).where(func.lower(IdTag.tag) == tag.lower())).first():
        raise Conflict(f"IdTag '{tag}' already exists.")
    row = IdTag(tag=tag, organization_id=organization.id, expires_at=expires_at, holder_name=holder_name,
                status=status)
    session.add(row)
    session.flush()
    return row
