"""One invoice or credit note: header, parties, lines per charger, the settlement down to the net payable,
the status history, the PDF and (Cap.MANAGE_INVOICES) its status actions, e-mail and correction."""
import reflex as rx

from app.components.layout import template
from app.components.ui import loading_block, not_found_card
from app.pages.invoices import credit_badge, invoice_status_badge
from services.access.permissions import Cap
from state.invoice_detail import InvoiceDetailState as S


def _fact(label: str, value) -> rx.Component:
    return rx.vstack(rx.text(label, size="1", color_scheme="gray", weight="medium"),
                     rx.text(value, size="2", weight="medium"), spacing="1", min_width="130px")


def _header() -> rx.Component:
    return rx.vstack(
        rx.link(rx.hstack(rx.icon("arrow-left", size=14), rx.text("Invoices"), spacing="1", align="center"),
                href="/invoices", size="2", color_scheme="gray"),
        rx.flex(
            rx.vstack(
                rx.hstack(rx.heading(S.info["title"], " ", S.info["number"], size="7", weight="bold",
                                     id="invoice-title"),
                          invoice_status_badge(S.info["status"], id="invoice-status"),
                          rx.cond(S.info["kind"] == "credit_note", credit_badge()),
                          spacing="3", align="center", wrap="wrap"),
                rx.text(S.info["organization"], " · ", S.info["period"], size="3", color_scheme="gray"),
                spacing="1",
            ),
            rx.spacer(),
            rx.vstack(rx.text(S.info["net_heading"], size="1", color_scheme="gray", text_align="right",
                              id="invoice-net-heading"),
                      rx.heading(S.info["net"], size="7", id="invoice-net"), spacing="0", align="end"),
            width="100%", align="end", wrap="wrap", gap="16px",
        ),
        spacing="2", width="100%",
    )


def _actions() -> rx.Component:
    manage = rx.fragment(
        rx.cond(S.can_send, rx.button(rx.icon("send", size=16), "Mark Sent", on_click=S.mark_sent,
                                      loading=S.busy == "sent", id="mark-sent")),
        rx.cond(S.can_pay, rx.button(rx.icon("badge-check", size=16), "Mark Paid", on_click=S.mark_paid,
                                     color_scheme="green", loading=S.busy == "paid", id="mark-paid")),
        rx.cond(S.can_email, rx.button(rx.icon("mail", size=16), "Send by email", variant="soft",
                                       on_click=S.send_email, loading=S.busy == "email", id="send-email")),
        rx.cond(S.can_correct, rx.button(rx.icon("file-diff", size=16), "Issue correction", variant="soft",
                                         color_scheme="gray", on_click=S.open_correct, id="open-correct")),
        rx.cond(S.can_void, rx.button(rx.icon("ban", size=16), "Void", variant="soft", color_scheme="red",
                                      on_click=S.open_void, id="open-void")),
    )
    return rx.card(
        rx.flex(
            # A plain link: the server streams the PDF with the login cookie.
            rx.button(rx.icon("download", size=16), "Download PDF", variant="outline", id="download-pdf",
                      on_click=rx.download(url=S.pdf_url, filename=S.pdf_name)),
            rx.spacer(),
            rx.cond(S.can_manage, manage,
                    rx.text("Read only: your role may view invoices but not change them.", size="2",
                            color_scheme="gray", id="read-only-note")),
            gap="12px", wrap="wrap", align="center", width="100%",
        ),
        size="2", width="100%", id="invoice-actions",
    )


def _notices() -> rx.Component:
    mail = rx.cond(
        S.notice != "",
        rx.callout.root(
            rx.callout.icon(rx.icon(rx.match(S.notice_kind, ("sent", "mail-check"), ("outbox", "inbox"),
                                             "triangle-alert"))),
            rx.callout.text(S.notice),
            color_scheme=rx.match(S.notice_kind, ("sent", "green"), ("outbox", "blue"), "red"),
            width="100%", id="mail-notice",
        ),
    )
    correction = rx.cond(
        S.correction.contains("text"),
        rx.callout.root(
            rx.callout.icon(rx.icon("file-check")),
            rx.callout.text(
                S.correction["text"], " ",
                rx.cond(S.correction["credit_id"] != "",
                        rx.link("Open the credit note", href="/invoices/" + S.correction["credit_id"],
                                id="credit-note-link")),
                rx.cond((S.correction["credit_id"] != "") & (S.correction["new_id"] != ""), " · ", ""),
                rx.cond(S.correction["new_id"] != "",
                        rx.link("Open the new invoice", href="/invoices/" + S.correction["new_id"],
                                id="new-invoice-link")),
            ),
            color_scheme="green", width="100%", id="correction-notice",
        ),
    )
    relations = rx.fragment(
        rx.cond(S.info["void_reason"] != "",
                rx.callout(rx.text(rx.text.strong("Void: "), S.info["void_reason"]), icon="ban", color_scheme="orange",
                           width="100%", id="void-reason")),
        rx.cond(S.info["refund_reference"] != "",
                rx.callout(rx.text("This credit note gives back part of ",
                                   rx.link(S.info["credits_number"], href="/invoices/" + S.info["credits_id"]),
                                   " for refund ",
                                   rx.link(S.info["refund_reference"],
                                           href="/payments/" + S.info["refund_payment_id"]),
                                   ". ", S.info["correction_reason"]),
                           icon="undo-2", color_scheme="violet", width="100%", id="refund-credit")),
        rx.cond((S.info["credits_number"] != "") & (S.info["refund_reference"] == ""),
                rx.callout(rx.text("This credit note cancels ",
                                   rx.link(S.info["credits_number"], href="/invoices/" + S.info["credits_id"]),
                                   " in full. Reason: ", S.info["correction_reason"]),
                           icon="undo-2", color_scheme="violet", width="100%")),
        rx.cond((S.info["credits_number"] == "") & (S.info["correction_reason"] != ""),
                rx.callout(S.info["correction_reason"], icon="file-diff", color_scheme="blue", width="100%")),
        rx.cond(S.info["credited_by_number"] != "",
                rx.callout(rx.text("Credited by ",
                                   rx.link(S.info["credited_by_number"], href="/invoices/" + S.info["credited_by_id"]),
                                   "."), icon="undo-2", color_scheme="violet", width="100%", id="credited-by")),
    )
    return rx.fragment(mail, correction, relations)


