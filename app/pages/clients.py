"""Clients (operator staff): usage against limits, each client's own numbers, Add New Client, view as client."""
import reflex as rx

from app.components.layout import template
from app.components.ui import empty_state, page_header, rows_or_empty, table_card
from services.access.permissions import Cap
from state.clients import ClientsState as S


def _field(label: str, name: str, placeholder: str = "", required: bool = False, **props) -> rx.Component:
    return rx.vstack(rx.text(label, size="2", weight="medium"),
                     rx.input(name=name, placeholder=placeholder, required=required, width="100%", **props),
                     spacing="1", width="100%")


def _add_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.trigger(rx.button(rx.icon("plus", size=16), "Add New Client", id="add-client")),
        rx.dialog.content(
            rx.dialog.title("Add New Client"),
            rx.dialog.description("Creates the client organization and invites its first admin by mail.",
                                  size="2", color_scheme="gray", margin_bottom="12px"),
            rx.form(
                rx.vstack(
                    rx.hstack(_field("Name", "name", "Fleetline GmbH", True),
                              _field("Short name (slug)", "slug", "fleetline", True), width="100%"),
                    rx.hstack(_field("Legal name", "legal_name", "Fleetline GmbH"),
                              _field("Tax number", "tax_number", "DE123456789"), width="100%"),
                    _field("Address", "address", "Street, city, country"),
                    rx.hstack(_field("Registration number", "registration_number"),
                              _field("Billing e-mail", "billing_email", "billing@fleetline.example"), width="100%"),
                    rx.hstack(_field("Currency", "currency", "EUR", True, max_length=3),
                              _field("Timezone", "timezone", "Europe/Berlin", True), width="100%"),
                    rx.vstack(rx.text("Data-center region", size="2", weight="medium"),
                              rx.select(S.regions, value=S.region, on_change=S.set_region, id="client-region"),
                              spacing="1"),
                    rx.hstack(_field("First admin's e-mail", "admin_email", "admin@fleetline.example", True,
                                     type="email"),
                              _field("First admin's name", "admin_name", "Anna Weber"), width="100%"),
                    rx.cond(S.form_error != "", rx.callout(S.form_error, icon="triangle-alert", color_scheme="red",
                                                           size="1", width="100%", id="client-form-error")),
                    rx.hstack(
                        rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
                        rx.button("Add client and invite admin", type="submit", loading=S.saving,
                                  id="client-form-submit"),
                        justify="end", width="100%", spacing="3"),
                    spacing="3", width="100%",
                ),
                on_submit=S.create, reset_on_submit=False,
            ),
            max_width="620px",
        ),
        open=S.dialog_open, on_open_change=S.set_dialog_open,
    )


def _row(c) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.vstack(rx.link(c["name"], href="/clients/" + c["id"], weight="medium",
                                        class_name="client-link"),
                                rx.text(c["slug"], size="1", color_scheme="gray"), spacing="0")),
        rx.table.cell(rx.badge(c["region"], variant="soft", color_scheme="indigo")),
        rx.table.cell(c["chargers"]),
        rx.table.cell(c["users"]),
        rx.table.cell(c["api_calls"]),
        rx.table.cell(c["keys"]),
        rx.table.cell(rx.hstack(rx.badge(c["online"], " up", color_scheme="green", variant="soft"),
                                rx.badge(c["faulted"], " faulted", color_scheme="red", variant="soft"),
                                rx.badge(c["offline"], " offline", color_scheme="gray", variant="soft"),
                                spacing="1")),
        rx.table.cell(c["sessions"]),
        rx.table.cell(c["energy"]),
        rx.table.cell(rx.button(rx.icon("eye", size=14), "View as client", size="1", variant="soft",
                                on_click=S.view_as_client(c["id"]), class_name="view-as-client")),
        align="center", class_name="client-row",
    )


@template(route="/clients", title="Clients", cap=Cap.MANAGE_CLIENTS, on_load=S.load)
def clients() -> rx.Component:
    return rx.vstack(
        page_header("Clients", "Each client's chargers, users and API use against its limits, and the numbers "
                    "its own dashboard shows this month.", _add_dialog()),
        table_card(rows_or_empty(
            S, empty_state("briefcase-business", "No clients yet", "Add a client to give it its own dashboard."),
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                    "Client", "Region", "Chargers (limit)", "Users (limit)", "API calls this minute", "Keys",
                    "Status", "Sessions", "Energy", "")])),
                rx.table.body(rx.foreach(S.rows, _row)),
                variant="ghost", size="2", width="100%", id="clients-table"),
        )),
        spacing="4", width="100%",
    )
