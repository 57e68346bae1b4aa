"""Notifications: the user's alerts and messages with filters, acknowledging, and (Admin, Technical) the
delivery log of every recipient and channel."""
import reflex as rx

from app.components.layout import template
from app.components.ui import empty_state, page_header, pager, rows_or_empty, table_card
from services.access.permissions import Cap
from state.notifications import BellState as B
from state.notifications import NotificationsState as S

KINDS = [("", "All kinds"), ("alert_opened", "Alerts"), ("alert_resolved", "Resolved"),
         ("alert_escalated", "Escalated"), ("alert_update", "Alert updates"), ("charger_event", "Charger events")]


def _row(r) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.hstack(
            rx.cond(r["critical"] == "1", rx.badge("Critical", color_scheme="red"), rx.fragment()),
            rx.badge(r["kind"], color_scheme=rx.cond(r["raw_kind"] == "alert_resolved", "green", "orange"),
                     variant="soft"), spacing="2")),
        rx.table.cell(rx.vstack(
            rx.text(r["title"], size="2", weight=rx.cond(r["read"] == "1", "regular", "bold")),
            rx.text(r["body"], size="1", color_scheme="gray"), spacing="1")),
        rx.table.cell(rx.text(r["when"], size="2", white_space="nowrap")),
        rx.table.cell(rx.cond(r["ackable"] == "1",
                              rx.button("Acknowledge", size="1", on_click=B.acknowledge(r["alert_id"]),
                                        class_name="ack"),
                              rx.cond(r["acked"] == "1", rx.text("Acknowledged", size="1", color_scheme="gray")))),
        align="center", class_name="notification-row",
    )


def _log_row(d) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(d["title"], size="2")),
        rx.table.cell(d["channel"]),
        rx.table.cell(rx.text(d["recipient"], size="2")),
        rx.table.cell(rx.badge(d["status"], variant="soft", color_scheme=rx.match(
            d["status"], ("failed", "red"), ("queued", "gray"), ("skipped", "gray"), "green"))),
        rx.table.cell(d["attempts"], text_align="right"),
        rx.table.cell(rx.text(d["error"], size="1", color_scheme="red")),
        rx.table.cell(rx.text(d["when"], size="2", white_space="nowrap")),
        class_name="delivery-row",
    )


def _delivery_log() -> rx.Component:
    return rx.cond(S.can_log, rx.vstack(
        rx.heading("Delivery log", size="4", margin_top="16px"),
        rx.text("Every recipient and channel of the latest notifications, with its status (UTC).", size="2",
                color_scheme="gray"),
        table_card(rx.table.root(
            rx.table.header(rx.table.row(
                rx.table.column_header_cell("Notification"), rx.table.column_header_cell("Channel"),
                rx.table.column_header_cell("Recipient"), rx.table.column_header_cell("Status"),
                rx.table.column_header_cell("Attempts", text_align="right"),
                rx.table.column_header_cell("Reason"), rx.table.column_header_cell("When"))),
            rx.table.body(rx.foreach(S.log_rows, _log_row)),
            variant="ghost", size="2", width="100%", id="delivery-log")),
        width="100%", spacing="2"))


@template(route="/notifications", title="Notifications", cap=Cap.VIEW_DASHBOARD, on_load=S.load)
def notifications() -> rx.Component:
    return rx.vstack(
        page_header("Notifications", "Charger alerts and messages sent to you. Acknowledge an alert to stop its "
                                     "escalation. Times are in UTC.",
                    rx.select.root(rx.select.trigger(placeholder="All kinds", id="kind-filter"),
                                   rx.select.content(*[rx.select.item(label, value=v or "all")
                                                       for v, label in KINDS]),
                                   on_change=S.set_kind),
                    rx.checkbox("Unread only", checked=S.unread_only, on_change=S.set_unread,
                                id="unread-only"),
                    rx.button("Mark all read", variant="soft", on_click=B.mark_all_read)),
        table_card(rows_or_empty(
            S,
            empty_state("bell", "No notifications", "Charger alerts for your organizations appear here."),
            rx.table.root(
                rx.table.header(rx.table.row(
                    rx.table.column_header_cell("Kind"), rx.table.column_header_cell("Notification"),
                    rx.table.column_header_cell("When (UTC)"), rx.table.column_header_cell(""))),
                rx.table.body(rx.foreach(S.rows, _row)),
                variant="ghost", size="2", width="100%", id="notifications-table"),
        )),
        pager(S.page, S.page_count, S.go_page, rx.text(S.total, " notifications")),
        _delivery_log(),
        spacing="4", width="100%",
    )
