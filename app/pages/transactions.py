"""Transactions: every charging session in range, with totals per currency, a per-charger breakdown,
energy analytics and a streamed CSV download of the filtered list."""
import reflex as rx

from app.components.layout import template
from app.components.ui import empty_state, page_header, pager, rows_or_empty, table_card
from services.access.permissions import Cap
from state.transactions import ANY, CUSTOM, PRESETS
from state.transactions import TransactionsState as S

TX_STATUS_COLORS = (("Active", "blue"), ("Completed", "green"), ("Flagged", "amber"))


def tx_status_badge(status) -> rx.Component:
    return rx.badge(status, color_scheme=rx.match(status, *TX_STATUS_COLORS, "gray"), variant="soft",
                    radius="full", class_name="tx-status")


def _label(text: str, html_for: str) -> rx.Component:
    return rx.text(text, as_="label", html_for=html_for, size="1", weight="medium", color_scheme="gray")


def _field(label: str, control: rx.Component, key: str) -> rx.Component:
    return rx.vstack(
        _label(label, key), control,
        rx.cond(S.error_field == key, rx.text(S.filter_error, size="1", color_scheme="red")),
        spacing="1",
    )


# Every field calls the one `set_filter`. The text inputs wait for typing to pause on their own (Reflex's
# DebounceInput); a `.debounce()` on the event would be shared by all the fields and drop all but the last.
def _range_picker() -> rx.Component:
    return rx.flex(
        _field("Range", rx.segmented_control.root(
            *[rx.segmented_control.item(p, value=p) for p in PRESETS],
            rx.segmented_control.item("Custom", value=CUSTOM),
            value=S.preset, on_change=S.set_preset, id="range-preset",
        ), "preset"),
        _field("From", rx.input(type="date", value=S.date_from, on_change=S.set_filter("date_from"),
                                id="date_from", width="160px"), "date_from"),
        _field("To", rx.input(type="date", value=S.date_to, on_change=S.set_filter("date_to"),
                              id="date_to", width="160px"), "date_to"),
        gap="16px", wrap="wrap", align="end",
    )


def _filters() -> rx.Component:
    return rx.flex(
        _field("Charger", rx.input(placeholder="Any charger (OCPP id)", value=S.charger,
                                   on_change=S.set_filter("charger"), id="charger",
                                   width="200px"), "charger"),
        _field("Connector", rx.input(placeholder="Any", value=S.connector,
                                     on_change=S.set_filter("connector"), id="connector", width="90px",
                                     input_mode="numeric"), "connector_id"),
        _field("idTag", rx.input(placeholder="Any idTag", value=S.id_tag,
                                 on_change=S.set_filter("id_tag"), id="id_tag", width="170px"), "id_tag"),
        _field("Status", rx.select.root(
            rx.select.trigger(min_width="150px", id="status"),
            rx.select.content(
                rx.select.item("All statuses", value=ANY), rx.select.separator(),
                rx.select.item("Active", value="active"), rx.select.item("Completed", value="completed"),
                rx.select.item("Flagged", value="flagged"),
            ),
            value=S.status, on_change=S.set_filter("status"),
        ), "status"),
        rx.button(rx.icon("x", size=14), "Clear", variant="ghost", color_scheme="gray", on_click=S.clear_filters,
                  margin_bottom="2px"),
        gap="16px", wrap="wrap", align="end",
    )


def _totals() -> rx.Component:
    def currency_card(t) -> rx.Component:
        return rx.card(
            rx.vstack(
                rx.hstack(rx.text("Revenue", size="2", color_scheme="gray", weight="medium"),
                          rx.code(t["currency"], variant="soft", size="1"), spacing="2", align="center"),
                rx.heading(t["gross"], size="6", weight="bold"),
                rx.text(rx.cond(S.commission_view, "Your commission " + t["commission"], "Net to CPO " + t["net"]),
                        " · ", t["sessions"], " sessions", size="1", color_scheme="gray", class_name="total-split"),
                spacing="1",
            ),
            size="2", class_name="currency-total", min_width="220px",
        )

    def stat(label: str, value, icon: str) -> rx.Component:
        return rx.card(
            rx.hstack(
                rx.center(rx.icon(icon, size=20), width="40px", height="40px", border_radius="10px",
                          background=rx.color("teal", 3), color=rx.color("teal", 11)),
                rx.vstack(rx.text(label, size="2", color_scheme="gray", weight="medium"),
                          rx.heading(value, size="6", weight="bold"), spacing="0"),
                spacing="4", align="center",
            ),
            size="2", min_width="200px",
        )

    return rx.flex(
        stat("Sessions", S.total_sessions, "activity"),
        stat("Energy delivered", S.total_energy, "zap"),
        rx.foreach(S.totals, currency_card),
        gap="16px", wrap="wrap", width="100%", id="totals",
    )


