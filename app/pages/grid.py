"""Grid monitor: live frequency gauge and trace, demand against generation, the generation mix, the health
state with its history, the chargers' own frequency and voltage on a map, and what the chargers draw now."""
import reflex as rx

from app.components import map as lmap
from app.components.layout import template
from app.components.ui import empty_state, page_header, stat_card, table_card
from services.access.permissions import Cap
from state.grid import GridState as S

MIX_COLORS = ["#0d9488", "#6366f1", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6", "#0ea5e9", "#84cc16", "#f97316"]


def _gauge() -> rx.Component:
    """A half dial from 49 to 51 Hz: red and amber bands at the region's thresholds, a needle on the value."""
    dial = rx.box(
        rx.box(width="4px", height="92px", background=rx.color("gray", 12), border_radius="2px",
               position="absolute", left="calc(50% - 2px)", bottom="0", transform_origin="50% 100%",
               transform=S.needle, transition="transform 0.6s ease-out", id="grid-needle"),
        rx.box(width="18px", height="18px", border_radius="50%", background=rx.color("gray", 12),
               position="absolute", left="calc(50% - 9px)", bottom="-9px"),
        width="220px", height="110px", position="relative", overflow="hidden",
        border_radius="110px 110px 0 0",
        background=("conic-gradient(from 270deg at 50% 100%, #e5484d 0deg 45deg, #ffc53d 45deg 72deg,"
                    " #30a46c 72deg 108deg, #ffc53d 108deg 135deg, #e5484d 135deg 180deg, transparent 180deg)"),
    )
    return rx.card(
        rx.vstack(
            rx.hstack(rx.text("Frequency", size="2", weight="medium", color_scheme="gray"), rx.spacer(),
                      rx.badge(S.state, color_scheme=S.state_color, size="2", id="grid-state",
                               variant="solid", high_contrast=False), width="100%"),
            rx.center(dial, width="100%", padding_top="6px"),
            rx.center(rx.heading(S.frequency_label, size="8", id="grid-frequency"), width="100%"),
            rx.center(rx.text("49 Hz", size="1", color_scheme="gray"), rx.spacer(),
                      rx.text(S.frequency_at, size="1", color_scheme="gray"), rx.spacer(),
                      rx.text("51 Hz", size="1", color_scheme="gray"), width="100%"),
            rx.text(S.reason, size="1", color_scheme="gray"),
            spacing="2", width="100%",
        ),
        width="320px", min_width="300px",
    )


def _trace() -> rx.Component:
    t = S.thresholds
    return rx.card(
        rx.vstack(
            rx.text("Frequency, last 10 minutes (Hz)", size="2", weight="medium", color_scheme="gray"),
            rx.recharts.line_chart(
                rx.recharts.line(data_key="hz", stroke=rx.color("teal", 9), dot=False, type_="monotone",
                                 is_animation_active=False, stroke_width=2),
                rx.recharts.reference_line(y=t["alert_low"].to(int), stroke="#ffc53d", stroke_dasharray="4 4"),
                rx.recharts.reference_line(y=t["emergency_low"].to(int), stroke="#e5484d", stroke_dasharray="4 4"),
                rx.recharts.reference_line(y=t["alert_high"].to(int), stroke="#ffc53d", stroke_dasharray="4 4"),
                rx.recharts.x_axis(data_key="t", tick_line=False, font_size=11, interval="preserveStartEnd"),
                rx.recharts.y_axis(domain=[49.4, 50.4], width=48, tick_line=False, font_size=11),
                rx.recharts.cartesian_grid(stroke_dasharray="3 3", vertical=False),
                rx.recharts.graphing_tooltip(),
                data=S.trace, height=230, width="100%",
            ),
            spacing="2", width="100%",
        ),
        flex="1", min_width="360px", id="grid-trace",
    )


def _balance() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(rx.text("Demand against generation, last 24 hours", size="2", weight="medium",
                              color_scheme="gray"), rx.spacer(),
                      rx.text("Demand ", S.demand, " · Generation ", S.generation, size="2", weight="bold"),
                      width="100%", wrap="wrap"),
            rx.recharts.line_chart(
                rx.recharts.line(data_key="demand", stroke=rx.color("indigo", 9), dot=False,
                                 is_animation_active=False, name="Demand (MW)"),
                rx.recharts.line(data_key="generation", stroke=rx.color("teal", 9), dot=False,
                                 is_animation_active=False, name="Generation (MW)"),
                rx.recharts.x_axis(data_key="t", tick_line=False, font_size=11, interval="preserveStartEnd"),
                rx.recharts.y_axis(width=56, tick_line=False, font_size=11),
                rx.recharts.cartesian_grid(stroke_dasharray="3 3", vertical=False),
                rx.recharts.legend(), rx.recharts.graphing_tooltip(),
                data=S.balance, height=220, width="100%",
            ),
            spacing="2", width="100%",
        ),
        flex="2", min_width="360px",
    )


