"""Dashboard: live status counts and charger cards, revenue per currency, charts and charger performance."""
import reflex as rx

from app.components.layout import template
from app.components.ui import (
    empty_state,
    loading_block,
    page_header,
    pager,
    search_input,
    stat_card,
    status_badge,
    table_card,
)
from services.access.permissions import Cap
from state.dashboard import PERIOD_LABELS
from state.dashboard import DashboardState as S


def _status_chip(item) -> rx.Component:
    active = S.status_filter == item["status"]
    return rx.button(
        status_badge(item["status"]),
        rx.text(item["count"], weight="bold", size="3"),
        on_click=S.filter_status(item["status"]),
        variant=rx.cond(active, "surface", "outline"), color_scheme=rx.cond(active, "teal", "gray"),
        size="2", height="40px", radius="large", class_name="status-chip",
    )


def _card(c) -> rx.Component:
    return rx.link(
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.text(c["name"], weight="bold", size="3", trim="both", class_name="card-name",
                            white_space="nowrap", overflow="hidden", text_overflow="ellipsis", min_width="0"),
                    rx.spacer(),
                    status_badge(c["status"]),
                    width="100%", align="center",
                ),
                rx.code(c["ocpp_id"], variant="ghost", size="2", class_name="card-id"),
                rx.hstack(rx.icon("building-2", size=14), rx.text(c["organization"], size="2"),
                          color=rx.color("gray", 11), spacing="2", align="center"),
                rx.hstack(rx.icon("activity", size=14), rx.text("Heartbeat: ", c["heartbeat"], size="1"),
                          color=rx.color("gray", 10), spacing="2", align="center"),
                spacing="2", width="100%",
            ),
            size="2", class_name="charger-card",
            custom_attrs={"data-status": c["status"], "data-ocpp-id": c["ocpp_id"]},
            _hover={"box_shadow": f"0 0 0 1px {rx.color('teal', 7)}"},
        ),
        href="/chargers/" + c["id"], underline="none", color="inherit",
    )


def _section(title: str, *right: rx.Component) -> rx.Component:
    return rx.hstack(rx.heading(title, size="4"), rx.spacer(), *right, width="100%", align="center",
                     padding_top="8px")


def _revenue_table() -> rx.Component:
    periods = list(PERIOD_LABELS)
    return table_card(
        rx.table.root(
            rx.table.header(rx.table.row(
                rx.table.column_header_cell("Currency"),
                *[rx.table.column_header_cell(PERIOD_LABELS[p], text_align="right") for p in periods],
            )),
            rx.table.body(rx.foreach(S.revenue_rows, lambda r: rx.table.row(
                rx.table.cell(rx.badge(r["currency"], variant="soft", color_scheme="teal", size="2")),
                *[rx.table.cell(rx.text(r[p], weight="bold" if p == "today" else "medium"), text_align="right")
                  for p in periods],
                align="center", class_name="revenue-row",
            ))),
            variant="ghost", size="2", width="100%", id="revenue-table",
        ),
    )


def _org_table() -> rx.Component:
    periods = list(PERIOD_LABELS)
    return table_card(
        rx.table.root(
            rx.table.header(rx.table.row(
                rx.table.column_header_cell("Organization"),
                *[rx.table.column_header_cell(PERIOD_LABELS[p], text_align="right") for p in periods],
                rx.table.column_header_cell("kWh this month", text_align="right"),
                rx.table.column_header_cell("Sessions this month", text_align="right"),
            )),
            rx.table.body(rx.foreach(S.org_rows, lambda r: rx.table.row(
                rx.table.cell(rx.hstack(rx.text(r["name"], weight="medium"),
                                        rx.badge(r["currency"], variant="outline", size="1"), spacing="2")),
                *[rx.table.cell(r[p], text_align="right") for p in periods],
                rx.table.cell(r["kwh"], text_align="right"),
                rx.table.cell(r["sessions"], text_align="right"),
                align="center",
            ))),
            variant="ghost", size="1", width="100%",
        ),
    )


def _revenue_chart(chart) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.text("Revenue by day · ", chart["currency"], size="2", weight="medium", color_scheme="gray"),
                rx.spacer(),
                rx.text(chart["total"], size="3", weight="bold"),
                width="100%",
            ),
            rx.recharts.area_chart(
                rx.recharts.area(data_key="revenue", stroke=rx.color("teal", 9), fill=rx.color("teal", 4),
                                 type_="monotone", is_animation_active=False),
                rx.recharts.x_axis(data_key="day", tick_line=False, font_size=11, interval="preserveStartEnd"),
                rx.recharts.y_axis(width=56, tick_line=False, font_size=11),
                rx.recharts.cartesian_grid(stroke_dasharray="3 3", vertical=False),
                rx.recharts.graphing_tooltip(),
                data=chart["points"], height=200, width="100%",
            ),
            spacing="2", width="100%",
        ),
        width="100%", class_name="revenue-chart",
    )


