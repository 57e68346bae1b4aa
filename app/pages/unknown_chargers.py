"""Unknown chargers: who knocked without being registered, and "Add charger" to register one."""
import reflex as rx

from app.components.layout import template
from app.components.ui import empty_state, page_header, pager, rows_or_empty, table_card
from app.pages.charger_form import charger_dialog, key_dialog
from services.access.permissions import Cap
from state.charger_form import ChargerFormState as F
from state.unknown_chargers import UnknownChargersState as S


def _row(r) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.code(r["ocpp_id"], variant="ghost", weight="medium")),
        rx.table.cell(rx.text(r["address"], size="2", color_scheme="gray")),
        rx.table.cell(r["attempts"], text_align="right"),
        rx.table.cell(rx.text(r["first"], size="2", white_space="nowrap")),
        rx.table.cell(rx.text(r["last"], size="2", white_space="nowrap")),
        rx.table.cell(rx.cond(S.can_manage, rx.hstack(
            rx.button(rx.icon("plus", size=14), "Add charger", size="1", on_click=F.open_new(r["ocpp_id"]),
                      class_name="add-unknown"),
            rx.button("Dismiss", size="1", variant="soft", color_scheme="gray", on_click=S.dismiss(r["id"])),
            spacing="2", justify="end",
        ))),
        align="center", class_name="unknown-row",
    )


@template(route="/unknown-chargers", title="Unknown chargers", cap=Cap.VIEW_UNKNOWN_CHARGERS,
          on_load=[S.load, F.close_on_load])
def unknown_chargers() -> rx.Component:
    return rx.vstack(
        page_header("Unknown chargers", "Chargers that tried to connect without being registered. "
                                        "Add one to let it in. Times are in UTC: these chargers belong to "
                                        "no organization yet."),
        table_card(rows_or_empty(
                       S,
                       empty_state("shield-question", "No unknown chargers",
                       "When an unregistered charger tries to connect, it appears here."),
                       rx.table.root(
                           rx.table.header(rx.table.row(
                               rx.table.column_header_cell("Charger id"), rx.table.column_header_cell("Remote address"),
                               rx.table.column_header_cell("Attempts", text_align="right"),
                               rx.table.column_header_cell("First seen (UTC)"),
                               rx.table.column_header_cell("Last seen (UTC)"),
                               rx.table.column_header_cell(""),
                           )),
                           rx.table.body(rx.foreach(S.rows, _row)),
                           variant="ghost", size="2", width="100%", id="unknown-table",
                       ),
                   )),
        pager(S.page, S.page_count, S.go_page, rx.text(S.total, " unknown chargers")),
        charger_dialog(),
        key_dialog(),
        spacing="4", width="100%",
    )