def _sortable(label: str, column: str, align: str = "left") -> rx.Component:
    icon = rx.cond(S.sort == column, rx.cond(S.descending, rx.icon("arrow-down", size=14),
                                             rx.icon("arrow-up", size=14)),
                   rx.icon("arrow-up-down", size=14, opacity="0.35"))
    return rx.table.column_header_cell(
        rx.hstack(rx.text(label), icon, spacing="1", align="center", cursor="pointer", on_click=S.sort_by(column),
                  justify="end" if align == "right" else "start"),
    )


def _row(r) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.link(rx.text("#", r["id"]), href="/transactions/" + r["id"], weight="medium",
                              class_name="tx-link")),
        rx.table.cell(rx.text(r["started"], white_space="nowrap", size="2")),
        rx.table.cell(rx.vstack(rx.code(r["charger"], variant="ghost", weight="medium"),
                                rx.text(r["organization"], size="1", color_scheme="gray"), spacing="0")),
        rx.table.cell(r["connector"]),
        rx.table.cell(rx.code(r["id_tag"], variant="soft", size="1")),
        rx.table.cell(rx.text(r["duration"], white_space="nowrap")),
        rx.table.cell(rx.text(r["energy"], text_align="right")),
        rx.table.cell(rx.text(r["amount"], text_align="right", weight="medium", white_space="nowrap")),
        rx.table.cell(rx.tooltip(tx_status_badge(r["status"]), content=rx.cond(r["flags"] != "", r["flags"],
                                                                               r["status"]))),
        align="center", class_name="tx-row",
    )


def _list() -> rx.Component:
    return rx.vstack(
        table_card(
            rows_or_empty(
                S,
                empty_state("receipt", "No sessions in this range",
                "Try a longer range or clear the filters."),
                rx.table.root(
                    rx.table.header(rx.table.row(
                        _sortable("Session", "id"), _sortable("Started", "started_at"),
                        _sortable("Charger", "charger"), rx.table.column_header_cell("Conn."),
                        rx.table.column_header_cell("idTag"), _sortable("Duration", "duration"),
                        _sortable("kWh", "energy", "right"), _sortable("Amount", "amount", "right"),
                        rx.table.column_header_cell("Status"),
                    )),
                    rx.table.body(rx.foreach(S.rows, _row)),
                    variant="ghost", size="2", width="100%", id="transactions-table",
                ),
            ),
        ),
        pager(S.page, S.page_count, S.go_page, S.range_label),
        width="100%", spacing="0",
    )


def _breakdown() -> rx.Component:
    def row(b) -> rx.Component:
        return rx.table.row(
            rx.table.cell(rx.vstack(
                rx.link(b["charger"], on_click=S.set_filter("charger", b["charger"]), cursor="pointer",
                        weight="medium"),
                rx.text(b["name"], size="1", color_scheme="gray"), spacing="0")),
            rx.table.cell(b["sessions"]), rx.table.cell(b["energy"]),
            rx.table.cell(rx.text(b["revenue"], white_space="nowrap")), rx.table.cell(b["average"]),
            class_name="breakdown-row", align="center",
        )

    return rx.card(
        rx.vstack(
            rx.heading("By charger", size="4"),
            rx.text("Highest revenue first. Click a charger to filter the list by it.", size="1",
                    color_scheme="gray"),
            rx.cond(
                S.breakdown.length() == 0,
                rx.text("No sessions in this range.", size="2", color_scheme="gray", padding_y="24px"),
                rx.scroll_area(
                    rx.table.root(
                        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                            "Charger", "Sessions", "kWh delivered", "Revenue", "Average duration")])),
                        rx.table.body(rx.foreach(S.breakdown, row)),
                        variant="ghost", size="1", width="100%", id="breakdown-table",
                    ),
                    max_height="320px", type="auto", scrollbars="vertical",
                ),
            ),
            rx.cond(S.breakdown_page_count > 1,
                    rx.box(pager(S.breakdown_page, S.breakdown_page_count, S.go_breakdown_page, S.breakdown_label),
                           id="breakdown-pager", width="100%")),
            spacing="2", width="100%",
        ),
        size="2", width="100%",
    )


