"""Dashboard: status counts and a card per visible charger, scoped and paginated."""
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
)
from services.permissions import Cap
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
    return rx.card(
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
    )


@template(route="/dashboard", title="Dashboard", cap=Cap.VIEW_DASHBOARD, on_load=S.load)
def dashboard() -> rx.Component:
    return rx.vstack(
        page_header("Dashboard", "Live status of the chargers you manage."),
        rx.grid(
            stat_card("Chargers", S.chargers, "plug-zap"),
            stat_card("Organizations", S.organizations, "building-2", "indigo"),
            stat_card("Charging now", S.charging, "battery-charging", "blue"),
            stat_card("Needs attention", S.attention, "triangle-alert", "red"),
            columns=rx.breakpoints(initial="1", sm="2", lg="4"), spacing="4", width="100%",
        ),
        rx.flex(rx.foreach(S.status_counts, _status_chip), wrap="wrap", gap="8px", width="100%", id="status-counts"),
        rx.hstack(
            rx.heading("Chargers", size="4"),
            rx.spacer(),
            search_input("Search by id or name", S.set_search, width="280px"),
            width="100%", align="center", padding_top="8px",
        ),
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
        pager(S.page, S.page_count, S.go_page, rx.text(S.matching, " chargers")),
        spacing="5", width="100%",
    )