def _mix() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text("Generation mix", size="2", weight="medium", color_scheme="gray"),
            rx.cond(
                S.mix.length() == 0,
                rx.text("This source publishes no mix.", size="2", color_scheme="gray"),
                rx.recharts.pie_chart(
                    rx.recharts.pie(
                        rx.foreach(S.mix, lambda m, i: rx.recharts.cell(fill=rx.Var.create(MIX_COLORS)[i % 9])),
                        data=S.mix, data_key="mw", name_key="fuel", inner_radius="45%", outer_radius="80%",
                        is_animation_active=False),
                    rx.recharts.legend(layout="vertical", align="right", vertical_align="middle"),
                    rx.recharts.graphing_tooltip(),
                    height=220, width="100%",
                ),
            ),
            spacing="2", width="100%",
        ),
        flex="1", min_width="320px", id="grid-mix",
    )


def _history() -> rx.Component:
    return table_card(
        rx.table.root(
            rx.table.header(rx.table.row(rx.table.column_header_cell("State"), rx.table.column_header_cell("From"),
                                         rx.table.column_header_cell("To"), rx.table.column_header_cell("Why"))),
            rx.table.body(rx.foreach(S.history, lambda h: rx.table.row(
                rx.table.cell(rx.badge(h["state"], variant="soft")), rx.table.cell(h["start"]),
                rx.table.cell(h["end"]), rx.table.cell(h["reason"]), align="center"))),
            variant="ghost", size="1", width="100%", id="grid-history",
        ),
    )


def _site(m) -> rx.Component:
    return lmap.circle_marker(
        lmap.tooltip(rx.fragment(m["name"], " · ", m["hz"], " · ", m["v"]), direction="top"),
        center=[m["lat"], m["lon"]], radius=8, path_options=m["style"],
    )


def _sites() -> rx.Component:
    placed = S.sites.length() > 0
    return rx.card(
        rx.vstack(
            rx.text("Chargers' own frequency and voltage", size="2", weight="medium", color_scheme="gray"),
            rx.cond(
                placed,
                rx.box(
                    lmap.map_container(
                        lmap.outlines(url=lmap.OUTLINES_URL),
                        rx.cond(S.tile_url != "", lmap.tile_layer(url=S.tile_url,
                                                                  attribution="&copy; OpenStreetMap contributors")),
                        rx.foreach(S.sites, _site),
                        center=[S.sites[0]["lat"], S.sites[0]["lon"]], zoom=9, max_zoom=18, scroll_wheel_zoom=False,
                        style={"height": "100%", "width": "100%", "background": lmap.SEA},
                    ),
                    height="260px", width="100%", border_radius="10px", overflow="hidden",
                ),
                empty_state("radio", "No charger reports its frequency",
                            "Switch on 'chargers as sensors' in the demand-response policy to ask them."),
            ),
            spacing="2", width="100%",
        ),
        flex="1", min_width="320px", id="grid-sites",
    )


def _event() -> rx.Component:
    e = S.event
    return rx.cond(
        e.contains("id"),
        rx.callout.root(
            rx.callout.icon(rx.icon("zap-off")),
            rx.callout.text(
                rx.text.strong("Demand response ", e["status"], ": "), e["organization"], " limited to ", e["limit"],
                " since ", e["started"], " (until ", e["ends"], "), ", e["origin_label"], " · ", e["limited"],
                " chargers limited, ", e["problems"], " rejected or offline."),
            color_scheme="amber", width="100%", id="grid-event",
        ),
    )


@template(route="/grid", title="Grid monitor", cap=Cap.VIEW_GRID, on_load=S.load)
def grid() -> rx.Component:
    return rx.vstack(
        page_header("Grid monitor", "Live frequency, demand and generation of your grid region, and what your "
                    "chargers draw against it.",
                    rx.select.root(
                        rx.select.trigger(placeholder="Region"),
                        rx.select.content(rx.foreach(S.region_options, lambda o: rx.select.item(o["name"],
                                                                                                 value=o["code"]))),
                        value=S.region, on_change=S.choose_region, size="2")),
        rx.cond(S.last_error != "", rx.callout(rx.text("The source did not answer: ", S.last_error),
                                               icon="triangle-alert", color_scheme="red", size="1", width="100%")),
        _event(),
        rx.flex(
            stat_card("Grid state", S.state, "activity", "teal"),
            stat_card("Chargers drawing now", S.drawing, "plug-zap", "indigo"),
            stat_card("Draw now", S.draw, "gauge", "amber"),
            gap="16px", width="100%", wrap="wrap",
        ),
        rx.flex(_gauge(), _trace(), gap="16px", width="100%", wrap="wrap"),
        rx.flex(_balance(), _mix(), gap="16px", width="100%", wrap="wrap"),
        rx.flex(rx.vstack(rx.heading("Health history", size="4"), _history(), flex="1", min_width="360px",
                          spacing="2"),
                _sites(), gap="16px", width="100%", wrap="wrap"),
        spacing="4", width="100%",
    )
