"""Invoices: the partner invoices and credit notes in scope, filtered and paged, and the bulk
"Generate invoices" action with its progress bar and report."""
import reflex as rx

from app.components.layout import template
from app.components.ui import empty_state, loading_block, page_header, pager, table_card
from app.pages.finances import outcome_badge
from services.access.permissions import Cap
from state.invoices import ANY, KINDS, STATUSES
from state.invoices import InvoicesState as S

INVOICE_STATUS_COLORS = (("Draft", "gray"), ("Sent", "blue"), ("Paid", "green"), ("Overdue", "red"),
                         ("Void", "orange"))
LABELS = {"draft": "Draft", "sent": "Sent", "paid": "Paid", "overdue": "Overdue", "void": "Void"}


def invoice_status_badge(status, **props) -> rx.Component:
    return rx.badge(
        rx.box(width="6px", height="6px", border_radius="50%", background="currentColor"),
        status, color_scheme=rx.match(status, *INVOICE_STATUS_COLORS, "gray"), variant="soft", radius="full",
        size="2", class_name="invoice-status", **props,
    )


def credit_badge() -> rx.Component:
    return rx.badge("Credit note", variant="outline", color_scheme="violet", radius="full", size="1")


def _label(text: str, html_for: str) -> rx.Component:
    return rx.text(text, as_="label", html_for=html_for, size="1", weight="medium", color_scheme="gray")


def _select(label: str, key: str, value, on_change, items: list[rx.Component], width: str = "180px"):
    return rx.vstack(
        _label(label, key),
        rx.select.root(rx.select.trigger(min_width=width, id=key), rx.select.content(*items), value=value,
                       on_change=on_change),
        spacing="1",
    )


def _filters() -> rx.Component:
    return rx.card(
        rx.flex(
            _select("Status", "invoice-status-filter", S.status, S.set_filter("status"),
                    [rx.select.item("All statuses", value=ANY), rx.select.separator(),
                     *[rx.select.item(LABELS[s], value=s) for s in STATUSES]]),
            rx.cond(
                S.org_choices.length() > 1,
                _select("Organization", "invoice-org-filter", S.organization, S.set_filter("organization"),
                        [rx.select.item("All organizations", value=ANY), rx.select.separator(),
                         rx.foreach(S.org_choices, lambda o: rx.select.item(o["name"], value=o["id"]))],
                        width="220px"),
            ),
            _select("Document", "invoice-kind-filter", S.kind, S.set_filter("kind"),
                    [rx.select.item("Invoices and credit notes", value=ANY), rx.select.separator(),
                     *[rx.select.item(label, value=str(k)) for k, label in KINDS.items()]], width="220px"),
            gap="16px", wrap="wrap", align="end",
        ),
        size="2", width="100%",
    )


def _row(r) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.vstack(
            rx.hstack(rx.link(r["number"], href="/invoices/" + r["id"], weight="medium", class_name="invoice-link",
                              white_space="nowrap"),
                      rx.cond(r["credit"] != "", credit_badge()), spacing="2", align="center"),
            rx.text("Issued ", r["issued"], size="1", color_scheme="gray", white_space="nowrap"),
            spacing="0")),
        rx.table.cell(r["organization"]),
        rx.table.cell(rx.text(r["period"], white_space="nowrap", size="2")),
        rx.table.cell(rx.text(r["due"], white_space="nowrap", size="2",
                              color=rx.cond(r["status"] == "Overdue", rx.color("red", 11), "inherit"))),
        rx.table.cell(invoice_status_badge(r["status"])),
        rx.table.cell(rx.text(r["gross"], text_align="right", white_space="nowrap")),
        rx.table.cell(rx.text(r["net"], text_align="right", white_space="nowrap", weight="bold")),
        align="center", class_name="invoice-row",
    )


def _list() -> rx.Component:
    def right(label: str) -> rx.Component:
        return rx.table.column_header_cell(rx.text(label, text_align="right"), justify="end")

    return rx.vstack(
        table_card(
            rx.cond(
                S.rows.length() == 0,
                rx.cond(S.loading, loading_block(),
                        empty_state("file-text", "No invoices yet",
                                    "Invoices appear here when a billing period closes, or when you generate them.")),
                rx.box(rx.table.root(
                    rx.table.header(rx.table.row(
                        *[rx.table.column_header_cell(h) for h in ("Number", "Organization", "Period", "Due",
                                                                   "Status")],
                        right("Gross collected"), right("Net payable"),
                    )),
                    rx.table.body(rx.foreach(S.rows, _row)),
                    variant="ghost", size="2", width="100%", id="invoices-table",
                ), overflow_x="auto", width="100%"),
            ),
        ),
        pager(S.page, S.page_count, S.go_page, S.range_label),
        width="100%", spacing="0",
    )


# --- the bulk run -----------------------------------------------------------------------------------------


def _field_error(key: str) -> rx.Component:
    return rx.cond(S.bulk_field == key, rx.text(S.bulk_error, size="1", color_scheme="red", class_name="field-error"))


