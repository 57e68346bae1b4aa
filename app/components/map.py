"""react-leaflet wrapped as Reflex components: a map, a tile layer, bundled country outlines, clustered circle
markers.

Leaflet needs `window`, so every piece renders on the client only (NoSSRComponent). Markers are
vector circles coloured by live status, so they show even when the tile server cannot be reached.
Under the tiles lie country outlines shipped with the app (`assets/world-outlines.geojson`: Natural Earth
1:50m countries, public domain, from the world-atlas package's TopoJSON, coordinates rounded to 0.01°), so
offline the map shows land, sea and borders instead of a grey canvas. Clustering is react-leaflet-cluster
(Leaflet.markercluster), which groups nearby markers at low zoom and spreads them as you zoom in; each cluster
takes the colour of the worst status inside it (`assets/network_map.js`).
"""
from __future__ import annotations

from typing import Any

import reflex as rx

REACT_LEAFLET = "react-leaflet@5.0.0"
LEAFLET = "leaflet@1.9.4"
CLUSTER = "react-leaflet-cluster@4.1.3"
MARKERCLUSTER = "leaflet.markercluster@1.5.3"
# Our own Leaflet pieces, a module in assets/ (imported by the browser build only).
NETWORK_MAP_JS = "$/public/network_map.js"
OUTLINES_URL = "/world-outlines.geojson"
SEA = "#dce6ee"  # the map's background where no outline (land) is drawn


class _Leaflet(rx.NoSSRComponent):
    library = REACT_LEAFLET
    lib_dependencies: list[str] = [LEAFLET]


class MapContainer(_Leaflet):
    tag = "MapContainer"
    center: rx.Var[list[float]]
    zoom: rx.Var[int]
    scroll_wheel_zoom: rx.Var[bool]
    prefer_canvas: rx.Var[bool]
    world_copy_jump: rx.Var[bool]
    # Clustering needs a maximum zoom; without a tile layer (offline, or no MAP_TILE_URL) none would set it.
    min_zoom: rx.Var[int]
    max_zoom: rx.Var[int]

    def add_imports(self) -> dict[str, Any]:
        return {"": ["leaflet/dist/leaflet.css", "leaflet.markercluster/dist/MarkerCluster.css",
                     "leaflet.markercluster/dist/MarkerCluster.Default.css"]}


class TileLayer(_Leaflet):
    tag = "TileLayer"
    url: rx.Var[str]
    attribution: rx.Var[str]


class CircleMarker(_Leaflet):
    tag = "CircleMarker"
    center: rx.Var[list[float]]
    radius: rx.Var[int]
    path_options: rx.Var[dict[str, Any]]
    event_handlers: rx.Var[dict[str, Any]]
    # Kept in the marker's Leaflet options: its cluster reads it to take the worst status's colour.
    status: rx.Var[str]


class Tooltip(_Leaflet):
    tag = "Tooltip"
    direction: rx.Var[str]


class Outlines(rx.NoSSRComponent):
    """Country outlines under the tiles, read from a file the app ships."""
    library = NETWORK_MAP_JS
    tag = "Outlines"
    lib_dependencies: list[str] = [REACT_LEAFLET, LEAFLET]
    url: rx.Var[str]


class StatusClusterGroup(rx.NoSSRComponent):
    """react-leaflet-cluster's group; a cluster is coloured by the worst status among its markers."""
    library = NETWORK_MAP_JS
    tag = "StatusClusterGroup"
    lib_dependencies: list[str] = [CLUSTER, MARKERCLUSTER, REACT_LEAFLET, LEAFLET]
    chunked_loading: rx.Var[bool]
    max_cluster_radius: rx.Var[int]
    show_coverage_on_hover: rx.Var[bool]
    # Statuses from worst to best, and each one's colour.
    worst_first: rx.Var[list[str]]
    colors: rx.Var[dict[str, str]]


def open_on_click(charger_id: rx.Var) -> rx.Var:
    """Leaflet's eventHandlers: a click on the marker opens the charger's page."""
    return rx.Var(_js_expr=f"({{click: () => window.location.assign('/chargers/' + {charger_id!s})}})")


map_container = MapContainer.create
tile_layer = TileLayer.create
circle_marker = CircleMarker.create
tooltip = Tooltip.create
outlines = Outlines.create
status_cluster_group = StatusClusterGroup.create
