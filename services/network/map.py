"""The network map: visible chargers with coordinates, in scope, with their live status."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlmodel import Session

from models import Charger, Organization
from services.access.permissions import Cap
from services.access.scope import Scope

# Hard limit on markers sent to one browser; clustering keeps the map readable below it.
MAX_MARKERS = 20_000


@dataclass(frozen=True)
class Marker:
    id: int
    ocpp_id: str
    name: str
    organization_name: str
    address: str
    latitude: float
    longitude: float
    status: str


@dataclass(frozen=True)
class NetworkMap:
    markers: list[Marker]
    # Chargers in scope that have no coordinates yet (not on the map).
    unplaced: int
    center: tuple[float, float]


def network_map(*, session: Session, scope: Scope) -> NetworkMap:
    scope.require(Cap.VIEW_NETWORK)
    rows = session.execute(
        select(Charger.id, Charger.ocpp_id, Charger.name, Organization.name, Charger.address, Charger.latitude,
               Charger.longitude, Charger.status)
        .join(Organization, Organization.id == Charger.organization_id)
        .where(scope.charger_filter(), Charger.visible.is_(True))
        .order_by(Charger.ocpp_id).limit(MAX_MARKERS)
    ).all()
    markers, unplaced = [], 0
    for cid, ocpp_id, name, org, address, lat, lon, status in rows:
        if lat is None or lon is None:
            unplaced += 1
            continue
        markers.append(Marker(cid, ocpp_id, name, org, address, float(lat), float(lon), status))
    if markers:
        center = (float(sum(Decimal(m.latitude) for m in markers) / len(markers)),
                  float(sum(Decimal(m.longitude) for m in markers) / len(markers)))
    else:
        center = (20.0, 0.0)
    return NetworkMap(markers, unplaced, center)
