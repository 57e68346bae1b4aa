"""Account: who am I, and changing my password."""
import reflex as rx

from app.components.layout import template
from app.components.ui import page_header
from state.auth import AccountState
from state.base import AppState


def _row(label: str, value) -> rx.Component:
    return rx.data_list.item(rx.data_list.label(label), rx.data_list.value(value))


def _password(label: str, name: str, complete: str) -> rx.Component:
    return rx.vstack(
        rx.text(label, as_="label", html_for=name, size="2", weight="medium"),
        rx.input(id=name, name=name, type="password", auto_complete=complete, width="100%"),
        spacing="1", width="100%",
    )


@template(route="/account", title="Account")
def account() -> rx.Component:
    return rx.vstack(
        page_header("Account", "Your profile and password."),
        rx.cond(AppState.must_change_password,
                rx.callout("An administrator set a temporary password for you. Choose your own password to "
                           "continue.", icon="key-round", color_scheme="orange", width="100%",
                           id="must-change-password")),
        rx.grid(
            rx.card(
                rx.heading("Profile", size="4", margin_bottom="16px"),
                rx.data_list.root(
                    _row("Name", AppState.user_name),
                    _row("Email", AppState.user_email),
                    _row("Role", rx.badge(AppState.role_label, variant="soft")),
                ),
                size="3",
            ),
            rx.card(
                rx.heading("Change password", size="4", margin_bottom="4px"),
                rx.text("Changing it logs you out everywhere else.", size="2", color_scheme="gray"),
                rx.form(
                    rx.vstack(
                        _password("Current password", "current", "current-password"),
                        _password("New password", "new", "new-password"),
                        _password("Repeat the new password", "confirm", "new-password"),
                        rx.text("At least 8 characters, at most 72 bytes.", size="1", color_scheme="gray"),
                        rx.cond(AccountState.error != "",
                                rx.callout(AccountState.error, icon="triangle-alert", color_scheme="red",
                                           size="1", width="100%", role="alert")),
                        rx.button("Change password", type="submit", loading=AccountState.saving),
                        spacing="3", width="100%", margin_top="16px",
                    ),
                    on_submit=AccountState.change_password,
                    reset_on_submit=True,
                ),
                size="3",
            ),
            columns=rx.breakpoints(initial="1", md="2"), spacing="5", width="100%", align="start",
        ),
        width="100%",
    )