def _bulk_form() -> rx.Component:
    def org_option(o) -> rx.Component:
        return rx.text(
            rx.hstack(rx.checkbox(checked=S.bulk_selected.contains(o["id"]),
                                  on_change=lambda checked: S.toggle_org(o["id"], checked)),
                      o["name"], spacing="2", align="center"),
            as_="label", size="2", class_name="bulk-org",
        )

    return rx.vstack(
        rx.grid(
            rx.vstack(_label("Period start", "bulk_start"),
                      rx.input(type="date", id="bulk_start", value=S.bulk_start, on_change=S.set_bulk_start,
                               width="100%"),
                      _field_error("bulk_start"), spacing="1"),
            rx.vstack(_label("Period end (inclusive)", "bulk_end"),
                      rx.input(type="date", id="bulk_end", value=S.bulk_end, on_change=S.set_bulk_end, width="100%"),
                      _field_error("bulk_end"), spacing="1"),
            columns="2", gap="16px", width="100%",
        ),
        rx.text("Dates are each organization's local days.", size="1", color_scheme="gray"),
        rx.vstack(
            _label("Organizations", "bulk-orgs"),
            rx.radio_group.root(
                rx.hstack(
                    rx.text(rx.hstack(rx.radio_group.item(value="all"), "All (", S.org_choices.length(), ")",
                                      spacing="2", align="center"), as_="label", size="2"),
                    rx.text(rx.hstack(rx.radio_group.item(value="selected"), "Selected only", spacing="2",
                                      align="center"), as_="label", size="2"),
                    spacing="5",
                ),
                value=rx.cond(S.bulk_all, "all", "selected"), on_change=S.set_bulk_all, id="bulk-orgs",
            ),
            rx.cond(
                ~S.bulk_all,
                rx.scroll_area(
                    rx.vstack(rx.foreach(S.org_choices, org_option), spacing="2", padding="10px 12px"),
                    max_height="180px", type="auto", scrollbars="vertical", width="100%",
                    border=f"1px solid {rx.color('gray', 5)}", border_radius="8px",
                ),
            ),
            _field_error("bulk_orgs"),
            spacing="2", width="100%",
        ),
        rx.cond(S.general_error != "",
                rx.callout(S.general_error, icon="triangle-alert", color_scheme="red", size="1", id="bulk-error")),
        rx.hstack(
            rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray")),
            rx.button(rx.icon("play", size=16), "Generate", on_click=S.generate, id="bulk-generate"),
            justify="end", width="100%", spacing="3", padding_top="8px",
        ),
        spacing="4", width="100%",
    )


def _bulk_progress() -> rx.Component:
    def row(r) -> rx.Component:
        return rx.table.row(
            rx.table.cell(rx.text(r["organization"], weight="medium")),
            rx.table.cell(outcome_badge(r["outcome"])),
            rx.table.cell(rx.cond(r["invoice_id"] != "",
                                  rx.link(r["reason"], href="/invoices/" + r["invoice_id"], size="2"),
                                  rx.text(r["reason"], size="2", color_scheme="gray"))),
            align="center", class_name="bulk-outcome",
        )

    return rx.vstack(
        rx.vstack(
            rx.hstack(
                rx.cond(S.running,
                        rx.hstack(rx.spinner(size="1"),
                                  rx.text("Invoicing… ", S.done, " of ", S.expected, " organizations", size="2"),
                                  spacing="2", align="center"),
                        rx.hstack(rx.icon("circle-check", size=16, color=rx.color("green", 10)),
                                  rx.text("Finished: ", S.done, " of ", S.expected, " organizations", size="2",
                                          weight="medium"),
                                  spacing="2", align="center")),
                rx.spacer(),
                rx.text(S.progress, "%", size="2", color_scheme="gray"),
                width="100%", align="center",
            ),
            rx.progress(value=S.progress, max=100, size="3", id="bulk-progress", color_scheme="teal"),
            rx.cond(S.current != "", rx.text("Last done: ", S.current, size="1", color_scheme="gray")),
            spacing="2", width="100%",
        ),
        rx.cond(
            S.finished,
            rx.hstack(
                rx.badge(S.made, " made", color_scheme="green", variant="soft", size="2"),
                rx.badge(S.skipped, " skipped", color_scheme="gray", variant="soft", size="2"),
                rx.badge(S.failed, " failed", color_scheme="red", variant="soft", size="2"),
                rx.text(S.summary, size="1", color_scheme="gray"),
                spacing="2", align="center", wrap="wrap", id="bulk-summary",
            ),
        ),
        rx.cond(
            S.report.length() > 0,
            rx.scroll_area(
                rx.table.root(
                    rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                        "Organization", "Outcome", "Details")])),
                    rx.table.body(rx.foreach(S.report, row)),
                    variant="surface", size="1", width="100%", id="bulk-report",
                ),
                max_height="300px", type="auto", scrollbars="vertical",
            ),
        ),
        rx.hstack(
            rx.button("Another period", variant="soft", color_scheme="gray", on_click=S.new_run, disabled=S.running),
            rx.dialog.close(rx.button("Close", disabled=S.running, id="bulk-close")),
            justify="end", width="100%", spacing="3",
        ),
        spacing="4", width="100%",
    )


def _bulk_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Generate invoices"),
            rx.dialog.description(
                "Invoices each organization for the period from its priced sessions. A period that is already "
                "invoiced is skipped, so running this twice makes nothing twice.",
                size="2", color_scheme="gray", margin_bottom="16px"),
            rx.cond(S.running | S.finished, _bulk_progress(), _bulk_form()),
            max_width="620px", id="bulk-dialog",
        ),
        open=S.bulk_open, on_open_change=S.set_bulk_open,
    )


@template(route="/invoices", title="Invoices", cap=Cap.VIEW_INVOICES, on_load=S.load)
def invoices() -> rx.Component:
    return rx.vstack(
        page_header(
            "Invoices", "Settlement statements per organization and period, with their status and credit notes.",
            rx.cond(S.can_manage, rx.button(rx.icon("files", size=16), "Generate invoices", on_click=S.open_bulk,
                                            id="open-bulk")),
        ),
        _filters(),
        rx.cond(S.loaded, _list(), loading_block()),
        _bulk_dialog(),
        spacing="4", width="100%",
    )
