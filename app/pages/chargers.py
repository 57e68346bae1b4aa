"""Chargers: a table with search, sort, status filters and 10/20/50 rows per page."""
import reflex as rx

from app.components.layout import template
from app.components.owner_assign import assign_dialog, bulk_bar, owner_cell, select_cell, select_header
from app.components.ui import (
    empty_state,
    lifecycle_badge,
    page_header,
    pager,
    rows_or_empty,
    search_input,
    status_badge,
    table_card,
)
from app.pages.charger_form import charger_dialog, key_dialog
from models.base import values
from models.charger import ChargerStatus, LifecycleStatus
from services.access.permissions import Cap
from state.base import AppState
from state.charger_form import ChargerFormState
from state.chargers import ANY, PAGE_SIZES
from state.chargers import ChargersState as S
from state.owner_assign import OwnerAssignState


def _sortable(label: str, column: str) -> rx.Component:
    icon = rx.cond(S.sort == column, rx.cond(S.descending, rx.icon("arrow-down", size=14),
                                             rx.icon("arrow-up", size=14)),
                   rx.icon("arrow-up-down", size=14, opacity="0.35"))
    return rx.table.column_header_cell(
        rx.hstack(rx.text(label), icon, spacing="1", align="center", cursor="pointer",
                  on_click=S.sort_by(column)),
    )


def _filter(placeholder: str, value, on_change, options) -> rx.Component:
    return rx.select.root(
        rx.select.trigger(placeholder=placeholder, min_width="130px"),
        rx.select.content(
            rx.select.item(placeholder, value=ANY),
            rx.select.separator(),
            *[rx.select.item(o, value=o) for o in options],
        ),
        value=value, on_change=on_change,
    )


def _org_filter() -> rx.Component:
    return rx.cond(
        AppState.multi_org,
        rx.select.root(
            rx.select.trigger(placeholder="All organizations", min_width="150px", id="org-filter"),
            rx.select.content(
                rx.select.item("All organizations", value=ANY),
                rx.select.separator(),
                rx.foreach(AppState.org_options, lambda o: rx.select.item(o["name"], value=o["id"])),
            ),
            value=S.org_filter, on_change=S.set_filter("org_filter"),
        ),
    )


def _visible_filter() -> rx.Component:
    return rx.select.root(
        rx.select.trigger(placeholder="Any visibility", min_width="120px", id="visible-filter"),
        rx.select.content(rx.select.item("Any visibility", value=ANY), rx.select.separator(),
                          rx.select.item("Visible", value="visible"), rx.select.item("Hidden", value="hidden")),
        value=S.visible_filter, on_change=S.set_filter("visible_filter"),
    )


def _row(r) -> rx.Component:
    return rx.table.row(
        select_cell(r),
        rx.table.cell(rx.link(rx.code(r["ocpp_id"], variant="ghost", weight="medium", white_space="nowrap"),
                              href="/chargers/" + r["id"])),
        rx.table.cell(r["name"]),
        rx.table.cell(r["organization"]),
        owner_cell(r),
        rx.table.cell(rx.text(r["address"], color_scheme="gray", size="1"), max_width="180px"),
        rx.table.cell(status_badge(r["status"])),
        rx.table.cell(lifecycle_badge(r["lifecycle"])),
        rx.table.cell(rx.cond(r["visible"] == "Visible", rx.icon("eye", size=16, color=rx.color("gray", 10)),
                              rx.badge("Hidden", variant="soft", color_scheme="gray"))),
        rx.table.cell(rx.text(r["heartbeat"], size="1", color_scheme="gray")),
        align="center", class_name="charger-row",
    )


@template(route="/chargers", title="Chargers", cap=Cap.VIEW_CHARGERS,
          on_load=[S.load, ChargerFormState.open_from_link, OwnerAssignState.load])
def chargers() -> rx.Component:
    return rx.vstack(
        page_header("Chargers", "Every charger in your network, with its live and lifecycle status.",
                    rx.cond(S.can_manage, rx.button(rx.icon("plus", size=16), "Add charger",
                                                    on_click=ChargerFormState.open_new(""), id="add-charger"))),
        rx.flex(
            search_input("Search id, name or address", S.set_filter("search"), width="250px", id="charger-search"),
            _filter("All statuses", S.status_filter, S.set_filter("status_filter"), values(ChargerStatus)),
            _filter("All lifecycles", S.lifecycle_filter, S.set_filter("lifecycle_filter"), values(LifecycleStatus)),
            _org_filter(),
            _visible_filter(),
            rx.spacer(),
            rx.hstack(
                rx.text("Rows per page", size="2", color_scheme="gray"),
                rx.select(PAGE_SIZES, value=S.per_page.to_string(), on_change=S.set_filter("per_page"), size="2"),
                align="center", spacing="2",
            ),
            gap="12px", wrap="wrap", width="100%", align="center",
        ),
        bulk_bar(),
        table_card(
            rows_or_empty(
                S,
                empty_state("plug-zap", "No chargers found", "Nothing matches your search and filters."),
                rx.table.root(
                    rx.table.header(rx.table.row(
                        select_header(),
                        _sortable("ID", "ocpp_id"), _sortable("Name", "name"),
                        _sortable("Organization", "organization"), rx.table.column_header_cell("Location owner"),
                        _sortable("Address", "address"), _sortable("Status", "status"),
                        _sortable("Lifecycle", "lifecycle_status"), _sortable("Visible", "visible"),
                        _sortable("Heartbeat", "last_heartbeat_at"),
                    )),
                    rx.table.body(rx.foreach(S.rows, _row)),
                    variant="ghost", size="2", width="100%", id="chargers-table",
                ),
            ),
        ),
        pager(S.page, S.page_count, S.go_page, S.range_label),
        charger_dialog(),
        key_dialog(),
        assign_dialog(),
        spacing="4", width="100%",
    )
