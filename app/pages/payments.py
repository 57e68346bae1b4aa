"""Payments dashboard: every payment across gateways with filters (organization, date range, gateway, status,
method, reference), totals per currency and CSV, the reconciliation panel, and each gateway's health over the
last hour."""
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
    return rx.card(rx.vstack(
        rx.flex(
            rx.select.root(
                rx.select.trigger(min_width="190px", id="payments-organization"),
                rx.select.content(rx.select.item("All organizations", value=ANY), rx.select.separator(),
                                  rx.foreach(S.org_choices, lambda o: rx.select.item(o["name"], value=o["id"]))),
                value=S.organization, on_change=S.set_filter("organization")),
            rx.hstack(rx.text("From", size="2", color_scheme="gray"),
                      rx.input(type="date", value=S.date_from, on_change=S.set_filter("date_from"),
                               id="payments-date-from", width="150px"),
                      rx.text("to", size="2", color_scheme="gray"),
                      rx.input(type="date", value=S.date_to, on_change=S.set_filter("date_to"),
                               id="payments-date-to", width="150px"),
                      rx.cond((S.date_from != "") | (S.date_to != ""),
                              rx.button("All dates", size="1", variant="ghost", on_click=S.clear_range,
                                        id="payments-all-dates")),
                      align="center", spacing="2"),
            _select("gateway", "All gateways", S.gateway, GATEWAYS),
            _select("status", "All statuses", S.status, STATUSES),
            _select("method", "All methods", S.method, METHODS),
            search_input("Search by reference", S.set_search, id="payments-search"),
            rx.spacer(),
            rx.link(rx.button(rx.icon("download", size=16), "CSV", variant="soft"), href=S.csv_href,
                    is_external=True, id="payments-csv"),
            gap="12px", wrap="wrap", align="center"),
        rx.cond(S.range_error != "", rx.text(S.range_error, color_scheme="red", size="1", id="payments-range-error")),
        rx.cond(S.range_note != "", rx.text(S.range_note, size="1", color_scheme="gray", id="payments-range-note")),
        spacing="2", width="100%"), width="100%")


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


def _reconciliation() -> rx.Component:
    def run(r) -> rx.Component:
        return rx.table.row(
            rx.table.cell(r["day"]), rx.table.cell(rx.text(r["gateway"], weight="medium")),
            rx.table.cell(r["organization"]),
            rx.table.cell(rx.badge(r["status"], color_scheme=rx.match(r["status"], ("Matched", "green"),
                                                                      ("Mismatched", "red"), "amber"))),
            rx.table.cell(r["lines"]), rx.table.cell(r["payments"]), rx.table.cell(r["mismatches"]),
            rx.table.cell(rx.text(r["message"], size="1", color_scheme="gray")),
            class_name="reconciliation-run")

    def mismatch(m) -> rx.Component:
        return rx.table.row(
            rx.table.cell(m["day"]), rx.table.cell(m["gateway"]),
            rx.table.cell(rx.cond(m["payment"] != "", rx.link(m["reference"], href="/payments/" + m["payment"]),
                                  rx.code(m["reference"]))),
            rx.table.cell(rx.badge(m["kind"], color_scheme="red", variant="soft")),
            rx.table.cell(rx.text(m["gateway_amount"], text_align="right", white_space="nowrap")),
            rx.table.cell(rx.text(m["ledger_amount"], text_align="right", white_space="nowrap")),
            rx.table.cell(rx.text(m["organization"], size="1", color_scheme="gray")),
            class_name="reconciliation-mismatch")

    return rx.card(rx.vstack(
        rx.hstack(rx.heading("Reconciliation", size="3"),
                  rx.text("gateway settlement reports against the ledger, last 7 days", size="1",
                          color_scheme="gray"),
                  rx.spacer(),
                  rx.cond(S.can_manage, rx.button(rx.icon("refresh-cw", size=14), "Reconcile today", size="1",
                                                  variant="soft", loading=S.reconciling, on_click=S.reconcile,
                                                  id="reconcile-today")),
                  align="center", width="100%"),
        rx.cond(S.runs.length() == 0,
                rx.text("No reconciliation has run yet: the worker reconciles each gateway's closed day.",
                        size="2", color_scheme="gray"),
                rx.table.root(rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                    "Day", "Gateway", "Organization", "Result", "Report lines", "Ledger payments", "Mismatches",
                    "")])), rx.table.body(rx.foreach(S.runs, run)), size="1", width="100%",
                    id="reconciliation-runs")),
        rx.cond(S.mismatches.length() > 0,
                rx.table.root(rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                    "Day", "Gateway", "Payment reference", "Mismatch", "Gateway says", "Ledger says",
                    "Organization")])), rx.table.body(rx.foreach(S.mismatches, mismatch)), size="1", width="100%",
                    id="reconciliation-mismatches")),
        spacing="3", width="100%"), width="100%", id="reconciliation-panel")


@template(route="/payments", title="Payments", cap=Cap.VIEW_PAYMENTS, on_load=S.load)
def payments() -> rx.Component:
    return rx.vstack(
        page_header("Payments", "Every payment across gateways, wallets and manual payments, in one table.",
                    rx.link(rx.button(rx.icon("wallet", size=16), "Wallets", variant="soft"), href="/wallets"),
                    rx.link(rx.button(rx.icon("settings", size=16), "Gateways", variant="soft"),
                            href="/gateways")),
        _totals(), _filters(), rx.cond(S.loaded, _table(), loading_block()), _reconciliation(), _health(),
        spacing="4", width="100%")
