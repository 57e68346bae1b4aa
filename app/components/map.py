"""react-leaflet wrapped as Reflex components: a map, a tile layer, clustered circle markers.

Leaflet needs `window`, so every piece renders on the client only (NoSSRComponent). Markers are
vector circles coloured by live status, so they show even when the tile server cannot be reached:
the map then has a plain neutral background. Clustering is react-leaflet-cluster (Leaflet.markercluster),
which groups nearby markers at low zoom and spreads them as you zoom in.
"""
from __future__ import annotations

from typing import Any

import reflex as rx

REACT_LEAFLET = "react-leaflet@5.0.0"
LEAFLET = "leaflet@1.9.4"
CLUSTER = "react-leaflet-cluster@4.1.3"
MARKERCLUSTER = "leaflet.markercluster@1.5.3"


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


class Tooltip(_Leaflet):
    tag = "Tooltip"
    direction: rx.Var[str]


class MarkerClusterGroup(rx.NoSSRComponent):
    library = CLUSTER
    tag = "MarkerClusterGroup"
    is_default = True
    lib_dependencies: list[str] = [MARKERCLUSTER, REACT_LEAFLET, LEAFLET]
    chunked_loading: rx.Var[bool]
    max_cluster_radius: rx.Var[int]
    show_coverage_on_hover: rx.Var[bool]


def open_on_click(charger_id: rx.Var) -> rx.Var:
    """Leaflet's eventHandlers: a click on the marker opens the charger's page."""
    return rx.Var(_js_expr=f"({{click: () => window.location.assign('/chargers/' + {charger_id!s})}})")


map_container = MapContainer.create
tile_layer = TileLayer.create
circle_marker = CircleMarker.create
tooltip = Tooltip.create
marker_cluster_group = MarkerClusterGroup.create
