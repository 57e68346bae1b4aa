"""One payment: what it is, its timeline (authorized, captured, refunded, voided, webhooks), its ledger entries
and its refunds, with the refund form."""
import reflex as rx

from app.components.layout import template
from app.components.ui import loading_block, page_header
from app.pages.payments import payment_status
from services.access.permissions import Cap
from state.payments import PaymentDetailState as S


def _fact(name: str, value) -> rx.Component:
    return rx.vstack(rx.text(name, size="1", color_scheme="gray"), rx.text(value, size="2", weight="medium"),
                     spacing="0")


def _summary() -> rx.Component:
    i = S.info
    return rx.card(rx.grid(
        _fact("Customer", i["customer"]), _fact("Organization", i["organization"]),
        _fact("Gateway", i["gateway"]), _fact("Method", i["method"] + " " + i["card"]),
        _fact("Authorized", i["authorized"]), _fact("Captured", i["captured"]),
        _fact("Refunded", i["refunded"]), _fact("Gateway reference", i["gateway_reference"]),
        columns="4", gap="16px", width="100%"), width="100%")


def _timeline() -> rx.Component:
    def item(t) -> rx.Component:
        return rx.hstack(
            rx.box(width="10px", height="10px", border_radius="50%", background=rx.color("teal", 9), margin_top="6px"),
            rx.vstack(rx.hstack(rx.text(t["kind"], weight="bold"), rx.text(t["amount"]), spacing="2"),
                      rx.text(t["at"], " ", t["detail"], size="1", color_scheme="gray"),
                      rx.cond(t["reference"] != "", rx.code(t["reference"], size="1")), spacing="0"),
            align="start", class_name="timeline-item")

    return rx.card(rx.vstack(rx.heading("Timeline", size="3"), rx.foreach(S.timeline, item), spacing="3"),
                   width="100%", id="payment-timeline")


def _ledger() -> rx.Component:
    return rx.card(rx.vstack(rx.heading("Ledger entries", size="3"), rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
            "When", "Journal", "Account", "Wallet", "Amount", "Memo")])),
        rx.table.body(rx.foreach(S.ledger, lambda e: rx.table.row(
            rx.table.cell(e["at"]), rx.table.cell(rx.code(e["journal"])), rx.table.cell(e["bucket"]),
            rx.table.cell(e["wallet"]), rx.table.cell(e["amount"]), rx.table.cell(e["memo"]),
            class_name="ledger-row"))), size="1", width="100%"), spacing="3", width="100%"), width="100%")


def _refunds() -> rx.Component:
    return rx.card(rx.vstack(
        rx.heading("Refunds", size="3"),
        # Time, amount and status on one line (wrapping as a whole, never overlapping in the narrow card); the
        # reason below them.
        rx.foreach(S.refund_rows, lambda r: rx.vstack(
            rx.hstack(
                rx.text(r["at"], size="1", color_scheme="gray", white_space="nowrap", flex_shrink="0"),
                rx.text(r["amount"], weight="bold", white_space="nowrap", flex_shrink="0"),
                rx.badge(r["status"], flex_shrink="0"),
                # The partial credit note on the session's invoice, once the refund is given back and invoiced.
                rx.cond(r["credit_note"] != "", rx.link(rx.hstack(rx.icon("file-minus", size=14), r["credit_note"],
                                                                  spacing="1", align="center"),
                                                        href="/invoices/" + r["credit_note_id"], size="2",
                                                        class_name="refund-credit-note")),
                spacing="3", align="center", flex_wrap="wrap"),
            rx.text(r["reason"], size="2"),
            spacing="1", class_name="refund-row", width="100%")),
        rx.cond(S.can_refund, rx.vstack(
            rx.hstack(
                rx.input(placeholder="Amount", value=S.refund_amount, on_change=S.set_refund_amount,
                         id="refund-amount", width="140px"),
                rx.input(placeholder="Reason (required)", value=S.refund_reason, on_change=S.set_refund_reason,
                         id="refund-reason", max_length=500, width="360px"),
                rx.button(rx.icon("undo-2", size=16), "Refund", on_click=S.refund, id="refund-submit"),
                spacing="2", wrap="wrap"),
            rx.cond(S.refund_error != "", rx.text(S.refund_error, color_scheme="red", size="1", id="refund-error")),
            spacing="2")),
        spacing="3", width="100%"), width="100%")


@template(route="/payments/[payment_id]", title="Payment", cap=Cap.VIEW_PAYMENTS, on_load=S.load)
def payment_detail() -> rx.Component:
    return rx.cond(
        S.not_found,
        rx.callout("This payment does not exist, or is not yours to see.", icon="search-x", id="payment-not-found"),
        rx.cond(S.info.contains("reference"), rx.vstack(
            page_header("Payment " + S.info["reference"], S.info["purpose"] + " · " + S.info["created"],
                        payment_status(S.info["status"])),
            rx.cond(S.info["note"] != "", rx.callout(S.info["note"], icon="info")),
            _summary(),
            rx.grid(_timeline(), _refunds(), columns="2", gap="16px", width="100%"),
            _ledger(), spacing="4", width="100%"), loading_block()))
