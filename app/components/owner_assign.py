"""The chargers table's location-owner parts: the owner cell, the row checkbox and the assign dialog."""
import reflex as rx

from state.owner_assign import NONE
from state.owner_assign import OwnerAssignState as A


def select_cell(r) -> rx.Component:
    return rx.cond(A.can_assign, rx.table.cell(rx.checkbox(
        checked=A.selected.contains(r["id"]), on_change=lambda _: A.toggle(r["id"]),
        class_name="charger-select", aria_label="Select " + r["ocpp_id"])))


def select_header() -> rx.Component:
    return rx.cond(A.can_assign, rx.table.column_header_cell(rx.icon("square-check", size=14, opacity="0.5")))


def owner_cell(r) -> rx.Component:
    return rx.table.cell(rx.hstack(
        rx.text(r["owner"], size="2", class_name="owner-name"),
        rx.cond(A.can_assign, rx.icon_button(rx.icon("pencil", size=12), size="1", variant="ghost",
                                             on_click=A.open_one(r["id"]), class_name="assign-owner",
                                             aria_label="Change the location owner of " + r["ocpp_id"])),
        spacing="2", align="center"))


def bulk_bar() -> rx.Component:
    return rx.cond(A.can_assign & (A.selected.length() > 0), rx.callout(
        rx.hstack(rx.text(A.selected.length(), " selected"),
                  rx.button("Assign location owner", size="1", on_click=A.open_selected, id="bulk-assign-owner"),
                  rx.button("Clear", size="1", variant="soft", color_scheme="gray", on_click=A.clear_selection),
                  spacing="3", align="center"),
        icon="users", color_scheme="teal", size="1", width="100%", id="selection-bar"))


def assign_dialog() -> rx.Component:
    return rx.dialog.root(rx.dialog.content(
        rx.dialog.title("Location owner"),
        rx.dialog.description(rx.text(A.targets.length(), " charger(s). The owner earns commission on sessions "
                                      "that start from now; earlier sessions keep their owner."),
                              size="2", color_scheme="gray"),
        rx.vstack(
            rx.select.root(
                rx.select.trigger(placeholder="No location owner", width="100%", id="owner-choice"),
                rx.select.content(rx.select.item("No location owner", value=NONE), rx.select.separator(),
                                  rx.foreach(A.choices, lambda o: rx.select.item(o["name"], value=o["id"]))),
                value=A.owner_choice, on_change=A.set_owner_choice),
            rx.cond(A.error != "", rx.callout(A.error, icon="triangle-alert", color_scheme="red", size="1",
                                              id="assign-error")),
            rx.hstack(rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray")),
                      rx.button("Save", on_click=A.save, id="save-owner"), justify="end", width="100%"),
            spacing="3", margin_top="12px"),
        max_width="440px"), open=A.open, on_open_change=A.set_open)
