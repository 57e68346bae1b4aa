"""Authorize and the idTag checks shared with StartTransaction."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlmodel import Session

from models import Charger, IdTag, Organization
from services.customers.assets import public_charging_refused


def org_chain(session: Session, org_id: int) -> set[int]:
    """The organization and its ancestors: a tag of a parent organization may charge in its sub-organizations."""
    chain: set[int] = set()
    while org_id is not None and org_id not in chain:
        chain.add(org_id)
        org = session.get(Organization, org_id)
        org_id = org.parent_id if org else None
    return chain


def find_id_tag(session: Session, id_tag: str) -> IdTag | None:
    """OCPP 1.6 IdToken is a case-insensitive identifier: "abc1" is the card "ABC1" (unique index on lower(tag))."""
    return session.execute(select(IdTag).where(func.lower(IdTag.tag) == id_tag.lower())).scalar_one_or_none()


def check_id_tag(*, session: Session, charger_id: int, id_tag: str, now: datetime) -> tuple[dict, IdTag | None]:
    """OCPP IdTagInfo for `id_tag` at this charger, and the tag row when the charger may use it.

    The organization comes first: a tag of an organization that does not own the charger (or an ancestor of
    it) is plain Invalid, as if it did not exist, so a charger learns nothing about another tenant's tags (not
    their expiry, parent, or Blocked/Expired status). Then status, expiry and blocking come from the tag.
    Last, a card otherwise Accepted is plain Invalid where its customer's Enterprise plan has public charging
    off (a charger not of its account), or on such an account's charger that is not its card; the tag row is
    still returned, so the session the charger records anyway is linked to its account.
    """
    tag = find_id_tag(session, id_tag)
    charger = session.get(Charger, charger_id)
    if tag is None or tag.organization_id not in org_chain(session, charger.organization_id):
        return {"status": "Invalid"}, None
    info: dict = {}
    if tag.expires_at is not None:
        info["expiryDate"] = tag.expires_at.isoformat()
    if tag.parent_tag:
        info["parentIdTag"] = tag.parent_tag
    if tag.status != "Accepted":
        status = tag.status
    elif _group_blocked(session, tag):
        status = "Blocked"  # the whole group (parentIdTag) is blocked
    elif tag.expires_at is not None and tag.expires_at <= now:
        status = "Expired"
    elif public_charging_refused(session, id_tag_id=tag.id, charger_id=charger.id):
        return {"status": "Invalid"}, tag
    else:
        status = "Accepted"
    return {"status": status, **info}, tag


def _group_blocked(session: Session, tag: IdTag) -> bool:
    if not tag.parent_tag:
        return False
    group = find_id_tag(session, tag.parent_tag)
    return group is not None and group.organization_id == tag.organization_id and group.status == "Blocked"


def authorize(*, session: Session, charger_id: int, id_tag: str, now: datetime) -> dict:
    info, _ = check_id_tag(session=session, charger_id=charger_id, id_tag=id_tag, now=now)
    return info
