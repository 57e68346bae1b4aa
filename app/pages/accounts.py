"""Accounts: customer accounts with their sub-accounts; + New account (Standard or Enterprise); an account's page
with its users, sub-accounts (+ Add sub-account), charging assets and reimbursement statements."""
import reflex as rx

from app.components.layout import template
from app.components.ui import empty_state, not_found_card, page_header, pager, rows_or_empty, search_input, table_card
from app.components.ui import user_status_badge as status_badge
from services.access.permissions import Cap
from state.customers import ENTERPRISE, STANDARD
from state.customers import AccountDetailState as D
from state.customers import AccountsState as S

CLOSED = ("Sign-up and invitations are closed for this organization until its Terms of Use and Privacy policy "
          "links are set in Settings → Support links.")


def _label(text: str, html_for: str) -> rx.Component:
    return rx.text(text, as_="label", html_for=html_for, size="2", weight="medium")


def text_field(label: str, name: str, **props) -> rx.Component:
    return rx.vstack(_label(label, name), rx.input(id=name, name=name, width="100%", **props),
                     spacing="1", width="100%")


def choice(label: str, key: str, value, on_change, options: list[tuple[str, str]]) -> rx.Component:
    return rx.vstack(
        _label(label, key),
        rx.radio_group.root(
            rx.hstack(*[rx.radio_group.item(text, value=v, id=f"{key}-{v}") for v, text in options], spacing="4"),
            value=value, on_change=on_change),
        spacing="1", width="100%")


def company_fields() -> rx.Component:
    return rx.vstack(
        text_field("Legal name", "legal_name", placeholder="Acme Logistics GmbH"),
        rx.hstack(text_field("Registration number", "registration_number"), text_field("VAT number", "vat_number"),
                  spacing="3", width="100%"),
        text_field("Billing address", "billing_address", placeholder="Street, postcode, city, country"),
        spacing="3", width="100%")


def form_error(message) -> rx.Component:
    return rx.cond(message != "", rx.callout(message, icon="triangle-alert", color_scheme="red", size="1",
                                             width="100%", role="alert", class_name="form-error"))


def closed_note(id: str) -> rx.Component:
    return rx.callout(CLOSED, icon="lock", color_scheme="amber", size="1", width="100%", id=id)


def _new_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("New account"),
            rx.form(
                rx.vstack(
                    choice("Account type", "mode", S.mode, S.set_mode,
                           [(STANDARD, "Standard"), (ENTERPRISE, "Enterprise plan")]),
                    rx.cond(S.mode == STANDARD,
                            rx.text("The customer chooses a billing plan for each charging asset it activates.",
                                    size="2", color_scheme="gray"),
                            rx.text("A custom subscription for the whole account: a price per activated asset.",
                                    size="2", color_scheme="gray")),
                    rx.cond(S.org_choices.length() > 1, rx.vstack(
                        _label("Organization", "organization"),
                        rx.select.root(rx.select.trigger(width="100%", id="organization"), rx.select.content(
                            rx.foreach(S.org_choices, lambda o: rx.select.item(o["label"], value=o["value"]))),
                            value=S.new_org, on_change=S.set_new_org),
                        spacing="1", width="100%")),
                    text_field("Customer's email address", "email", type="email", placeholder="name@company.com"),
                    rx.cond(S.mode == ENTERPRISE, rx.vstack(
                        text_field("Account name", "name", placeholder="Company fleet"),
                        text_field("Price per activated asset", "price_per_asset", placeholder="12.50",
                                   input_mode="decimal"),
                        rx.hstack(rx.switch(checked=S.public_charging, on_change=S.set_public_charging),
                                  _label("Public charging for its stations and cards", "public_charging"),
                                  spacing="2", align="center"),
                        rx.hstack(rx.checkbox(checked=S.send_invitation, on_change=S.set_send_invitation),
                                  _label("Invite the customer to use the account", "send_invitation"),
                                  spacing="2", align="center"),
                        spacing="3", width="100%")),
                    form_error(S.form_error),
                    rx.hstack(
                        rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
                        rx.cond(S.links_open,
                                rx.button(rx.cond((S.mode == ENTERPRISE) & ~S.send_invitation, "Create account",
                                                  "Send invitation"), type="submit", loading=S.saving,
                                          id="send-invitation"),
                                closed_note("invitations-closed")),
                        justify="end", width="100%", spacing="3", margin_top="8px"),
                    spacing="3", width="100%"),
                on_submit=S.create, reset_on_submit=False),
            max_width="480px"),
        open=S.dialog_open, on_open_change=S.set_dialog_open)


