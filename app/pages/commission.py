"""Commission statements: a location owner's earnings per month and per charger, as PDF and CSV."""
import reflex as rx

from app.components.layout import template
from app.components.ui import empty_state, page_header, table_card
from services.access.permissions import Cap
from state.commission import CommissionState as S


def _row(r) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.vstack(rx.text(r["month"], weight="medium"),
                                rx.text(r["period"], size="1", color_scheme="gray"), spacing="0")),
        rx.table.cell(rx.vstack(rx.text(r["owner"]), rx.text(r["organization"], size="1", color_scheme="gray"),
                                spacing="0")),
        rx.table.cell(r["sessions"]),
        rx.table.cell(r["energy"]),
        rx.table.cell(r["revenue"]),
        rx.table.cell(rx.text(r["commission"], weight="bold", class_name="statement-commission")),
        rx.table.cell(rx.text(r["chargers"], size="1", class_name="free-text"), max_width="260px"),
        rx.table.cell(rx.hstack(
            rx.button(rx.icon("file-text", size=14), "PDF", size="1", variant="soft", on_click=S.pdf(r["id"]),
                      class_name="statement-pdf"),
            rx.button(rx.icon("sheet", size=14), "CSV", size="1", variant="soft", on_click=S.csv(r["id"]),
                      class_name="statement-csv"), spacing="2")),
        align="center", class_name="statement-row",
    )


@template(route="/commission", title="Commission statements", cap=Cap.VIEW_FINANCE, on_load=S.load)
def commission() -> rx.Component:
    return rx.vstack(
        page_header("Commission statements", "What each location owner earned per month and per charger. The "
                    "billing worker makes each statement once the month has ended."),
        table_card(rx.cond(
            S.rows.length() == 0,
            empty_state("receipt-text", "No statements yet", "The first one follows the end of this month."),
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                    "Month", "Location owner", "Sessions", "Energy", "Revenue", "Commission", "Per charger", "")])),
                rx.table.body(rx.foreach(S.rows, _row)),
                variant="ghost", size="2", width="100%", id="statements-table"),
        )),
        spacing="4", width="100%",
    )
