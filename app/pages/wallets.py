"""Wallets: balances per customer account; one wallet's history, a manual top-up (approved by a second user
above the threshold) and an adjustment with a reason."""
import reflex as rx

from app.components.layout import template
from app.components.ui import empty_state, page_header, search_input, table_card
from services.access.permissions import Cap
from state.payments import WalletDetailState as D
from state.payments import WalletsState as S


@template(route="/wallets", title="Wallets", cap=Cap.VIEW_PAYMENTS, on_load=S.load)
def wallets() -> rx.Component:
    return rx.vstack(
        page_header("Wallets", "Customer accounts' balances and the money held for running sessions."),
        search_input("Search customers", S.set_search, id="wallets-search"),
        table_card(rx.cond(S.rows.length() == 0, empty_state("wallet", "No wallets", "Wallets open on first use."),
                           rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                "Customer", "Organization", "Balance", "Held")])),
            rx.table.body(rx.foreach(S.rows, lambda w: rx.table.row(
                rx.table.cell(rx.link(w["customer"], href="/wallets/" + w["id"], class_name="wallet-link")),
                rx.table.cell(w["organization"]), rx.table.cell(rx.text(w["balance"], weight="bold")),
                rx.table.cell(w["held"]), class_name="wallet-row"))),
            variant="ghost", width="100%", id="wallets-table"))),
        spacing="4", width="100%")


def _history() -> rx.Component:
    return table_card(rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
            "When", "Account", "Amount", "What", "Payment")])),
        rx.table.body(rx.foreach(D.history, lambda e: rx.table.row(
            rx.table.cell(e["at"]), rx.table.cell(e["bucket"]),
            rx.table.cell(rx.text(e["amount"], color_scheme=rx.cond(e["sign"] == "minus", "red", "green"),
                                  weight="medium")),
            rx.table.cell(e["memo"]),
            rx.table.cell(rx.cond(e["payment"] != "", rx.link("open", href="/payments/" + e["payment"]))),
            class_name="wallet-history-row"))),
        variant="ghost", width="100%", id="wallet-history"))


def _forms() -> rx.Component:
    return rx.card(rx.vstack(
        rx.heading("Manual payment or adjustment", size="3"),
        rx.hstack(
            rx.input(placeholder="Amount", value=D.amount, on_change=lambda v: D.set_field("amount", v),
                     id="wallet-amount", width="140px"),
            rx.select(["cash", "bank_transfer", "cheque"], value=D.kind, on_change=lambda v: D.set_field("kind", v)),
            rx.input(placeholder="Their reference (receipt, transfer id)", value=D.reference,
                     on_change=lambda v: D.set_field("reference", v), id="wallet-reference", max_length=100),
            rx.button("Record payment", on_click=D.top_up, id="wallet-top-up"), spacing="2", wrap="wrap"),
        rx.hstack(
            rx.select(["increase", "decrease"], value=D.direction, on_change=lambda v: D.set_field("direction", v)),
            rx.input(placeholder="Reason for the adjustment", value=D.reason,
                     on_change=lambda v: D.set_field("reason", v), id="wallet-reason", max_length=180, width="320px"),
            rx.button("Adjust", on_click=D.adjust, variant="soft", id="wallet-adjust"), spacing="2", wrap="wrap"),
        rx.cond(D.error != "", rx.text(D.error, color_scheme="red", size="1", id="wallet-error")),
        spacing="3"), width="100%")


@template(route="/wallets/[wallet_id]", title="Wallet", cap=Cap.VIEW_PAYMENTS, on_load=D.load)
def wallet_detail() -> rx.Component:
    return rx.cond(D.not_found, rx.callout("This wallet does not exist, or is not yours to see.", icon="search-x"),
                   rx.vstack(
        page_header(D.info["customer"], D.info["organization"]),
        rx.flex(
            rx.card(rx.vstack(rx.text("Balance", size="1", color_scheme="gray"),
                              rx.heading(D.info["balance"], size="7", id="wallet-balance"), spacing="1")),
            rx.card(rx.vstack(rx.text("Held for running sessions", size="1", color_scheme="gray"),
                              rx.heading(D.info["held"], size="7"), spacing="1")), gap="12px"),
        rx.cond(D.can_manage, _forms()),
        rx.heading("History", size="4"), _history(), spacing="4", width="100%"))
