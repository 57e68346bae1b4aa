"""Id tags (RFID cards and app tokens)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlmodel import Session

from core.db import exists_anywhere
from core.errors import Conflict, NotFound, ValidationError
from core.search import search_clause
from core.validation import check_text
from models import IdTag, Organization
from models.charger import IdTagStatus
from services.access import audit
from services.access.permissions import Cap
from services.access.scope import Scope, get_in_scope

HOLDER_MAX = 200


@dataclass(frozen=True)
class IdTagRow:
    id: int
    tag: str
    organization_id: int
    status: str
    group: str | None
    holder_name: str
    expires_at: datetime | None
    created_at: datetime


def _row(t: IdTag) -> IdTagRow:
    return IdTagRow(t.id, t.tag, t.organization_id, t.status, t.parent_tag, t.holder_name, t.expires_at, t.created_at)


def _holder(value: str | None) -> str:
    value = check_text((value or "").strip(), "holder_name")
    if len(value) > HOLDER_MAX:
        raise ValidationError(f"Holder name must be at most {HOLDER_MAX} characters.", "holder_name")
    return value


def create_id_tag(*, session: Session, tag: str, organization: Organization, expires_at: datetime | None = None,
                  holder_name: str = "", status: str = "Accepted") -> IdTag:
    tag = (tag or "").strip()
    if not 1 <= len(tag) <= 20:
        raise ValidationError("An idTag is 1 to 20 characters (OCPP 1.6 CiString20).", "tag")
    if expires_at is not None and expires_at.tzinfo is None:
        raise ValidationError("Expiry needs a timezone (for example 2027-01-31T23:59:59+00:00).", "expires")
    # IdTokens are case-insensitive (OCPP 1.6): "abc1" and "ABC1" are one card.
    # Row-level security hides other tenants' tags from a user's session; the check must see them all.
    if exists_anywhere(session, select(IdTag.id).where(func.lower(IdTag.tag) == tag.lower())):
        raise Conflict(f"IdTag '{tag}' already exists.", "tag")
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


def list_id_tags(*, session: Session, scope: Scope, search: str | None = None, limit: int = 50,
                 offset: int = 0) -> tuple[list[IdTagRow], int]:
    """One page of the id tags of the organizations in scope, and the total."""
    scope.require(Cap.MANAGE_ID_TAGS)
    where = [scope.org_filter(IdTag.organization_id)]
    if (found := search_clause(search, IdTag.tag, IdTag.holder_name)) is not None:
        where.append(found)
    total = session.execute(select(func.count()).select_from(IdTag).where(*where)).scalar_one()
    rows = session.execute(select(IdTag).where(*where).order_by(IdTag.tag).limit(limit).offset(offset)).scalars()
    return [_row(t) for t in rows], total


def get_id_tag(*, session: Session, scope: Scope, tag: str) -> IdTagRow:
    scope.require(Cap.MANAGE_ID_TAGS)
    return _row(_in_scope(session, scope, tag))


def add_id_tag(*, session: Session, scope: Scope, user_id: int, organization_id: int, tag: str,
               holder_name: str = "", expires_at: datetime | None = None) -> IdTagRow:
    """A new card or app token for an organization in scope. Tags are global (one card, one organization):
    a tag another organization holds is refused without saying whose it is."""
    scope.require(Cap.MANAGE_ID_TAGS)
    org = get_in_scope(session, Organization, organization_id, scope)
    row = create_id_tag(session=session, tag=tag, organization=org, expires_at=expires_at,
                        holder_name=_holder(holder_name))
    audit.record(session=session, user_id=user_id, organization_id=org.id, entity="id_tag", entity_id=row.id,
                 action="create", changes={"tag": row.tag, "holder_name": row.holder_name})
    return _row(row)


def update_id_tag(*, session: Session, scope: Scope, user_id: int, tag: str, **changes) -> IdTagRow:
    """Change a tag's holder name or expiry (None: no expiry); status and group have their own calls."""
    scope.require(Cap.MANAGE_ID_TAGS)
    row = _in_scope(session, scope, tag)
    unknown = set(changes) - {"holder_name", "expires_at"}
    if unknown:
        raise ValidationError(f"Unknown field: {sorted(unknown)[0]}.", sorted(unknown)[0])
    clean = {}
    if "holder_name" in changes:
        clean["holder_name"] = _holder(changes["holder_name"])
    if "expires_at" in changes:
        expires = changes["expires_at"]
        if expires is not None and expires.tzinfo is None:
            raise ValidationError("Expiry needs a timezone (for example 2027-01-31T23:59:59+00:00).", "expires_at")
        clean["expires_at"] = expires
    changed = audit.diff({k: getattr(row, k) for k in clean}, clean)
    for key, value in clean.items():
        setattr(row, key, value)
    session.add(row)
    session.flush()
    if changed:
        audit.record(session=session, user_id=user_id, organization_id=row.organization_id, entity="id_tag",
                     entity_id=row.id, action="update", changes=changed)
    return _row(row)
