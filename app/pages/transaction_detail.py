"""One charging session: meter curve, price breakdown with the rates used, stop reason, flags, raw OCPP."""
import reflex as rx

from app.components.layout import template
from app.components.ui import loading_block, not_found_card
from app.pages.transactions import tx_status_badge
from services.access.permissions import Cap
from state.transaction_detail import TransactionDetailState as S


def _fact(label: str, value, mono: bool = False) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="1", color_scheme="gray", weight="medium"),
        rx.code(value, variant="ghost", size="2") if mono else rx.text(value, size="2", weight="medium"),
        spacing="1", min_width="150px",
    )


def _header() -> rx.Component:
    return rx.vstack(
        rx.link(rx.hstack(rx.icon("arrow-left", size=14), rx.text("Transactions"), spacing="1", align="center"),
                href="/transactions", size="2", color_scheme="gray"),
        rx.flex(
            rx.vstack(
                rx.hstack(rx.heading("Session #", S.info["id"], size="7", weight="bold", id="session-title"),
                          tx_status_badge(S.info["status"]), spacing="3", align="center"),
                rx.text(S.info["organization"], " · ", S.info["charger"], " connector ", S.info["connector"],
                        size="3", color_scheme="gray"),
                spacing="1",
            ),
            rx.spacer(),
            rx.vstack(rx.text("Paid by the driver", size="1", color_scheme="gray", text_align="right"),
                      rx.heading(S.info["gross"], size="7", id="session-gross"), spacing="0", align="end"),
            width="100%", align="end", wrap="wrap", gap="16px",
        ),
        spacing="2", width="100%",
    )


def _facts() -> rx.Component:
    return rx.card(
        rx.flex(
            _fact("Started", S.info["started"]), _fact("Stopped", S.info["stopped"]),
            _fact("Duration", S.info["duration"]), _fact("Energy", S.info["energy"]),
            _fact("Meter", S.info["meter"]), _fact("idTag", S.info["id_tag"], mono=True),
            rx.vstack(
                rx.text("Stop reason", size="1", color_scheme="gray", weight="medium"),
                rx.hstack(rx.text(S.info["stop_reason"], size="2", weight="medium", id="stop-reason"),
                          rx.cond(S.info["stop_code"] != "", rx.code(S.info["stop_code"], size="1", variant="soft")),
                          spacing="2", align="center"),
                spacing="1", min_width="150px",
            ),
            gap="24px", wrap="wrap",
        ),
        size="2", width="100%",
    )


def _flags() -> rx.Component:
    return rx.cond(
        S.flags.length() > 0,
        rx.callout.root(
            rx.callout.icon(rx.icon("triangle-alert")),
            rx.vstack(
                rx.text("Suspect data", weight="bold", size="2"),
                rx.foreach(S.flags, lambda f: rx.text(rx.code(f["code"], size="1"), " ", f["text"], size="2")),
                spacing="1",
            ),
            color_scheme="amber", width="100%", id="session-flags",
        ),
    )


def _curve() -> rx.Component:
    chart = rx.recharts.composed_chart(
        rx.recharts.cartesian_grid(stroke_dasharray="3 3", vertical=False),
        rx.recharts.x_axis(data_key="time", font_size=11, tick_line=False, min_tick_gap=24),
        rx.recharts.y_axis(y_axis_id="power", font_size=11, width=48, tick_line=False,
                           label={"value": "kW", "angle": -90, "position": "insideLeft", "fontSize": 11}),
        rx.recharts.y_axis(y_axis_id="energy", orientation="right", font_size=11, width=48, tick_line=False,
                           label={"value": "kWh", "angle": 90, "position": "insideRight", "fontSize": 11}),
        rx.recharts.graphing_tooltip(),
        rx.recharts.legend(),
        rx.recharts.area(data_key="energy", name="Energy (kWh)", y_axis_id="energy", stroke=rx.color("teal", 9),
                         fill=rx.color("teal", 4), type_="monotone", connect_nulls=True, is_animation_active=False),
        rx.recharts.line(data_key="power", name="Power (kW)", y_axis_id="power", stroke=rx.color("indigo", 9),
                         dot=False, type_="stepAfter", connect_nulls=True, stroke_width=2, is_animation_active=False),
        data=S.curve, height=280, width="100%",
    )
    return rx.card(
        rx.vstack(
            rx.hstack(rx.heading("Meter values", size="4"), rx.spacer(),
                      rx.text("Times in ", S.info["timezone"], size="1", color_scheme="gray"), width="100%"),
            rx.cond(S.curve.length() == 0,
                    rx.text("The charger sent no meter values for this session.", size="2", color_scheme="gray",
                            padding_y="32px"),
                    chart),
            spacing="3", width="100%",
        ),
        size="2", width="100%", id="meter-curve",
    )


