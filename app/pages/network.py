"""Network map: the organization's chargers on a map, coloured by live status, clustered; click to open."""
import reflex as rx

from app.components import map as lmap
from app.components.layout import template
from app.components.ui import empty_state, loading_block, page_header, status_badge
from services.access.permissions import Cap
from state.network import LEGEND, MARKER_COLORS, WORST_FIRST
from state.network import NetworkState as S


def _marker(m) -> rx.Component:
    return lmap.circle_marker(
        lmap.tooltip(rx.fragment(m["name"], " · ", m["status"]), direction="top"),
        center=[m["lat"], m["lon"]], radius=8, path_options=m["style"], status=m["status"],
        event_handlers=lmap.open_on_click(m["id"]),
    )


def _map() -> rx.Component:
    return rx.box(
        lmap.map_container(
            lmap.outlines(url=lmap.OUTLINES_URL),
            rx.cond(S.tile_url != "", lmap.tile_layer(url=S.tile_url, attribution="&copy; OpenStreetMap contributors")),
            lmap.status_cluster_group(rx.foreach(S.markers, _marker), chunked_loading=True, max_cluster_radius=45,
                                      show_coverage_on_hover=False, worst_first=WORST_FIRST, colors=MARKER_COLORS),
            center=S.center, zoom=S.zoom, min_zoom=2, max_zoom=18, scroll_wheel_zoom=True, prefer_canvas=False,
            world_copy_jump=True,
            style={"height": "100%", "width": "100%", "background": lmap.SEA},
            key=S.map_key,
        ),
        height="560px", width="100%", border_radius="12px", overflow="hidden",
        border=f"1px solid {rx.color('gray', 5)}", background=lmap.SEA, id="network-map",
    )


def _legend() -> rx.Component:
    return rx.flex(
        *[rx.hstack(rx.box(width="10px", height="10px", border_radius="50%", background=item["color"]),
                    rx.text(item["status"], size="1", color_scheme="gray"), spacing="1", align="center")
          for item in LEGEND],
        gap="14px", wrap="wrap",
    )


@template(route="/network", title="Network map", cap=Cap.VIEW_NETWORK, on_load=S.load)
def network() -> rx.Component:
    return rx.vstack(
        page_header("Network map", "Chargers by location, coloured by live status; a group takes the colour of the "
                    "worst status inside it. Click a marker to open it."),
        rx.hstack(rx.foreach(S.counts, lambda c: rx.hstack(status_badge(c["status"]), rx.text(c["count"],
                                                           weight="bold"), spacing="1", align="center")),
                  rx.spacer(), _legend(), width="100%", align="center", wrap="wrap"),
        rx.cond(
            S.loading & (S.markers.length() == 0),
            loading_block(),
            rx.cond(
                S.markers.length() == 0,
                rx.card(empty_state("map-pin-off", "No chargers on the map",
                                    "Add latitude and longitude to chargers to place them here."), width="100%"),
                _map(),
            ),
        ),
        rx.cond(S.unplaced > 0, rx.text(S.unplaced, " chargers have no coordinates and are not on the map.", size="2",
                                        color_scheme="gray")),
        spacing="4", width="100%",
    )
