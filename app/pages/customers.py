"""Users → Customers (search, open, Resend invitation) and Settings → Support links."""
import reflex as rx

from app.components.layout import template
from app.components.ui import empty_state, page_header, pager, rows_or_empty, search_input, table_card
from app.components.ui import user_status_badge as status_badge
from app.pages.accounts import form_error, text_field
from services.access.permissions import Cap
from state.customers import CustomersState as S
from state.customers import SupportLinksState as L


def _tabs() -> rx.Component:
    return rx.hstack(
        rx.link(rx.button("Staff", variant="soft", color_scheme="gray"), href="/users"),
        rx.button("Customers", variant="solid"),
        spacing="2")


def _row(c) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.vstack(rx.text(c["email"], weight="medium"), rx.text(c["name"], size="1",
                                                                              color_scheme="gray"), spacing="0")),
        rx.table.cell(rx.link(c["account"], href="/accounts/" + c["account_id"])),
        rx.table.cell(rx.text(c["organization"], size="2")),
        rx.table.cell(rx.vstack(status_badge(c["status"]), rx.text(c["note"], size="1", color_scheme="gray"),
                                spacing="1")),
        rx.table.cell(rx.button("Open", size="1", variant="soft", on_click=S.open_customer(c["id"]),
                                class_name="open-customer")),
        align="center", class_name="customer-row")


def _panel() -> rx.Component:
    c = S.selected
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(c["email"]),
            rx.vstack(
                rx.hstack(status_badge(c["status"]), rx.text(c["note"], size="2", color_scheme="gray",
                                                             id="customer-link-note"), spacing="2"),
                rx.text("Account: ", rx.link(c["account"], href="/accounts/" + c["account_id"]), size="2"),
                rx.text("Organization: ", c["organization"], size="2"),
                rx.hstack(
                    rx.dialog.close(rx.button("Close", variant="soft", color_scheme="gray")),
                    rx.cond(S.can_manage & ((c["status"] == "invited") | (c["status"] == "unverified")),
                            rx.button(rx.icon("send", size=14), "Resend invitation", on_click=S.resend,
                                      id="resend-invitation")),
                    justify="end", width="100%", spacing="3"),
                spacing="3", width="100%"),
            max_width="460px"),
        open=c.contains("id"), on_open_change=S.close_customer)


@template(route="/users/customers", title="Customers", cap=Cap.VIEW_CUSTOMERS, on_load=S.load)
def customers_page() -> rx.Component:
    return rx.vstack(
        page_header("Customers", "The people who log in to customer accounts.", _tabs()),
        search_input("Search email, name or account", S.set_filter("search"), id="customer-search"),
        table_card(rows_or_empty(
            S, empty_state("contact", "No customers found", "Nobody matches your search."),
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                    "Customer", "Account", "Organization", "Status", "")])),
                rx.table.body(rx.foreach(S.rows, _row)),
                variant="ghost", size="2", width="100%", id="customers-table"))),
        pager(S.page, S.page_count, S.go_page),
        _panel(),
        spacing="4", width="100%")


@template(route="/settings/support-links", title="Support links", cap=Cap.VIEW_CUSTOMERS, on_load=L.load)
def support_links_page() -> rx.Component:
    return rx.vstack(
        page_header("Settings", "Support links: what customers accept when they sign up or are invited."),
        rx.card(rx.form(
            rx.vstack(
                rx.heading("Support links", size="4"),
                rx.cond(L.org_choices.length() > 1, rx.select.root(
                    rx.select.trigger(width="320px", id="links-organization"),
                    rx.select.content(rx.foreach(L.org_choices, lambda o: rx.select.item(o["label"],
                                                                                         value=o["value"]))),
                    value=L.org, on_change=L.choose_org)),
                rx.cond(L.is_open,
                        rx.callout("Sign-up and invitations are open.", icon="circle-check", color_scheme="green",
                                   size="1", id="links-open"),
                        rx.callout("Sign-up and invitations are closed until the Terms of Use and Privacy policy "
                                   "links are set.", icon="lock", color_scheme="amber", size="1", id="links-closed")),
                rx.fragment(
                    text_field("Terms of Use URL", "terms_url", default_value=L.terms_url, key=L.org + "t",
                               placeholder="https://example.com/terms", disabled=~L.can_manage),
                    text_field("Privacy policy URL", "privacy_url", default_value=L.privacy_url, key=L.org + "p",
                               placeholder="https://example.com/privacy", disabled=~L.can_manage),
                    text_field("Support contact", "support_contact", default_value=L.support_contact,
                               key=L.org + "c", placeholder="support@example.com", disabled=~L.can_manage),
                ),
                form_error(L.error),
                rx.cond(L.can_manage, rx.button("Save", type="submit", loading=L.saving, id="save-links")),
                spacing="4", width="100%", max_width="560px"),
            on_submit=L.save, reset_on_submit=False), size="3", width="100%"),
        spacing="4", width="100%")