def _line(row) -> rx.Component:
    strong = (row["kind"] == "total") | (row["kind"] == "subtotal")
    return rx.table.row(
        rx.table.cell(rx.text(row["label"], weight=rx.cond(strong, "bold", "regular"))),
        rx.table.cell(rx.text(row["note"], size="1", color_scheme="gray")),
        rx.table.cell(rx.text(rx.cond(row["kind"] == "deduct", "− ", ""), row["amount"], text_align="right",
                              white_space="nowrap", weight=rx.cond(strong, "bold", "regular"))),
        class_name="price-line",
        background=rx.cond(row["kind"] == "total", rx.color("teal", 2), "transparent"),
    )


def _lines_table(rows, table_id: str) -> rx.Component:
    return rx.table.root(
        rx.table.body(rx.foreach(rows, _line)),
        variant="ghost", size="1", width="100%", id=table_id,
    )


def _breakdown() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Price breakdown", size="4"),
            rx.cond(
                S.priced,
                rx.grid(
                    rx.vstack(rx.text("What the driver pays", size="2", weight="medium", color_scheme="gray"),
                              _lines_table(S.lines, "price-lines"), width="100%", spacing="2"),
                    rx.vstack(rx.text("How it is split", size="2", weight="medium", color_scheme="gray"),
                              _lines_table(S.split, "split-lines"), width="100%", spacing="2"),
                    columns="1", gap="20px", width="100%",
                ),
                rx.text("Not priced yet: a session is priced once, when it stops.", size="2", color_scheme="gray"),
            ),
            rx.cond(S.info["priced_at"] != "",
                    rx.text("Priced on ", S.info["priced_at"], " with the tariff and contracts in force at the start.",
                            size="1", color_scheme="gray")),
            spacing="3", width="100%",
        ),
        size="2", width="100%", id="price-breakdown",
    )


def _terms() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Tariff and rates used", size="4"),
            rx.cond(
                S.terms.length() == 0,
                rx.text("Shown once the session is priced.", size="2", color_scheme="gray"),
                rx.data_list.root(
                    rx.foreach(S.terms, lambda t: rx.data_list.item(
                        rx.data_list.label(t["label"], min_width="170px"), rx.data_list.value(t["value"]))),
                    size="2",
                ),
            ),
            rx.cond(
                S.bands.length() > 0,
                rx.vstack(
                    rx.text("Energy by time-of-day band", size="2", weight="medium", color_scheme="gray"),
                    rx.table.root(
                        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                            "Band (local time)", "kWh", "Price per kWh")])),
                        rx.table.body(rx.foreach(S.bands, lambda b: rx.table.row(
                            rx.table.cell(b["band"]), rx.table.cell(b["kwh"]), rx.table.cell(b["price"])))),
                        variant="ghost", size="1", width="100%", id="energy-bands",
                    ),
                    spacing="2", width="100%", padding_top="8px",
                ),
            ),
            spacing="3", width="100%",
        ),
        size="2", width="100%",
    )


def _raw() -> rx.Component:
    def row(m) -> rx.Component:
        return rx.table.row(
            rx.table.cell(rx.text(m["time"], size="1", white_space="nowrap")),
            rx.table.cell(rx.text(m["direction"], size="1", white_space="nowrap", color_scheme="gray")),
            rx.table.cell(rx.badge(m["action"], variant="soft", color_scheme="gray")),
            rx.table.cell(rx.code(m["frame"], size="1", variant="ghost", white_space="pre-wrap",
                                  word_break="break-all")),
            class_name="raw-row",
        )

    return rx.cond(
        S.can_raw,
        rx.card(
            rx.vstack(
                rx.hstack(rx.heading("Raw OCPP messages", size="4"),
                          rx.badge("Technical", variant="outline", color_scheme="gray"), spacing="2",
                          align="center"),
                rx.cond(
                    S.raw.length() == 0,
                    rx.text("No frames were recorded for this session.", size="2", color_scheme="gray"),
                    rx.scroll_area(
                        rx.table.root(
                            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                                "Time", "Direction", "Action", "Frame")])),
                            rx.table.body(rx.foreach(S.raw, row)),
                            variant="ghost", size="1", width="100%",
                        ),
                        max_height="420px", type="auto", scrollbars="vertical",
                    ),
                ),
                spacing="3", width="100%",
            ),
            size="2", width="100%", id="raw-ocpp",
        ),
    )


def _not_found() -> rx.Component:
    return not_found_card("Session", "the organizations you can see",
                          "Back to transactions", "/transactions", "session-not-found")


@template(route="/transactions/[tx_id]", title="Session", cap=Cap.VIEW_TRANSACTIONS, on_load=S.load)
def transaction_detail() -> rx.Component:
    return rx.cond(
        S.not_found,
        _not_found(),
        rx.cond(
            S.info.contains("id"),
            rx.vstack(
                _header(), _flags(), _facts(), _curve(),
                rx.grid(_breakdown(), _terms(), columns=rx.breakpoints(initial="1", lg="1fr 1fr"), gap="16px",
                        width="100%"),
                _raw(),
                spacing="4", width="100%",
            ),
            loading_block(),
        ),
    )
