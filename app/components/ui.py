"""Small building blocks shared by the pages: badges, stat cards, pagers, empty and loading states."""
from __future__ import annotations

import reflex as rx

# OCPP status → badge colour. Anything unknown is grey.
STATUS_COLORS = (
    ("Available", "green"),
    ("Charging", "blue"),
    ("Preparing", "cyan"),
    ("Finishing", "cyan"),
    ("SuspendedEV", "amber"),
    ("SuspendedEVSE", "amber"),
    ("Reserved", "violet"),
    ("Unavailable", "orange"),
    ("Faulted", "red"),
    ("Offline", "gray"),
)
LIFECYCLE_COLORS = (("Active", "green"), ("Inactive", "gray"), ("Maintenance", "amber"))
USER_STATUS_COLORS = (("active", "green"), ("invited", "blue"), ("disabled", "red"))


def _color(value, pairs) -> rx.Var:
    return rx.match(value, *pairs, "gray")


def status_badge(status) -> rx.Component:
    return rx.badge(
        rx.box(width="6px", height="6px", border_radius="50%", background="currentColor"),
        status, color_scheme=_color(status, STATUS_COLORS), variant="soft", radius="full", size="2",
        class_name="status-badge",
    )


def lifecycle_badge(value) -> rx.Component:
    return rx.badge(value, color_scheme=_color(value, LIFECYCLE_COLORS), variant="outline", radius="full")


def user_status_badge(value) -> rx.Component:
    return rx.badge(value, color_scheme=_color(value, USER_STATUS_COLORS), variant="soft", radius="full",
                    text_transform="capitalize")


def stat_card(label: str, value, icon: str, color: str = "teal") -> rx.Component:
    return rx.card(
        rx.hstack(
            rx.center(rx.icon(icon, size=20), width="40px", height="40px", border_radius="10px",
                      background=rx.color(color, 3), color=rx.color(color, 11)),
            rx.vstack(
                rx.text(label, size="2", color_scheme="gray", weight="medium"),
                rx.heading(value, size="6", weight="bold"),
                spacing="0",
            ),
            spacing="4", align="center",
        ),
        size="2", width="100%",
    )


def page_header(title: str, subtitle: str, *actions: rx.Component) -> rx.Component:
    return rx.flex(
        rx.vstack(
            rx.heading(title, size="7", weight="bold"),
            rx.text(subtitle, size="3", color_scheme="gray"),
            spacing="1",
        ),
        rx.spacer(),
        rx.hstack(*actions, spacing="3", align="center"),
        width="100%", align="end", wrap="wrap", gap="16px", margin_bottom="8px",
    )


def search_input(placeholder: str, on_change, width: str = "320px", **props) -> rx.Component:
    return rx.input(
        rx.input.slot(rx.icon("search", size=16)),
        placeholder=placeholder, on_change=on_change.debounce(300), size="2", width=width, **props,
    )


def pager(page, page_count, go, label=None) -> rx.Component:
    return rx.hstack(
        rx.text(label, size="2", color_scheme="gray") if label is not None else rx.fragment(),
        rx.spacer(),
        rx.text("Page ", page, " of ", page_count, size="2", color_scheme="gray"),
        rx.icon_button(rx.icon("chevron-left", size=16), on_click=go(page - 1), disabled=page <= 1,
                       variant="soft", color_scheme="gray", aria_label="Previous page"),
        rx.icon_button(rx.icon("chevron-right", size=16), on_click=go(page + 1), disabled=page >= page_count,
                       variant="soft", color_scheme="gray", aria_label="Next page"),
        width="100%", align="center", spacing="3", padding_top="16px",
    )


def empty_state(icon: str, title: str, hint: str) -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.center(rx.icon(icon, size=28), width="56px", height="56px", border_radius="50%",
                      background=rx.color("gray", 3), color=rx.color("gray", 10)),
            rx.text(title, size="4", weight="bold"),
            rx.text(hint, size="2", color_scheme="gray", text_align="center", max_width="360px"),
            align="center", spacing="2",
        ),
        padding="56px 24px", width="100%",
    )


def loading_block(label: str = "Loading…") -> rx.Component:
    return rx.center(
        rx.hstack(rx.spinner(size="3"), rx.text(label, color_scheme="gray"), spacing="3", align="center"),
        padding="56px", width="100%",
    )


def table_card(*children: rx.Component) -> rx.Component:
    return rx.card(*children, size="1", width="100%", padding="0", overflow="hidden")


def rows_or_empty(state, empty: rx.Component, table: rx.Component) -> rx.Component:
    """A paged table's body: a spinner while the first page loads, the empty state, or the table."""
    return rx.cond(
        state.loading & (state.rows.length() == 0),
        loading_block(),
        rx.cond(state.rows.length() == 0, empty, table),
    )


def not_found_card(what: str, among: str, back_label: str, href: str, id: str) -> rx.Component:
    """A detail page's answer for a record that is missing or outside the user's scope (the same to them)."""
    return rx.card(
        rx.vstack(
            empty_state("search-x", f"{what} not found", f"There is no such {what.lower()} among {among}."),
            rx.center(rx.link(rx.button(back_label, variant="soft"), href=href), width="100%"),
            spacing="0", padding_bottom="24px", id=id,
        ),
        size="2", width="100%",
    )
