"""The network map: the chosen organization's (or all) chargers as markers coloured by live status."""
from __future__ import annotations

import reflex as rx

from core.config import get_settings
from services.access.permissions import Cap
from services.network import map as svc
from state.base import AppState

# Live status → marker colour (Radix step 9 hex, so it matches the status badges).
MARKER_COLORS = {
    "Available": "#30a46c", "Charging": "#0090ff", "Preparing": "#00a2c7", "Finishing": "#00a2c7",
    "SuspendedEV": "#ffc53d", "SuspendedEVSE": "#ffc53d", "Reserved": "#6e56cf", "Unavailable": "#f76b15",
    "Faulted": "#e5484d", "Offline": "#8b8d98",
}
LEGEND = [{"status": s, "color": c} for s, c in MARKER_COLORS.items() if s not in ("SuspendedEVSE", "Finishing")]
# A cluster of markers takes the colour of the worst status inside it: faults and lost chargers first.
WORST_FIRST = ["Faulted", "Offline", "Unavailable", "SuspendedEVSE", "SuspendedEV", "Reserved", "Preparing",
               "Finishing", "Charging", "Available"]


class NetworkState(AppState):
    markers: list[dict] = []
    center: list[float] = [20.0, 0.0]
    zoom: int = 2
    unplaced: int = 0
    counts: list[dict[str, str]] = []
    tile_url: str = ""
    loading: bool = False
    # Re-mounts the map when the organization changes, so it re-centres.
    map_key: int = 0

    @rx.event
    async def load(self):
        self.loading = True
        yield
        call = await self._call(lambda s, u, scope: svc.network_map(session=s, scope=scope), cap=Cap.VIEW_NETWORK)
        self.loading = False
        if not call.ok:
            yield call.answer
            return
        m = call.value
        self.tile_url = get_settings().map_tile_url
        self.markers = [{"id": str(k.id), "ocpp_id": k.ocpp_id, "name": k.name, "org": k.organization_name,
                         "status": k.status, "lat": k.latitude, "lon": k.longitude,
                         "style": {"color": "#ffffff", "weight": 1.5, "fillOpacity": 0.95,
                                   "fillColor": MARKER_COLORS.get(k.status, "#8b8d98")}} for k in m.markers]
        self.center, self.unplaced = [m.center[0], m.center[1]], m.unplaced
        lats = [k.latitude for k in m.markers] or [0.0]
        lons = [k.longitude for k in m.markers] or [0.0]
        spread = max(max(lats) - min(lats), max(lons) - min(lons))
        # A rough fit: wide networks start zoomed out, a single site close in.
        self.zoom = 2 if spread > 60 else 4 if spread > 15 else 7 if spread > 2 else 11 if spread > 0.1 else 13
        counts: dict[str, int] = {}
        for k in m.markers:
            counts[k.status] = counts.get(k.status, 0) + 1
        self.counts = [{"status": s, "count": str(n)} for s, n in sorted(counts.items())]
        self.map_key += 1
