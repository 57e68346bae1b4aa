"""Payments dashboard: every payment across gateways with filters, totals per currency and CSV, and each
gateway's health over the last hour."""
import reflex as rx

from app.components.layout import template
from app.components.ui import empty_state, loading_block, page_header, pager, search_input, table_card
from services.access.permissions import Cap
from state.payments import ANY, GATEWAYS, METHODS, STATUSES, label
from state.payments import PaymentsState as S

STATUS_COLORS = (("Captured", "green"), ("Authorized", "blue"), ("Refunded", "orange"),
                 ("Partially refunded", "orange"), ("Voided", "gray"), ("Declined", "red"), ("Failed", "red"),
                 ("Awaiting approval", "amber"), ("Pending", "amber"))


def payment_status(status) -> rx.Component:
    return rx.badge(status, color_scheme=rx.match(status, *STATUS_COLORS, "gray"), variant="soft", radius="full",
                    class_name="payment-status")


def _select(key: str, placeholder: str, value, values) -> rx.Component:
    return rx.select.root(
        rx.select.trigger(min_width="170px", id=f"payments-{key}"),
        rx.select.content(rx.select.item(placeholder, value=ANY), rx.select.separator(),
                          *[rx.select.item(label(v), value=v) for v in values]),
        value=value, on_change=S.set_filter(key))


def _filters() -> rx.Component:
    return rx.card(rx.flex(
        _select("gateway", "All gateways", S.gateway, GATEWAYS),
        _select("status", "All statuses", S.status, STATUSES),
        _select("method", "All methods", S.method, METHODS),
        search_input("Search by reference", S.set_search, id="payments-search"),
        rx.spacer(),
        rx.link(rx.button(rx.icon("download", size=16), "CSV", variant="soft"), href=S.csv_href, is_external=True),
        gap="12px", wrap="wrap", align="center"), width="100%")


def _row(r) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.vstack(rx.link(r["reference"], href="/payments/" + r["id"], weight="medium",
                                        class_name="payment-link"),
                                rx.text(r["created"], size="1", color_scheme="gray"), spacing="0")),
        rx.table.cell(rx.vstack(rx.text(r["customer"], size="2"),
                                rx.text(r["organization"], size="1", color_scheme="gray"), spacing="0")),
        rx.table.cell(rx.cond(r["session"] != "", rx.link("#" + r["session"], href="/transactions/" + r["session"]),
                              rx.text(r["purpose"], size="2"))),
        rx.table.cell(rx.vstack(rx.text(r["gateway"], size="2"), rx.text(r["method"], " ", r["card"], size="1",
                                                                          color_scheme="gray"), spacing="0")),
        rx.table.cell(payment_status(r["status"])),
        rx.table.cell(rx.text(r["authorized"], text_align="right", white_space="nowrap")),
        rx.table.cell(rx.text(r["captured"], text_align="right", white_space="nowrap", weight="bold")),
        rx.table.cell(rx.text(r["refunded"], text_align="right", white_space="nowrap", color_scheme="orange")),
        align="center", class_name="payment-row")


def _table() -> rx.Component:
    return rx.vstack(table_card(rx.cond(
        S.rows.length() == 0,
        empty_state("credit-card", "No payments", "Payments appear when customer sessions start and stop."),
        rx.box(rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                "Reference", "Customer", "Session", "Gateway", "Status", "Authorized", "Captured", "Refunded")])),
            rx.table.body(rx.foreach(S.rows, _row)), variant="ghost", size="2", width="100%", id="payments-table"),
            overflow_x="auto", width="100%"))),
        pager(S.page, S.page_count, S.go_page, S.range_label), width="100%", spacing="0")


def _totals() -> rx.Component:
    return rx.flex(rx.foreach(S.totals, lambda t: rx.card(rx.vstack(
        rx.text("Net collected (", t["currency"], ")", size="1", color_scheme="gray"),
        rx.heading(t["amount"], size="6", class_name="payments-total"), spacing="1"), min_width="200px")),
        gap="12px", wrap="wrap", id="payments-totals")


def _health() -> rx.Component:
    def row(h) -> rx.Component:
        return rx.table.row(
            rx.table.cell(rx.text(h["gateway"], weight="medium")), rx.table.cell(h["organization"]),
            rx.table.cell(h["calls"]), rx.table.cell(h["success"]), rx.table.cell(h["latency"]),
            rx.table.cell(rx.badge(h["circuit"], color_scheme=rx.match(h["circuit"], ("closed", "green"),
                                                                        ("open", "red"), "amber"))),
            class_name="gateway-health")

    return rx.card(rx.vstack(
        rx.hstack(rx.heading("Gateway health", size="3"), rx.text("last hour", size="1", color_scheme="gray"),
                  align="baseline"),
        rx.table.root(rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
            "Gateway", "Organization", "Calls", "Success", "p95 latency", "Circuit")])),
            rx.table.body(rx.foreach(S.health, row)), size="1", width="100%"),
        spacing="3", width="100%"), width="100%")


@template(route="/payments", title="Payments", cap=Cap.VIEW_PAYMENTS, on_load=S.load)
def payments() -> rx.Component:
    return rx.vstack(
        page_header("Payments", "Every payment across gateways, wallets and manual payments, in one table.",
                    rx.link(rx.button(rx.icon("wallet", size=16), "Wallets", variant="soft"), href="/wallets"),
                    rx.link(rx.button(rx.icon("settings", size=16), "Gateways", variant="soft"),
                            href="/gateways")),
        _totals(), _filters(), rx.cond(S.loaded, _table(), loading_block()), _health(),
        spacing="4", width="100%")