def _energy_chart() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(rx.text("Energy by day (kWh)", size="2", weight="medium", color_scheme="gray"), rx.spacer(),
                      rx.text(S.energy_month, size="3", weight="bold"), width="100%"),
            rx.recharts.bar_chart(
                rx.recharts.bar(data_key="kwh", fill=rx.color("indigo", 8), radius=[3, 3, 0, 0],
                                is_animation_active=False),
                rx.recharts.x_axis(data_key="day", tick_line=False, font_size=11, interval="preserveStartEnd"),
                rx.recharts.y_axis(width=56, tick_line=False, font_size=11),
                rx.recharts.cartesian_grid(stroke_dasharray="3 3", vertical=False),
                rx.recharts.graphing_tooltip(),
                data=S.energy_points, height=200, width="100%",
            ),
            spacing="2", width="100%",
        ),
        width="100%",
    )


def _perf_row(r) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.link(rx.code(r["ocpp_id"], variant="ghost", weight="medium"), href="/chargers/" + r["id"])),
        rx.table.cell(r["name"]),
        rx.table.cell(rx.text(r["organization"], color_scheme="gray", size="2")),
        rx.table.cell(r["revenue"], text_align="right"),
        rx.table.cell(r["kwh"], text_align="right"),
        rx.table.cell(r["sessions"], text_align="right"),
        align="center", class_name="perf-row",
    )


def _performance() -> rx.Component:
    return rx.vstack(
        _section(
            "Charger performance",
            rx.segmented_control.root(
                *[rx.segmented_control.item(label, value=value)
                  for value, label in (("24h", "24 hours"), ("7d", "7 days"), ("30d", "30 days"),
                                       ("365d", "365 days"))],
                value=S.perf_period, on_change=S.set_perf_filter("perf_period"), size="1", id="perf-period",
            ),
            rx.select.root(
                rx.select.trigger(min_width="140px"),
                rx.select.content(rx.select.item("By energy", value="energy"),
                                  rx.select.item("By sessions", value="sessions"),
                                  rx.select.item("By revenue", value="revenue")),
                value=S.perf_sort, on_change=S.set_perf_filter("perf_sort"), size="1",
            ),
        ),
        table_card(
            rx.cond(
                S.perf_rows.length() == 0,
                empty_state("chart-column", "No chargers yet", "Performance appears once chargers are registered."),
                rx.table.root(
                    rx.table.header(rx.table.row(
                        rx.table.column_header_cell("ID"), rx.table.column_header_cell("Name"),
                        rx.table.column_header_cell("Organization"),
                        rx.table.column_header_cell("Revenue", text_align="right"),
                        rx.table.column_header_cell("Energy", text_align="right"),
                        rx.table.column_header_cell("Sessions", text_align="right"),
                    )),
                    rx.table.body(rx.foreach(S.perf_rows, _perf_row)),
                    variant="ghost", size="2", width="100%", id="performance-table",
                ),
            ),
        ),
        pager(S.perf_page, S.perf_page_count, S.go_perf_page, rx.text(S.perf_total, " chargers")),
        width="100%", spacing="3",
    )


@template(route="/dashboard", title="Dashboard", cap=Cap.VIEW_DASHBOARD, on_load=S.load)
def dashboard() -> rx.Component:
    return rx.vstack(
        page_header("Dashboard", "Live status, revenue and energy across the chargers you manage.",
                    rx.badge(rx.box(width="7px", height="7px", border_radius="50%", background="currentColor",
                                    class_name="live-dot"),
                             "Live", color_scheme="green", variant="soft", radius="full", size="2")),
        rx.grid(
            stat_card("Chargers", S.chargers, "plug-zap"),
            stat_card("Charging now", S.charging, "battery-charging", "blue"),
            stat_card("Needs attention", S.attention, "triangle-alert", "red"),
            stat_card("Sessions today", S.sessions_today, "receipt", "indigo"),
            stat_card("Energy this month", S.energy_month, "zap", "amber"),
            stat_card("Sessions this month", S.sessions_month, "calendar-days", "violet"),
            columns=rx.breakpoints(initial="1", sm="3", lg="6"), spacing="4", width="100%",
        ),
        rx.flex(rx.foreach(S.status_counts, _status_chip), wrap="wrap", gap="8px", width="100%", id="status-counts"),
        _section("Chargers", search_input("Search by id, name or address", S.set_filter("search"), width="280px",
                                          id="card-search")),
        rx.cond(
            S.loading & (S.cards.length() == 0),
            loading_block(),
            rx.cond(
                S.cards.length() == 0,
                rx.card(empty_state("plug-zap", "No chargers to show",
                                    "No visible charger matches. Clear the filter or search, or register a charger."),
                        width="100%"),
                rx.grid(rx.foreach(S.cards, _card), columns=rx.breakpoints(initial="1", sm="2", lg="3", xl="4"),
                        spacing="4", width="100%", id="charger-cards"),
            ),
        ),
        pager(S.page, S.page_count, S.go_page, rx.text(S.total, " chargers")),
        _section("Revenue", rx.text("Per currency, in each organization's local calendar", size="2",
                                    color_scheme="gray")),
        rx.cond(
            S.revenue_rows.length() == 0,
            rx.card(empty_state("wallet", "No revenue yet", "Completed, priced sessions appear here."), width="100%"),
            rx.vstack(
                _revenue_table(),
                rx.grid(rx.foreach(S.charts, _revenue_chart), _energy_chart(),
                        columns=rx.breakpoints(initial="1", lg="2"), spacing="4", width="100%"),
                rx.cond(S.org_rows.length() > 1, _org_table()),
                spacing="4", width="100%",
            ),
        ),
        _performance(),
        spacing="5", width="100%",
    )
