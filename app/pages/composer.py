"""Compose a message to app users: recipients, text, preview with the recipient count, send or schedule."""
import reflex as rx

from app.components.layout import template
from app.components.ui import page_header
from services.access.permissions import Cap
from state.notifications import ComposerState as S

MODES = [("users", "Specific users (emails)"), ("organization", "An organization's customers"),
         ("site", "Customers of a charger site"), ("recent", "Customers who charged in the last N days"),
         ("everyone", "Everyone in my scope")]


def _field(label: str, control: rx.Component) -> rx.Component:
    return rx.vstack(rx.text(label, size="2", weight="medium"), control, spacing="1", width="100%")


def _audience() -> rx.Component:
    return rx.vstack(
        _field("Recipients", rx.select.root(
            rx.select.trigger(id="mode", width="100%"),
            rx.select.content(*[rx.select.item(label, value=v) for v, label in MODES]),
            value=S.mode, on_change=lambda v: S.set_value("mode", v))),
        rx.match(
            S.mode,
            ("users", _field("Emails (comma or one per line)", rx.text_area(
                value=S.emails, on_change=lambda v: S.set_value("emails", v), id="emails", rows="3", width="100%"))),
            ("organization", _field("Organization id", rx.input(
                value=S.organization_id, on_change=lambda v: S.set_value("organization_id", v), id="org-id",
                width="100%"))),
            ("site", _field("A charger id of the site", rx.input(
                value=S.charger_id, on_change=lambda v: S.set_value("charger_id", v), id="charger-id", width="100%"))),
            ("recent", _field("Days", rx.input(value=S.days, on_change=lambda v: S.set_value("days", v),
                                                id="days", type="number"))),
            rx.text("Every app user of the organizations you can see.", size="2", color_scheme="gray"),
        ),
        width="100%", spacing="3",
    )


def _preview() -> rx.Component:
    return rx.cond(S.previewed, rx.card(
        rx.vstack(
            rx.text("Preview", size="1", weight="bold", color_scheme="gray"),
            rx.hstack(rx.icon("smartphone", size=16), rx.text(S.preview_title, weight="bold", id="preview-title"),
                      align="center", spacing="2"),
            rx.text(S.preview_body, size="2", id="preview-body"),
            rx.separator(),
            rx.text(rx.text.strong(S.recipients, id="recipient-count"), " app users, ", S.devices, " devices",
                    size="2", id="recipients-line"),
            rx.cond(S.needs_confirmation, rx.checkbox(
                "This is a large broadcast: I confirm sending it to all of them.", checked=S.confirm,
                on_change=S.set_confirm, id="confirm")),
            rx.button(rx.icon("send", size=16), rx.cond(S.send_at != "", "Schedule", "Send"),
                      on_click=S.send, id="send"),
            spacing="2", width="100%",
        ), width="100%", max_width="520px", id="preview"))


@template(route="/notifications/compose", title="Compose message", cap=Cap.SEND_CUSTOMER_MESSAGES, on_load=S.load)
def composer() -> rx.Component:
    return rx.vstack(
        page_header("Compose message", "A push message to app users. Preview it to see who receives it."),
        rx.flex(
            rx.vstack(
                _audience(),
                _field("Title", rx.input(value=S.title, on_change=lambda v: S.set_value("title", v), id="title",
                                         placeholder="Message", max_length=200, width="100%")),
                _field("Message", rx.text_area(value=S.body, on_change=lambda v: S.set_value("body", v),
                                               id="body", rows="5", max_length=1000, width="100%")),
                _field("Send at (UTC, optional)", rx.input(
                    type="datetime-local", value=S.send_at, on_change=lambda v: S.set_value("send_at", v),
                    id="send-at")),
                rx.cond(S.error != "", rx.callout(S.error, icon="triangle-alert", color_scheme="red",
                                                  id="composer-error")),
                rx.cond(S.sent_message != "", rx.callout(S.sent_message, icon="check", color_scheme="green",
                                                         id="composer-sent")),
                rx.button("Preview", variant="soft", on_click=S.preview, id="preview-button"),
                spacing="3", width="100%", max_width="520px", flex="1 1 420px",  # no shrinking to its content
            ),
            _preview(),
            gap="32px", width="100%", wrap="wrap", align="start",
        ),
        spacing="4", width="100%",
    )
