"""Users: who can log in, with which role and organizations; invite, create, disable and enable them."""
import reflex as rx

from app.components.layout import template
from app.components.ui import (
    empty_state,
    page_header,
    pager,
    rows_or_empty,
    search_input,
    table_card,
    user_status_badge,
)
from services.access.permissions import Cap
from state.users import NONE
from state.users import UsersState as S


def _label(text: str, html_for: str) -> rx.Component:
    return rx.text(text, as_="label", html_for=html_for, size="2", weight="medium")


def _choice(label: str, key: str, value, on_change, options, none_label: str | None = None) -> rx.Component:
    return rx.vstack(
        _label(label, key),
        rx.select.root(
            rx.select.trigger(width="100%", id=key),
            rx.select.content(
                rx.select.item(none_label, value=NONE) if none_label else rx.fragment(),
                rx.foreach(options, lambda o: rx.select.item(o["label"], value=o["value"])),
            ),
            value=value, on_change=on_change,
        ),
        spacing="1", width="100%",
    )


def _text_field(label: str, name: str, **props) -> rx.Component:
    return rx.vstack(_label(label, name), rx.input(id=name, name=name, width="100%", **props),
                     spacing="1", width="100%")


def _create_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(S.inviting, "Invite user", "New user")),
            rx.dialog.description(
                rx.cond(S.inviting,
                        "We e-mail an activation link, valid for 24 hours. The person sets a name and password.",
                        "The user logs in with this email and the initial password."),
                size="2", color_scheme="gray", margin_bottom="16px"),
            rx.form(
                rx.vstack(
                    _text_field("Full name", "full_name", placeholder="Jane Doe"),
                    _text_field("Email", "email", type="email", placeholder="jane@company.com"),
                    rx.cond(~S.inviting, _text_field("Initial password", "password", type="password",
                                                     auto_complete="new-password")),
                    _choice("Role", "role", S.new_role, S.set_new_role, S.role_options),
                    rx.cond(
                        S.needs_owner,
                        _choice("Location owner", "owner", S.new_owner, S.set_new_owner, S.owner_choices,
                                "Choose a location owner"),
                        _choice("Organization", "organization", S.new_org, S.set_new_org, S.org_choices,
                                "No organization"),
                    ),
                    rx.cond(S.form_error != "",
                            rx.callout(S.form_error, icon="triangle-alert", color_scheme="red", size="1",
                                       width="100%", role="alert", id="user-form-error")),
                    rx.hstack(
                        rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
                        rx.button(rx.cond(S.inviting, "Send invitation", "Create user"), type="submit",
                                  loading=S.saving, id="user-form-submit"),
                        justify="end", width="100%", spacing="3", margin_top="8px",
                    ),
                    spacing="3", width="100%",
                ),
                on_submit=S.create,
                reset_on_submit=False,
                no_validate=True,  # the server's message, not the browser's bubble
            ),
            max_width="460px",
        ),
        open=S.dialog_open,
        on_open_change=S.set_dialog_open,
    )


def _reset_dialog() -> rx.Component:
    return rx.dialog.root(rx.dialog.content(
        rx.dialog.title("Reset the password of ", S.reset_user["email"]),
        rx.dialog.description("Every session of the user ends at once.", size="2", color_scheme="gray",
                              margin_bottom="12px"),
        rx.form(rx.vstack(
            rx.radio_group.root(
                rx.vstack(rx.radio_group.item("Mail a reset link", value="link"),
                          rx.radio_group.item("Set a temporary password, to change at the next login",
                                              value="temporary"), spacing="2"),
                value=S.reset_method, on_change=S.set_reset_method, id="reset-method", name="method"),
            rx.cond(S.reset_method == "temporary",
                    _text_field("Temporary password", "temporary_password", type="password",
                                auto_complete="new-password")),
            rx.cond(S.reset_error != "", rx.callout(S.reset_error, icon="triangle-alert", color_scheme="red",
                                                    size="1", width="100%", role="alert", id="reset-error")),
            rx.hstack(rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
                      rx.button("Reset password", type="submit", color_scheme="orange", id="reset-submit"),
                      justify="end", width="100%", spacing="3"),
            spacing="3", width="100%"),
            on_submit=S.reset_password, reset_on_submit=True, no_validate=True),
        max_width="460px"), open=S.reset_open, on_open_change=S.set_reset_open)


def _actions(u) -> rx.Component:
    return rx.cond(
        u["manageable"] != "",
        rx.hstack(
            rx.cond(u["status"] == "active",
                    rx.button(rx.icon("key-round", size=14), "Reset password", size="1", variant="soft",
                              color_scheme="orange", on_click=S.open_reset(u["id"]), class_name="reset-password")),
            rx.cond(u["status"] == "invited",
                    rx.button(rx.icon("send", size=14), "Resend invitation", size="1", variant="soft",
                              on_click=S.resend_invitation(u["id"]), class_name="resend-invitation")),
            rx.cond(
                u["status"] == "disabled",
                rx.button("Enable", size="1", variant="soft", color_scheme="green",
                          on_click=S.set_user_status(u["id"], "active")),
                rx.button("Disable", size="1", variant="soft", color_scheme="red",
                          on_click=S.set_user_status(u["id"], "disabled")),
            ),
            spacing="2", justify="end",
        ),
    )


def _status(u) -> rx.Component:
    return rx.vstack(
        user_status_badge(u["status"]),
        rx.cond(u["invite_note"] != "",
                rx.text(u["invite_note"], size="1", color_scheme=rx.cond(u["invite_expired"] != "", "red", "gray"),
                        class_name="invite-note")),
        spacing="1",
    )


def _row(u) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.vstack(rx.text(u["name"], weight="medium"),
                                rx.text(u["email"], size="1", color_scheme="gray"), spacing="0")),
        rx.table.cell(rx.badge(u["role"], variant="soft", color_scheme="indigo")),
        rx.table.cell(rx.text(u["organizations"], size="2")),
        rx.table.cell(_status(u)),
        rx.table.cell(_actions(u)),
        align="center", class_name="user-row",
    )


@template(route="/users", title="Users", cap=Cap.VIEW_USERS, on_load=S.load)
def users() -> rx.Component:
    return rx.vstack(
        page_header(
            "Users", "People who can log in, their roles and organizations.",
            rx.cond(S.can_manage, rx.hstack(
                rx.button(rx.icon("user-plus", size=16), "New user", variant="soft", on_click=S.open_create,
                          id="new-user"),
                rx.button(rx.icon("mail-plus", size=16), "Invite user", on_click=S.open_invite, id="invite-user"),
                spacing="2")),
        ),
        search_input("Search name or email", S.set_filter("search")),
        table_card(
            rows_or_empty(
                S,
                empty_state("users", "No users found", "Nobody matches your search."),
                rx.table.root(
                    rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                        "User", "Role", "Organizations", "Status", "")])),
                    rx.table.body(rx.foreach(S.rows, _row)),
                    variant="ghost", size="2", width="100%", id="users-table",
                ),
            ),
        ),
        pager(S.page, S.page_count, S.go_page, rx.text(S.total, " users")),
        _create_dialog(),
        _reset_dialog(),
        spacing="4", width="100%",
    )