def _account_row(a) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.link(
            rx.hstack(rx.cond(a["sub"] != "", rx.icon("corner-down-right", size=14, color=rx.color("gray", 9))),
                      rx.text(a["name"], weight="medium"), spacing="2", align="center",
                      padding_left=rx.cond(a["sub"] != "", "16px", "0")),
            href="/accounts/" + a["id"], class_name="account-link")),
        rx.table.cell(rx.text(a["owner"], size="2")),
        rx.table.cell(rx.hstack(rx.badge(a["kind"], variant="soft", color_scheme="indigo"),
                                rx.cond(a["use"] != "", rx.badge(a["use"], variant="outline")),
                                rx.cond(a["plan"] == "Enterprise", rx.badge("Enterprise", color_scheme="purple")),
                                spacing="1")),
        rx.table.cell(rx.text(a["organization"], size="2")),
        rx.table.cell(rx.text(a["assets"])),
        rx.table.cell(rx.text(a["rate"], size="2")),
        rx.table.cell(status_badge(a["status"])),
        align="center", class_name="account-row")


@template(route="/accounts", title="Accounts", cap=Cap.VIEW_CUSTOMERS, on_load=S.load)
def accounts_page() -> rx.Component:
    return rx.vstack(
        page_header("Accounts", "Customer accounts, their sub-accounts and charging assets.",
                    rx.cond(S.can_manage, rx.button(rx.icon("plus", size=16), "New account", on_click=S.open_new,
                                                    id="new-account"))),
        search_input("Search account name or email", S.set_filter("search"), id="account-search"),
        table_card(rows_or_empty(
            S, empty_state("briefcase", "No accounts found", "Invite a customer, or let customers sign up."),
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                    "Account", "Owner", "Type", "Organization", "Assets", "Reimbursement", "Status")])),
                rx.table.body(rx.foreach(S.rows, _account_row)),
                variant="ghost", size="2", width="100%", id="accounts-table"))),
        pager(S.page, S.page_count, S.go_page, rx.text(S.total, " accounts")),
        _new_dialog(),
        spacing="4", width="100%")


# --- one account ----------------------------------------------------------------------------------------


def _sub_dialog() -> rx.Component:
    form = rx.form(
        rx.vstack(
            choice("Who will use this account?", "use", D.use, D.set_use,
                   [("employee", "Employee"), ("subsidiary", "Subsidiary")]),
            text_field("Account name", "name", placeholder="Jane's home charging"),
            text_field("Email address of the sub-account user", "email", type="email"),
            choice("Account type", "kind", D.kind, D.set_kind, [("business", "Business"), ("consumer", "Consumer")]),
            rx.cond(D.kind == "business", company_fields()),
            rx.vstack(rx.text("Reimbursement rate in ", D.account["currency"], " per kWh", as_="label", html_for="rate",
                              size="2", weight="medium"),
                      rx.input(id="rate", name="rate", width="100%", placeholder="0.30", input_mode="decimal"),
                      spacing="1", width="100%"),
            rx.text("For private charging sessions on the sub-account's own charger: automated reimbursement for an "
                    "Employee, manual for a Subsidiary.", size="1", color_scheme="gray"),
            form_error(D.form_error),
            rx.hstack(
                rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
                rx.button("Send invitation", type="submit", loading=D.saving, id="send-sub-invitation"),
                justify="end", width="100%", spacing="3", margin_top="8px"),
            spacing="3", width="100%"),
        on_submit=D.invite_sub, reset_on_submit=False)
    confirmation = rx.vstack(
        rx.callout(D.confirmed, icon="circle-check", color_scheme="green", width="100%", id="sub-confirmation"),
        rx.hstack(
            rx.dialog.close(rx.button("Done", variant="soft", color_scheme="gray")),
            rx.button(rx.icon("plus", size=16), "Add another sub-account", on_click=D.add_another, id="add-another"),
            justify="end", width="100%", spacing="3"),
        spacing="4", width="100%")
    return rx.dialog.root(
        rx.dialog.content(rx.dialog.title("Add sub-account"), rx.cond(D.confirmed != "", confirmation, form),
                          max_width="520px"),
        open=D.dialog_open, on_open_change=D.set_dialog_open)


def _enterprise_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Enterprise plan"),
            rx.form(rx.vstack(
                rx.vstack(rx.text("Price per activated asset in ", D.account["currency"], as_="label",
                                  html_for="price_per_asset", size="2", weight="medium"),
                          rx.input(id="price_per_asset", name="price_per_asset", width="100%", input_mode="decimal",
                                   default_value=D.enterprise_price, key=D.enterprise_price),
                          spacing="1", width="100%"),
                rx.hstack(rx.switch(checked=D.public_charging, on_change=D.set_public_charging,
                                    class_name="enterprise-public"),
                          rx.text("Public charging for its stations and cards", size="2", weight="medium"),
                          spacing="2", align="center"),
                rx.text("Off: the account's cards charge only on its own chargers (and its sub-accounts'), and those "
                        "chargers take only its cards. Chargers are told at their next Authorize or start.",
                        size="1", color_scheme="gray"),
                form_error(D.enterprise_error),
                rx.hstack(
                    rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
                    rx.button("Save", type="submit", loading=D.saving, id="save-enterprise"),
                    justify="end", width="100%", spacing="3", margin_top="8px"),
                spacing="3", width="100%"), on_submit=D.save_enterprise, reset_on_submit=False),
            max_width="460px"),
        open=D.enterprise_open, on_open_change=D.open_enterprise)


