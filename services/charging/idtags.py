"""Id tags (RFID cards and app tokens)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlmodel import Session

from core.errors import Conflict, NotFound, ValidationError
from models import IdTag, Organization
from models.charger import IdTagStatus
from services.access.permissions import Cap


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


def set_group(*, session: Session, scope, tag: str, group: str | None) -> IdTag:
    """Give a tag a group (OCPP parentIdTag) or take it out of one. The group is itself an id tag of the same
    organization, so blocking that tag blocks the whole group (services/ocpp/authorize.py)."""
    scope.require(Cap.MANAGE_ID_TAGS)
    row = _in_scope(session, scope, tag)
    group = (group or "").strip() or None
    if group is not None:
        parent = _in_scope(session, scope, group)
        if parent.organization_id != row.organization_id:
            raise ValidationError("The group tag must belong to the same organization as the tag.", "group")
        if parent.id == row.id or (parent.parent_tag or "").lower() == row.tag.lower():
            raise ValidationError("A tag cannot be its own group.", "group")
        group = parent.tag
    row.parent_tag = group
    session.flush()
    return row


def set_status(*, session: Session, scope, tag: str, status: str) -> IdTag:
    """Block or unblock a tag; for a group tag this blocks or unblocks every tag in the group."""
    scope.require(Cap.MANAGE_ID_TAGS)
    if status not in (IdTagStatus.ACCEPTED, IdTagStatus.BLOCKED):
        raise ValidationError("Status must be Accepted or Blocked.", "status")
    row = _in_scope(session, scope, tag)
    row.status = status
    session.flush()
    return row


def group_members(*, session: Session, scope, group: str) -> list[str]:
    parent = _in_scope(session, scope, group)
    return list(session.execute(select(IdTag.tag).where(func.lower(IdTag.parent_tag) == parent.tag.lower(),
                                                        IdTag.organization_id == parent.organization_id)
                                .order_by(IdTag.tag)).scalars())


def _in_scope(session: Session, scope, tag: str) -> IdTag:
    row = session.execute(select(IdTag).where(func.lower(IdTag.tag) == (tag or "").strip().lower(),
                                              scope.org_filter(IdTag.organization_id))).scalar_one_or_none()
    if row is None:
        raise NotFound(f"IdTag '{tag}' not found.")
    return row
