"""Organizations: the tree the user may see, with currency, timezone and region."""
import reflex as rx

from app.components.layout import template
from app.components.ui import empty_state, page_header, rows_or_empty, table_card
from services.access.permissions import Cap
from state.organizations import OrganizationsState as S


def _row(o) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.vstack(rx.link(o["name"], href="/organizations/" + o["id"], weight="medium",
                                        class_name="org-link"),
                                rx.text(o["slug"], size="1", color_scheme="gray"), spacing="0")),
        rx.table.cell(rx.badge(o["kind"], variant="soft", color_scheme=rx.match(
            o["kind"], ("Platform operator", "teal"), ("Client", "indigo"), "gray"))),
        rx.table.cell(o["parent"]),
        rx.table.cell(rx.code(o["currency"], variant="soft")),
        rx.table.cell(o["timezone"]),
        rx.table.cell(o["region"]),
        align="center", class_name="org-row",
    )


@template(route="/organizations", title="Organizations", cap=Cap.VIEW_ORGANIZATIONS, on_load=S.load)
def organizations() -> rx.Component:
    return rx.vstack(
        page_header("Organizations", "Client organizations and their sub-accounts, each with its own currency "
                    "and timezone."),
        table_card(
            rows_or_empty(
                S,
                empty_state("building-2", "No organizations", "You are not bound to any organization yet."),
                rx.table.root(
                    rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                        "Organization", "Type", "Parent", "Currency", "Timezone", "Region")])),
                    rx.table.body(rx.foreach(S.rows, _row)),
                    variant="ghost", size="2", width="100%", id="organizations-table",
                ),
            ),
        ),
        spacing="4", width="100%",
    )
