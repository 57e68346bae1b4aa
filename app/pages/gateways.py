"""Gateway configuration: each organization's gateways with routing order, methods and rate limit; credentials
are written once and shown again only as their last four characters; a test-connection button."""
import reflex as rx

from app.components.layout import template
from app.components.ui import page_header, table_card
from services.access.permissions import Cap
from state.payments import GatewaysState as S


def _row(g) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(g["gateway"], weight="medium")), rx.table.cell(g["organization"]),
        rx.table.cell(rx.hstack(
            rx.badge(g["enabled"], color_scheme=rx.cond(g["enabled"] == "Enabled", "green", "gray"),
                     class_name="gateway-state"),
            rx.cond(S.can_manage, rx.button(rx.cond(g["enabled"] == "Enabled", "Disable", "Enable"), size="1",
                                            variant="ghost", on_click=S.toggle(g["id"]),
                                            class_name="gateway-toggle")),
            align="center")),
        rx.table.cell(g["priority"]), rx.table.cell(g["methods"]),
        rx.table.cell(g["rate"]), rx.table.cell(rx.code(g["url"], size="1")), rx.table.cell(g["merchant"]),
        rx.table.cell(rx.code(g["secret"])),
        rx.table.cell(rx.cond(S.can_manage, rx.button("Test connection", size="1", variant="soft",
                                                      on_click=S.test(g["id"]), class_name="gateway-test"))),
        class_name="gateway-row")


def _field(name: str, placeholder: str, **props) -> rx.Component:
    return rx.input(placeholder=placeholder, value=S.form.get(name, ""), on_change=lambda v: S.set_form(name, v),
                    id=f"gw-{name}", **props)


def _form() -> rx.Component:
    return rx.card(rx.vstack(
        rx.heading("Add or change a gateway", size="3"),
        rx.text("Saving a gateway that exists changes it; leave the secrets empty to keep them.", size="1",
                color_scheme="gray"),
        rx.grid(
            rx.select.root(rx.select.trigger(placeholder="Organization", id="gw-organization"), rx.select.content(
                rx.foreach(S.org_choices, lambda o: rx.select.item(o["name"], value=o["id"]))),
                value=S.form.get("organization_id", ""), on_change=lambda v: S.set_form("organization_id", v)),
            rx.select(["cybersource", "amex", "dialog"], value=S.form.get("gateway", "cybersource"),
                      on_change=lambda v: S.set_form("gateway", v), id="gw-gateway"),
            _field("base_url", "https://api.cybersource.com"), _field("merchant_id", "Merchant id"),
            _field("key_id", "Key id (CyberSource)"), _field("secret", "Secret / API password", type="password"),
            _field("webhook_secret", "Webhook key / notification secret", type="password"),
            _field("methods", "Methods: visa, mastercard, amex, fuel_card"),
            _field("priority", "Routing order (1 first)"),
            _field("rate_limit_per_second", "Calls per second"),
            columns="2", gap="10px", width="100%"),
        rx.cond(S.error != "", rx.text(S.error, color_scheme="red", size="1", id="gw-error")),
        rx.button("Save gateway", on_click=S.save, id="gw-save"), spacing="3", width="100%"), width="100%")


@template(route="/gateways", title="Gateways", cap=Cap.VIEW_PAYMENTS, on_load=S.load)
def gateways() -> rx.Component:
    return rx.vstack(
        page_header("Payment gateways", "Where card payments go, in routing order, and how fast they may be called."),
        table_card(rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                "Gateway", "Organization", "State", "Order", "Methods", "Rate limit", "URL", "Merchant", "Secret",
                "")])),
            rx.table.body(rx.foreach(S.rows, _row)), variant="ghost", width="100%", id="gateways-table")),
        rx.cond(S.test_result != "", rx.callout(S.test_result, icon="plug", id="gw-test-result")),
        rx.cond(S.can_manage, _form()), spacing="4", width="100%")
