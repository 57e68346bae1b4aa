"""Billing plans: the plan catalogue customers choose from when they activate a card or a charger."""
import reflex as rx

from app.components.layout import template
from app.components.ui import empty_state, page_header, rows_or_empty, table_card
from app.pages.accounts import form_error, text_field
from services.access.permissions import Cap
from state.plans import ELIGIBLE, NO_FEE
from state.plans import PlansState as S


def _label(text: str, html_for: str = "") -> rx.Component:
    return rx.text(text, as_="label", html_for=html_for, size="2", weight="medium")


def _radios(name: str, default, options: list[tuple[str, str]]) -> rx.Component:
    return rx.radio_group.root(
        rx.hstack(*[rx.radio_group.item(text, value=v, id=f"{name}-{v}") for v, text in options], spacing="4"),
        name=name, default_value=default)


def _form() -> rx.Component:
    e = S.editing
    return rx.form(
        rx.vstack(
            rx.cond(~e.contains("id") & (S.org_choices.length() > 1), rx.vstack(
                _label("Organization", "plan-organization"),
                rx.select.root(rx.select.trigger(width="100%", id="plan-organization"), rx.select.content(
                    rx.foreach(S.org_choices, lambda o: rx.select.item(o["label"], value=o["value"]))),
                    value=S.new_org, on_change=S.set_new_org),
                spacing="1", width="100%")),
            text_field("Plan name", "name", placeholder="Home charger", default_value=e["name"], max_length=100),
            rx.hstack(
                text_field("Price", "price", placeholder="4.90", input_mode="decimal", default_value=e["price_value"]),
                rx.vstack(_label("Per"), _radios("interval", rx.cond(e.contains("id"), e["interval"], "month"),
                                                 [("month", "Month"), ("year", "Year")]),
                          spacing="2", width="100%"),
                spacing="4", width="100%", align="end"),
            rx.vstack(_label("Fee per session (optional)"),
                      _radios("fee_kind", rx.cond(e.contains("id"), e["fee_kind"], NO_FEE),
                              [(NO_FEE, "No fee"), ("fixed", "Fixed amount"), ("percent", "Percent of the session")]),
                      rx.input(id="session_fee", name="session_fee", width="100%", input_mode="decimal",
                               placeholder="0.25 or 2 (%)", default_value=e["fee_value"]),
                      spacing="2", width="100%"),
            rx.vstack(_label("Who may take it"),
                      rx.hstack(*[rx.text(rx.checkbox(name=key, id=key, default_checked=rx.cond(
                          e.contains("id"), e[key] == "yes", True)), " ", label, as_="label", size="2",
                          html_for=key) for key, label in ELIGIBLE], spacing="4"),
                      spacing="2", width="100%"),
            rx.text("Customers pick a plan when they activate a card or a charger. A changed price applies to the "
                    "assets on the plan from their next renewal.", size="1", color_scheme="gray"),
            form_error(S.form_error),
            rx.hstack(
                rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
                rx.button(rx.cond(e.contains("id"), "Save plan", "Add plan"), type="submit", loading=S.saving,
                          id="save-plan"),
                justify="end", width="100%", spacing="3", margin_top="8px"),
            spacing="4", width="100%"),
        on_submit=S.save, reset_on_submit=False, key=S.form_key)


def _dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(rx.dialog.title(rx.cond(S.editing.contains("id"), "Edit plan", "New billing plan")),
                          _form(), max_width="520px"),
        open=S.dialog_open, on_open_change=S.set_dialog_open)


def _row(p) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(p["name"], weight="medium")),
        rx.table.cell(rx.text(p["organization"], size="2")),
        rx.table.cell(rx.text(p["price"])),
        rx.table.cell(rx.text(p["fee"], size="2")),
        rx.table.cell(rx.text(p["eligible"], size="2")),
        rx.table.cell(rx.text(p["assets"])),
        rx.table.cell(rx.cond(p["active"] == "yes", rx.badge("Offered", color_scheme="green", variant="soft"),
                              rx.badge("Deactivated", color_scheme="gray", variant="soft"))),
        rx.table.cell(rx.cond(S.can_manage, rx.hstack(
            rx.button("Edit", size="1", variant="soft", on_click=S.open_edit(p["id"]), class_name="edit-plan"),
            rx.cond(p["active"] == "yes",
                    rx.button("Deactivate", size="1", variant="soft", color_scheme="red",
                              on_click=S.set_active(p["id"], False), class_name="deactivate-plan"),
                    rx.button("Offer again", size="1", variant="soft", color_scheme="green",
                              on_click=S.set_active(p["id"], True), class_name="reactivate-plan")),
            spacing="2"))),
        align="center", class_name="plan-row")


@template(route="/billing-plans", title="Billing plans", cap=Cap.VIEW_CUSTOMERS, on_load=S.load)
def plans_page() -> rx.Component:
    return rx.vstack(
        page_header("Billing plans", "The plans customers choose from for each card or charger they activate.",
                    rx.cond(S.can_manage, rx.button(rx.icon("plus", size=16), "New plan", on_click=S.open_new,
                                                    id="new-plan"))),
        table_card(rows_or_empty(
            S, empty_state("tags", "No billing plans yet", "Add a plan so customers can activate cards and chargers."),
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                    "Plan", "Organization", "Price", "Fee per session", "For", "Assets", "Status", "")])),
                rx.table.body(rx.foreach(S.rows, _row)),
                variant="ghost", size="2", width="100%", id="plans-table"))),
        rx.text("A deactivated plan is no longer offered; the cards and chargers already on it keep it.", size="1",
                color_scheme="gray"),
        _dialog(),
        spacing="4", width="100%")
