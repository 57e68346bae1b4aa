"""Location owners: a CPO's owners with contact details, chargers, users and commission contract;
create one and invite its users by mail."""
import reflex as rx

from app.components.layout import template
from app.components.ui import empty_state, page_header, table_card
from services.access.permissions import Cap
from state.base import AppState
from state.location_owners import LocationOwnersState as S


def _field(label: str, name: str, **props) -> rx.Component:
    return rx.vstack(rx.text(label, as_="label", html_for=name, size="2", weight="medium"),
                     rx.input(id=name, name=name, width="100%", **props), spacing="1", width="100%")


def _error() -> rx.Component:
    return rx.cond(S.error != "", rx.callout(S.error, icon="triangle-alert", color_scheme="red", size="1",
                                             width="100%", role="alert", id="owner-form-error"))


def _buttons(label: str, submit_id: str) -> rx.Component:
    return rx.hstack(rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
                     rx.button(label, type="submit", id=submit_id), justify="end", width="100%", spacing="3")


def _create_dialog() -> rx.Component:
    org_select = rx.cond(AppState.org_options.length() > 1, rx.vstack(
        rx.text("Organization", size="2", weight="medium"),
        rx.el.select(rx.foreach(AppState.org_options, lambda o: rx.el.option(o["name"], value=o["id"])),
                     name="organization_id", id="organization_id", class_name="rt-reset",
                     style={"width": "100%", "padding": "6px", "border_radius": "6px"}),
        spacing="1", width="100%"))
    return rx.dialog.root(rx.dialog.content(
        rx.dialog.title("New location owner"),
        rx.dialog.description("A business hosting your chargers; it earns commission on their sessions.",
                              size="2", color_scheme="gray", margin_bottom="12px"),
        rx.form(rx.vstack(
            org_select,
            _field("Name", "name", placeholder="Galle Face Hotel"),
            _field("Contact person", "contact_name"),
            _field("Email", "email", placeholder="ops@example.com"),
            _field("Phone", "phone"),
            _field("Address", "address"),
            _error(), _buttons("Create", "create-owner-submit"), spacing="3", width="100%"),
            on_submit=S.create, reset_on_submit=False, no_validate=True),
        max_width="460px"), open=S.create_open, on_open_change=S.set_create_open)


def _invite_dialog() -> rx.Component:
    return rx.dialog.root(rx.dialog.content(
        rx.dialog.title("Invite a user of ", S.invite_owner["name"]),
        rx.dialog.description("We e-mail an activation link, valid for 24 hours. The user sees this owner's "
                              "chargers, sessions and commission statements.", size="2", color_scheme="gray",
                              margin_bottom="12px"),
        rx.form(rx.vstack(_field("Full name", "full_name"), _field("Email", "email"),
                          _error(), _buttons("Send invitation", "invite-owner-submit"), spacing="3", width="100%"),
                on_submit=S.invite, reset_on_submit=False, no_validate=True),
        max_width="460px"), open=S.invite_open, on_open_change=S.set_invite_open)


def _row(o) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.vstack(rx.text(o["name"], weight="medium"),
                                rx.text(o["organization"], size="1", color_scheme="gray"), spacing="0")),
        rx.table.cell(rx.vstack(rx.text(o["contact"], size="2", class_name="free-text"),
                                rx.text(o["address"], size="1", color_scheme="gray", class_name="free-text"),
                                spacing="0"), max_width="280px"),
        rx.table.cell(o["chargers"]),
        rx.table.cell(o["users"]),
        rx.table.cell(rx.text(o["contract"], size="2", class_name="owner-contract")),
        rx.table.cell(rx.cond(S.can_manage, rx.button(rx.icon("send", size=14), "Invite user", size="1",
                                                      variant="soft", on_click=S.open_invite(o["id"]),
                                                      class_name="invite-owner-user"))),
        align="center", class_name="owner-row",
    )


@template(route="/location-owners", title="Location owners", cap=Cap.VIEW_CHARGERS, on_load=S.load)
def location_owners() -> rx.Component:
    return rx.vstack(
        page_header("Location owners", "Businesses hosting your chargers, their contacts and commission contracts.",
                    rx.cond(S.can_manage, rx.button(rx.icon("plus", size=16), "New location owner",
                                                    on_click=S.open_create, id="new-owner"))),
        table_card(rx.cond(
            S.rows.length() == 0,
            empty_state("store", "No location owners yet", "Create one, then assign it chargers."),
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                    "Location owner", "Contact", "Chargers", "Users", "Commission contract", "")])),
                rx.table.body(rx.foreach(S.rows, _row)),
                variant="ghost", size="2", width="100%", id="owners-table"),
        )),
        _create_dialog(), _invite_dialog(),
        spacing="4", width="100%",
    )
