"""Account: who am I, my password, my settings (name, time zone, date format, notification switches and quiet
hours, Web Push in this browser) and e-mail."""
import reflex as rx

from app.components.layout import template
from app.components.ui import page_header
from services.access.settings import DATE_FORMAT_LABELS
from services.notifications.preferences import STAFF_KINDS
from state.auth import AccountState
from state.base import AppState
from state.settings import SettingsState


def _row(label: str, value) -> rx.Component:
    return rx.data_list.item(rx.data_list.label(label), rx.data_list.value(value))


def _password(label: str, name: str, complete: str) -> rx.Component:
    return rx.vstack(
        rx.text(label, as_="label", html_for=name, size="2", weight="medium"),
        rx.input(id=name, name=name, type="password", auto_complete=complete, width="100%"),
        spacing="1", width="100%",
    )


def _input(label: str, name: str, value=None, **props) -> rx.Component:
    extra = {"default_value": value} if value is not None else {}
    return rx.vstack(rx.text(label, as_="label", html_for=name, size="2", weight="medium"),
                     rx.input(id=name, name=name, width="100%", **extra, **props), spacing="1", width="100%")


def _settings() -> rx.Component:
    return rx.card(
        rx.heading("Settings", size="4", margin_bottom="12px"),
        rx.form(rx.vstack(
            _input("Name", "full_name", SettingsState.full_name, key=SettingsState.full_name),
            _input("Time zone", "timezone", SettingsState.timezone, key=SettingsState.timezone,
                   placeholder="Europe/Berlin; empty: UTC in lists of several organizations"),
            rx.text("Lists that span several organizations show every time in this zone.", size="1",
                    color_scheme="gray"),
            rx.text("Date format", size="2", weight="medium"),
            rx.radio_group.root(rx.hstack(*[rx.radio_group.item(label, value=key)
                                           for key, label in DATE_FORMAT_LABELS.items()], spacing="4"),
                                value=SettingsState.date_format, on_change=SettingsState.set_date_format,
                                name="date_format", id="date-format"),
            rx.text("Notifications", size="2", weight="medium"),
            rx.text("Switched off: no mail or push for that kind (the bell still lists it).", size="1",
                    color_scheme="gray"),
            *[rx.hstack(rx.switch(checked=SettingsState.notifications[kind],
                                  on_change=lambda v, kind=kind: SettingsState.switch(kind, v),
                                  name=f"notify_{kind}", id=f"notify-{kind}"),
                        rx.text(label, size="2"), spacing="2", align="center")
              for kind, label in STAFF_KINDS.items()],
            rx.text("Quiet hours", size="2", weight="medium"),
            rx.hstack(
                rx.input(id="quiet_start", name="quiet_start", type="time", default_value=SettingsState.quiet_start,
                         key=SettingsState.quiet_start + "s", aria_label="Quiet hours start"),
                rx.text("to", size="2"),
                rx.input(id="quiet_end", name="quiet_end", type="time", default_value=SettingsState.quiet_end,
                         key=SettingsState.quiet_end + "e", aria_label="Quiet hours end"),
                spacing="2", align="center"),
            rx.text("Mail and push wait until the quiet hours end (your time zone). Critical alerts never wait.",
                    size="1", color_scheme="gray"),
            rx.cond(SettingsState.error != "", rx.callout(SettingsState.error, icon="triangle-alert",
                                                          color_scheme="red", size="1", width="100%",
                                                          role="alert", id="settings-error")),
            rx.button("Save settings", type="submit", id="save-settings"),
            spacing="3", width="100%"),
            on_submit=SettingsState.save, reset_on_submit=False, no_validate=True),
        size="3", id="settings-card")


def _web_push() -> rx.Component:
    return rx.card(
        rx.heading("Alerts in this browser", size="4", margin_bottom="4px"),
        rx.text("Alert rules with the Web Push channel reach the browsers you turn on here, even with Voltdesk "
                "closed.", size="2", color_scheme="gray"),
        rx.script(src="/push-subscribe.js"),
        rx.vstack(
            rx.text(rx.cond(SettingsState.push_devices == 1, "1 browser receives your alerts.",
                            SettingsState.push_devices.to_string() + " browsers receive your alerts."),
                    size="2", id="push-devices"),
            rx.button("Turn on Web Push here", on_click=SettingsState.subscribe_browser, id="subscribe-push",
                      variant="soft", disabled=SettingsState.push_key == ""),
            rx.cond(SettingsState.push_key == "",
                    rx.text("Web Push is not configured on this server (VAPID_PRIVATE_KEY).", size="1",
                            color_scheme="gray")),
            rx.cond(SettingsState.push_notice != "", rx.text(SettingsState.push_notice, size="2", id="push-notice")),
            spacing="3", width="100%", margin_top="12px"),
        size="3")


def _email_change() -> rx.Component:
    return rx.card(
        rx.heading("Change e-mail", size="4", margin_bottom="4px"),
        rx.text("We send a link to the new address; your login changes once you open it.", size="2",
                color_scheme="gray"),
        rx.form(rx.vstack(
            _input("New e-mail", "new_email", auto_complete="email"),
            _password("Your password", "email_password", "current-password"),
            rx.cond(SettingsState.email_error != "",
                    rx.callout(SettingsState.email_error, icon="triangle-alert", color_scheme="red", size="1",
                               width="100%", role="alert", id="email-error")),
            rx.cond(SettingsState.email_notice != "",
                    rx.callout(SettingsState.email_notice, icon="mail-check", color_scheme="green", size="1",
                               width="100%", id="email-notice")),
            rx.button("Send verification link", type="submit", id="change-email"),
            spacing="3", width="100%", margin_top="16px"),
            on_submit=SettingsState.change_email, reset_on_submit=True, no_validate=True),
        size="3")


@template(route="/account", title="Account", on_load=SettingsState.load)
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
            _settings(),
            _web_push(),
            _email_change(),
            columns=rx.breakpoints(initial="1", md="2"), spacing="5", width="100%", align="start",
        ),
        width="100%",
    )