def _charts() -> rx.Component:
    def axis_x() -> rx.Component:
        return rx.recharts.x_axis(data_key="label", tick_line=False, font_size=11, min_tick_gap=16)

    energy = rx.recharts.bar_chart(
        rx.recharts.cartesian_grid(stroke_dasharray="3 3", vertical=False),
        axis_x(), rx.recharts.y_axis(font_size=11, width=48, tick_line=False),
        rx.recharts.graphing_tooltip(),
        rx.recharts.bar(data_key="kwh", name="kWh", fill=rx.color("teal", 9), radius=[3, 3, 0, 0],
                        is_animation_active=False),
        data=S.chart, height=220, width="100%",
    )
    revenue = rx.recharts.bar_chart(
        rx.recharts.cartesian_grid(stroke_dasharray="3 3", vertical=False),
        axis_x(), rx.recharts.y_axis(font_size=11, width=56, tick_line=False),
        rx.recharts.graphing_tooltip(),
        rx.recharts.bar(data_key=S.revenue_key, name=S.revenue_currency, fill=rx.color("indigo", 9),
                        radius=[3, 3, 0, 0], is_animation_active=False),
        data=S.chart, height=220, width="100%",
    )
    return rx.card(
        rx.vstack(
            rx.flex(
                rx.heading("Energy analytics", size="4"),
                rx.spacer(),
                rx.cond(S.currencies.length() > 1, rx.select(S.currencies, value=S.revenue_currency,
                                                              on_change=S.set_revenue_currency, size="1")),
                rx.segmented_control.root(
                    rx.segmented_control.item("By day", value="day"),
                    rx.segmented_control.item("By hour", value="hour"),
                    value=S.granularity, on_change=S.set_filter("granularity"), size="1", id="granularity",
                ),
                gap="12px", align="center", width="100%",
            ),
            rx.grid(
                rx.vstack(rx.text("kWh delivered", size="2", weight="medium", color_scheme="gray"), energy,
                          width="100%", spacing="1"),
                rx.vstack(rx.text("Revenue (", S.revenue_currency, ")", size="2", weight="medium",
                                  color_scheme="gray"), revenue, width="100%", spacing="1"),
                columns="2", gap="24px", width="100%",
            ),
            spacing="3", width="100%",
        ),
        size="2", width="100%", id="analytics",
    )


@template(route="/transactions", title="Transactions", cap=Cap.VIEW_TRANSACTIONS, on_load=S.load)
def transactions() -> rx.Component:
    return rx.vstack(
        page_header(
            "Transactions", "Every charging session, priced and split, in your organizations' local time.",
            # A plain link (not client-side routing): the server streams the file with the login cookie.
            rx.button(rx.icon("download", size=16), "Download CSV", variant="soft", id="download-csv",
                      on_click=rx.download(url=S.csv_url, filename="transactions.csv")),
        ),
        rx.card(
            rx.vstack(
                _range_picker(), _filters(),
                rx.hstack(rx.icon("globe", size=14), rx.text(S.timezone_note, size="1"), spacing="2",
                          align="center", color=rx.color("gray", 10)),
                rx.cond((S.filter_error != "") & (S.error_field == ""),
                        rx.callout(S.filter_error, icon="triangle-alert", color_scheme="red", size="1")),
                spacing="4", width="100%",
            ),
            size="2", width="100%",
        ),
        _totals(),
        _charts(),
        _breakdown(),
        _list(),
        spacing="4", width="100%",
    )