def _facts() -> rx.Component:
    return rx.card(
        rx.flex(
            _fact("Issued", S.info["issued"]), _fact("Due", S.info["due"]),
            _fact("Payment terms", S.info["terms"]), _fact("Period", S.info["period"]),
            _fact("Sessions", S.info["sessions"]), _fact("Energy", S.info["energy"]),
            _fact("Currency", S.info["currency"]), _fact("Revision", S.info["revision"]),
            gap="24px", wrap="wrap",
        ),
        size="2", width="100%", id="invoice-facts",
    )


def _party(title: str, lines, key: str) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(title, size="1", color_scheme="gray", weight="bold", text_transform="uppercase",
                    letter_spacing="0.04em"),
            rx.foreach(lines, lambda ln, i: rx.text(ln, size="2", weight=rx.cond(i == 0, "bold", "regular"))),
            spacing="1",
        ),
        size="2", width="100%", id=key,
    )


def _lines() -> rx.Component:
    def right(label: str) -> rx.Component:
        return rx.table.column_header_cell(rx.text(label, text_align="right"), justify="end")

    def money(value, bold: bool = False) -> rx.Component:
        return rx.table.cell(rx.text(value, text_align="right", white_space="nowrap",
                                     weight="bold" if bold else "regular"))

    def row(r) -> rx.Component:
        return rx.table.row(
            rx.table.cell(rx.text(r["description"], weight="medium", min_width="140px")),
            money(r["sessions"]), money(r["kwh"]), money(r["energy"]), money(r["time"]), money(r["fees"]),
            money(r["idle"]), money(r["subtotal"]), money(r["gross"]), money(r["net"], True),
            align="center", class_name="invoice-line",
        )

    return rx.card(
        rx.vstack(
            rx.heading("Lines per charger", size="4"),
            rx.cond(
                S.lines.length() == 0,
                rx.text("No lines.", size="2", color_scheme="gray"),
                rx.box(
                    rx.table.root(
                        rx.table.header(rx.table.row(
                            rx.table.column_header_cell("Charger"),
                            *[right(h) for h in ("Sessions", "kWh", "Energy", "Time", "Session fees", "Idle fees",
                                                 "Subtotal", "Gross", "Net payable")])),
                        rx.table.body(rx.foreach(S.lines, row)),
                        variant="ghost", size="1", width="100%", id="invoice-lines",
                    ),
                    overflow_x="auto", width="100%",
                ),
            ),
            spacing="3", width="100%",
        ),
        size="2", width="100%",
    )


def _settlement() -> rx.Component:
    def row(r) -> rx.Component:
        strong = (r["kind"] == "total") | (r["kind"] == "subtotal")
        return rx.table.row(
            rx.table.cell(rx.text(r["label"], weight=rx.cond(strong, "bold", "regular"))),
            rx.table.cell(rx.text(r["note"], size="1", color_scheme="gray")),
            rx.table.cell(rx.text(r["amount"], text_align="right", white_space="nowrap",
                                  weight=rx.cond(strong, "bold", "regular"))),
            class_name="settlement-line",
            background=rx.cond(r["kind"] == "total", rx.color("teal", 2), "transparent"),
        )

    return rx.card(
        rx.vstack(
            rx.heading("Settlement", size="4"),
            rx.text("Sums of the sessions as they were priced at stop, rounded once per session.", size="1",
                    color_scheme="gray"),
            rx.table.root(rx.table.body(rx.foreach(S.summary, row)), variant="ghost", size="1", width="100%",
                          id="settlement"),
            spacing="2", width="100%",
        ),
        size="2", width="100%",
    )


