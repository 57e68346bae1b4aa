"""Roles: a client's custom roles (capabilities chosen from the permission table) and who holds them."""
import reflex as rx

from app.components.layout import template
from app.components.ui import page_header, table_card
from services.access.permissions import Cap
from state.roles import RolesState as S


def _dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(S.editing_id == "", "New role", "Edit role")),
            rx.dialog.description("A role holds only capabilities you hold yourself; the operator's own stay "
                                  "with the operator.", size="2", color_scheme="gray", margin_bottom="12px"),
            rx.vstack(
                rx.text("Name", size="2", weight="medium"),
                rx.input(value=S.form_name, on_change=S.set_form_name, placeholder="Dispatcher", id="role-name",
                         width="100%"),
                rx.text("Capabilities (from the permission table)", size="2", weight="medium"),
                rx.grid(rx.foreach(S.choices, lambda c: rx.checkbox(
                    c, checked=S.form_caps.contains(c), on_change=lambda on: S.toggle_cap(c, on), size="1",
                    class_name="role-cap", data_cap=c)), columns="2", spacing="1", width="100%"),
                rx.cond(S.form_error != "", rx.callout(S.form_error, icon="triangle-alert", color_scheme="red",
                                                       size="1", width="100%", id="role-form-error")),
                rx.hstack(rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray")),
                          rx.button("Save role", on_click=S.save, id="role-form-submit"), justify="end",
                          width="100%"),
                spacing="2", width="100%"),
            max_width="620px"),
        open=S.dialog_open, on_open_change=S.set_dialog_open)


def _roles() -> rx.Component:
    return table_card(rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                       ("Role", "Capabilities", "Users", "")])),
        rx.table.body(rx.foreach(S.roles, lambda r: rx.table.row(
            rx.table.cell(rx.text(r["name"], weight="medium", white_space="nowrap")),
            rx.table.cell(rx.text(r["caps"], size="1")),
            rx.table.cell(r["users"]),
            rx.table.cell(rx.hstack(
                rx.button("Edit", size="1", variant="soft", on_click=S.open_edit(r["id"]), class_name="edit-role"),
                rx.button("Delete", size="1", variant="soft", color_scheme="red", on_click=S.delete(r["id"]),
                          class_name="delete-role"), spacing="2")),
            align="center", class_name="role-row"))),
        variant="ghost", size="2", width="100%", id="roles-table"))


def _users() -> rx.Component:
    def row(u) -> rx.Component:
        return rx.table.row(
            rx.table.cell(rx.vstack(rx.text(u["email"], weight="medium"), rx.text(u["name"], size="1",
                                                                                 color_scheme="gray"), spacing="0")),
            rx.table.cell(rx.cond(u["custom"] == "yes", rx.select.root(
                rx.select.trigger(placeholder=u["role"], class_name="user-role"),
                rx.select.content(rx.foreach(S.roles, lambda r: rx.select.item(r["name"], value=r["id"]))),
                value=u["role_id"], on_change=lambda v: S.give_role(u["id"], v)), rx.text(u["role"]))),
            align="center", class_name="role-user-row", data_email=u["email"])

    return table_card(rx.table.root(
        rx.table.header(rx.table.row(rx.table.column_header_cell("User"), rx.table.column_header_cell("Role"))),
        rx.table.body(rx.foreach(S.users, row)),
        variant="ghost", size="2", width="100%", id="role-users-table"))


@template(route="/roles", title="Roles", cap=Cap.MANAGE_ROLES, on_load=S.load)
def roles() -> rx.Component:
    return rx.vstack(
        page_header("Roles", "A client's own roles: a name and the capabilities it allows, never more than you "
                    "hold. Give them to the client's users below.",
                    rx.button(rx.icon("plus", size=16), "New role", on_click=S.open_new, id="new-role",
                              disabled=S.client_id == "")),
        rx.cond(S.clients.length() > 1, rx.hstack(
            rx.text("Client", size="2", weight="medium"),
            rx.select.root(rx.select.trigger(id="roles-client"), rx.select.content(
                rx.foreach(S.clients, lambda c: rx.select.item(c["name"], value=c["id"]))),
                value=S.client_id, on_change=S.set_client), align="center")),
        rx.cond(S.clients.length() == 0,
                rx.text("No client organizations in your reach.", color_scheme="gray"),
                rx.vstack(rx.heading("Custom roles", size="4"), _roles(),
                          rx.heading("Users of this client", size="4"), _users(), spacing="3", width="100%")),
        _dialog(),
        spacing="4", width="100%",
    )
