"""The dashboard overview: status counts and one page of charger cards, all inside a Scope.

Only chargers marked visible count; the visibility toggle hides a charger from dashboards.
Counting and paging happen in SQL so the page stays cheap whatever the network size.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlmodel import Session

from models import Charger, Organization
from models.charger import LIVE_STATUSES
from services.permissions import Cap
from services.scope import Scope


@dataclass(frozen=True)
class ChargerCard:
    id: int
    ocpp_id: str
    name: str
    organization_name: str
    status: str
    lifecycle_status: str
    connected: bool
    last_heartbeat_at: datetime | None


@dataclass(frozen=True)
class Overview:
    # Every OCPP status with its count, in LIVE_STATUSES order (zeros included).
    status_counts: dict[str, int]
    organizations: int
    chargers: int
    cards: list[ChargerCard] = field(default_factory=list)
    # How many cards match the status filter and search (for pagination).
    matching: int = 0


def overview(*, session: Session, scope: Scope, status: str | None = None, search: str | None = None,
             limit: int = 24, offset: int = 0) -> Overview:
    scope.require(Cap.VIEW_DASHBOARD)
    visible = [scope.charger_filter(), Charger.visible.is_(True)]
    counts = dict.fromkeys(LIVE_STATUSES, 0)
    for st, n in session.execute(select(Charger.status, func.count()).where(*visible).group_by(Charger.status)):
        counts[st] = n
    organizations = session.execute(
        select(func.count()).select_from(Organization).where(scope.org_filter(Organization.id))
    ).scalar_one()

    where = list(visible)
    if status:
        where.append(Charger.status == status)
    if search and search.strip():
        like = f"%{search.strip()}%"
        where.append(or_(Charger.ocpp_id.ilike(like), Charger.name.ilike(like)))
    matching = session.execute(select(func.count()).select_from(Charger).where(*where)).scalar_one()
    rows = session.execute(
        select(Charger, Organization.name)
        .join(Organization, Organization.id == Charger.organization_id)
        .where(*where)
        .order_by(Charger.ocpp_id)
        .limit(limit)
        .offset(offset)
    ).all()
    cards = [ChargerCard(c.id, c.ocpp_id, c.name, org, c.status, c.lifecycle_status, c.connected,
                         c.last_heartbeat_at) for c, org in rows]
    return Overview(status_counts=counts, organizations=organizations, chargers=sum(counts.values()),
                    cards=cards, matching=matching)