def _credit_notes() -> rx.Component:
    """The partial credit notes refunds gave on this invoice, each with its refund (links both ways)."""
    def row(c) -> rx.Component:
        return rx.table.row(
            rx.table.cell(rx.link(c["number"], href="/invoices/" + c["id"])),
            rx.table.cell(rx.link(c["refund"], href="/payments/" + c["payment_id"])),
            rx.table.cell(c["issued"]), rx.table.cell(invoice_status_badge(c["status"])),
            rx.table.cell(rx.text(c["amount"], text_align="right", white_space="nowrap")),
            class_name="invoice-credit-note",
        )

    return rx.card(
        rx.vstack(
            rx.heading("Credit notes for refunds", size="4"),
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                    "Credit note", "Refund", "Issued", "Status", "Gross")])),
                rx.table.body(rx.foreach(S.credit_notes, row)),
                variant="ghost", size="1", width="100%", id="invoice-credit-notes",
            ),
            spacing="3", width="100%",
        ),
        size="2", width="100%",
    )


def _history() -> rx.Component:
    def entry(h) -> rx.Component:
        return rx.hstack(
            rx.box(invoice_status_badge(h["to"]), min_width="96px"),
            rx.vstack(
                rx.text(rx.cond(h["from"] != "", rx.text.span(h["from"], " → ", h["to"]), "Created as Draft"),
                        " by ", rx.text.strong(h["by"]), size="2"),
                rx.text(h["when"], size="1", color_scheme="gray"),
                rx.cond(h["reason"] != "", rx.text(h["reason"], size="1", color_scheme="gray", font_style="italic")),
                spacing="0", min_width="0",
            ),
            spacing="3", align="start", width="100%", padding_y="10px",
            border_bottom=f"1px solid {rx.color('gray', 4)}", class_name="history-row",
        )

    return rx.card(
        rx.vstack(
            rx.heading("Status history", size="4"),
            rx.vstack(rx.foreach(S.history, entry), spacing="0", width="100%", id="status-history"),
            rx.text("Times in ", S.info["timezone"], ". Overdue is set automatically after the due date.", size="1",
                    color_scheme="gray"),
            spacing="3", width="100%",
        ),
        size="2", width="100%",
    )


def _reason_dialog(*, title: str, text: str, open_, on_open_change, value, on_change, error, confirm: str,
                   on_confirm, busy, color: str, key: str) -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(title),
            rx.dialog.description(text, size="2", color_scheme="gray", margin_bottom="12px"),
            rx.vstack(
                rx.text("Reason", as_="label", html_for=f"{key}-reason", size="2", weight="medium"),
                rx.text_area(id=f"{key}-reason", value=value, on_change=on_change, rows="3", width="100%",
                             placeholder="Required"),
                rx.cond(error != "", rx.text(error, size="1", color_scheme="red", id=f"{key}-error")),
                rx.hstack(
                    rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray")),
                    rx.button(confirm, color_scheme=color, on_click=on_confirm, loading=busy, id=f"{key}-confirm"),
                    justify="end", width="100%", spacing="3", padding_top="8px",
                ),
                spacing="2", width="100%",
            ),
            max_width="480px",
        ),
        open=open_, on_open_change=on_open_change,
    )


def _dialogs() -> rx.Component:
    return rx.fragment(
        _reason_dialog(title="Void this invoice", text="A void invoice owes nothing. Its content stays as it was; "
                       "the reason is recorded in the status history.", open_=S.void_open,
                       on_open_change=S.set_void_open, value=S.void_reason, on_change=S.set_void_reason,
                       error=S.void_error, confirm="Void invoice", on_confirm=S.void, busy=S.busy == "void",
                       color="red", key="void"),
        _reason_dialog(title="Issue a correction", text="An issued invoice is never changed. This issues a credit "
                       "note for it in full and a new invoice for the same period from the sessions as they are now.",
                       open_=S.correct_open, on_open_change=S.set_correct_open, value=S.correct_reason,
                       on_change=S.set_correct_reason, error=S.correct_error, confirm="Issue credit note and invoice",
                       on_confirm=S.correct, busy=S.busy == "correct", color="teal", key="correct"),
    )


def _not_found() -> rx.Component:
    return not_found_card("Invoice", "the organizations you can see",
                          "Back to invoices", "/invoices", "invoice-not-found")


@template(route="/invoices/[id]", title="Invoice", cap=Cap.VIEW_INVOICES, on_load=S.load)
def invoice_detail() -> rx.Component:
    return rx.cond(
        S.not_found,
        _not_found(),
        rx.cond(
            S.info.contains("id"),
            rx.vstack(
                _header(), _actions(), _notices(), _facts(),
                rx.grid(_party("From", S.platform, "platform-party"), _party("To", S.customer, "customer-party"),
                        columns=rx.breakpoints(initial="1", md="2"), gap="16px", width="100%"),
                _lines(),
                rx.cond(S.credit_notes.length() > 0, _credit_notes()),
                rx.grid(_settlement(), _history(), columns=rx.breakpoints(initial="1", lg="1fr 1fr"), gap="16px",
                        width="100%"),
                _dialogs(),
                spacing="4", width="100%",
            ),
            loading_block(),
        ),
    )