def _section(title: str, body: rx.Component, *actions: rx.Component) -> rx.Component:
    return rx.card(rx.vstack(rx.hstack(rx.heading(title, size="4"), rx.spacer(), *actions, width="100%",
                                       align="center"), body, spacing="3", width="100%"), size="2", width="100%")


def simple_table(rows, columns: list[tuple[str, str]], id: str, empty: str) -> rx.Component:
    return rx.cond(rows.length() == 0, rx.text(empty, size="2", color_scheme="gray"), rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h, _ in columns])),
        rx.table.body(rx.foreach(rows, lambda r: rx.table.row(*[rx.table.cell(r[k]) for _, k in columns]))),
        variant="ghost", size="2", width="100%", id=id))


def _detail() -> rx.Component:
    return rx.vstack(
        page_header(D.account["name"], D.account["organization"],
                    rx.cond(D.can_manage & (D.account["sub"] == ""), rx.cond(
                        D.links_open,
                        rx.button(rx.icon("plus", size=16), "Add sub-account", on_click=D.open_sub,
                                  id="add-sub-account"),
                        rx.text(CLOSED, size="1", color_scheme="amber", max_width="360px",
                                id="sub-invitations-closed")))),
        rx.hstack(rx.badge(D.account["kind"], variant="soft", color_scheme="indigo"),
                  rx.badge(D.account["plan"], variant="soft", color_scheme="purple"),
                  status_badge(D.account["status"]), spacing="2"),
        rx.cond(D.company.length() > 0, _section("Company details", rx.vstack(rx.foreach(
            D.company, lambda c: rx.hstack(rx.text(c["label"], size="2", color_scheme="gray", width="180px"),
                                           rx.text(c["value"], size="2"))), spacing="1", id="account-company"),
            rx.cond(D.can_manage & D.enterprise, rx.button("Edit Enterprise plan", size="1", variant="soft",
                                                           on_click=D.open_enterprise(True), id="edit-enterprise")))),
        _section("Sub-accounts", simple_table(D.subs, [("Account", "name"), ("Used by", "use"), ("Type", "kind"),
                                                       ("User", "owner"), ("Reimbursement", "rate"),
                                                       ("Status", "status")], "sub-accounts-table",
                                              "No sub-accounts yet.")),
        _section("Users", simple_table(D.users, [("Email", "email"), ("Name", "name"), ("Status", "status"),
                                                 ("Link", "note")], "account-users", "No users.")),
        _section("Cards and chargers", simple_table(D.asset_rows, [("Kind", "kind"), ("Card or charger", "label"),
                                                                   ("Billing plan", "plan"), ("Since", "since")],
                                                    "account-assets", "No charging assets activated yet.")),
        _section("Reimbursement statements", rx.cond(
            D.statements.length() == 0, rx.text("No statements yet.", size="2", color_scheme="gray"),
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                    "Account", "Month", "Energy", "Amount", "Status", "")])),
                rx.table.body(rx.foreach(D.statements, lambda r: rx.table.row(
                    *[rx.table.cell(r[k]) for k in ("account", "period", "energy", "amount", "status")],
                    rx.table.cell(rx.cond(D.can_pay & (r["status"] != "paid"), rx.button(
                        "Mark paid", size="1", variant="soft", on_click=D.mark_paid(r["id"]))))))),
                variant="ghost", size="2", width="100%", id="account-statements"))),
        _section("Invoices", rx.cond(D.invoices.length() == 0, rx.text("No invoices yet.", size="2",
                                                                       color_scheme="gray"),
                                     rx.vstack(rx.foreach(D.invoices, lambda i: rx.hstack(
                                         rx.text(i["number"], weight="medium"), rx.text(i["period"], size="2"),
                                         rx.spacer(), rx.text(i["total"]),
                                         rx.link("PDF", href="/api/v1/customer-invoices/" + i["id"] + ".pdf",
                                                 is_external=True), width="100%", spacing="4")),
                                               width="100%", id="account-invoices"))),
        _sub_dialog(),
        _enterprise_dialog(),
        spacing="4", width="100%")


@template(route="/accounts/[account_id]", title="Account", cap=Cap.VIEW_CUSTOMERS, on_load=D.load)
def account_detail() -> rx.Component:
    return rx.cond(D.not_found, not_found_card("Account", "the accounts you can see", "Back to accounts", "/accounts",
                                               "account-not-found"), _detail())
