"""Authorize and the idTag checks shared with StartTransaction."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from models import Charger, IdTag, Organization


def _org_chain(session: Session, org_id: int) -> set[int]:
    """The organization and its ancestors: a tag of a parent organization may charge in its sub-organizations."""
    chain: set[int] = set()
    while org_id is not None and org_id not in chain:
        chain.add(org_id)
        org = session.get(Organization, org_id)
        org_id = org.parent_id if org else None
    return chain


def check_id_tag(*, session: Session, charger_id: int, id_tag: str, now: datetime) -> tuple[dict, IdTag | None]:
    """OCPP IdTagInfo for `id_tag` at this charger, and the tag row when it exists.

    Status, expiry and blocking come from the tag; a tag of an organization that does not own the charger
    (or an ancestor of it) is Invalid here.
    """
    tag = session.execute(select(IdTag).where(IdTag.tag == id_tag)).scalar_one_or_none()
    if tag is None:
        return {"status": "Invalid"}, None
    info: dict = {}
    if tag.expires_at is not None:
        info["expiryDate"] = tag.expires_at.isoformat()
    if tag.parent_tag:
        info["parentIdTag"] = tag.parent_tag
    charger = session.get(Charger, charger_id)
    if tag.status != "Accepted":
        status = tag.status
    elif tag.expires_at is not None and tag.expires_at <= now:
        status = "Expired"
    elif tag.organization_id not in _org_chain(session, charger.organization_id):
        status = "Invalid"
    else:
        status = "Accepted"
    return {"status": status, **info}, tag


def authorize(*, session: Session, charger_id: int, id_tag: str, now: datetime) -> dict:
    info, _ = check_id_tag(session=session, charger_id=charger_id, id_tag=id_tag, now=now)
    return info
