"""Finances: revenue, kWh and sessions per charger and per organization for four periods, each in its own
currency; the billing schedule and the history of billing runs."""
import reflex as rx

from app.components.layout import template
from app.components.ui import empty_state, loading_block, page_header, pager, search_input, table_card
from services.access.permissions import Cap
from state.finances import PERIODS
from state.finances import FinancesState as S

OUTCOME_COLORS = (("Made", "green"), ("Skipped", "gray"), ("Failed", "red"))
SHORT = {"24h": "24 hours", "7d": "7 days", "30d": "30 days", "365d": "365 days"}


def outcome_badge(outcome) -> rx.Component:
    return rx.badge(outcome, color_scheme=rx.match(outcome, *OUTCOME_COLORS, "gray"), variant="soft",
                    radius="full", class_name="run-outcome")


def _figure(row, p: str) -> rx.Component:
    return rx.table.cell(
        rx.vstack(
            rx.text(row[f"rev_{p}"], weight="medium", white_space="nowrap"),
            rx.text(row[f"sub_{p}"], size="1", color_scheme="gray", white_space="nowrap"),
            spacing="0", align="end",
        ),
        class_name=f"period-{p}",
    )


def _period_headers() -> list[rx.Component]:
    return [rx.table.column_header_cell(rx.text("Last ", SHORT[p], text_align="right", white_space="nowrap"),
                                        justify="end") for p in PERIODS]


def _currency_cards() -> rx.Component:
    def card(c) -> rx.Component:
        return rx.card(
            rx.hstack(
                rx.center(rx.icon("banknote", size=20), width="40px", height="40px", border_radius="10px",
                          background=rx.color("teal", 3), color=rx.color("teal", 11)),
                rx.vstack(
                    rx.hstack(rx.text(rx.cond(S.commission_view, "Your commission · ", "Revenue · "), S.period_label,
                                      size="2", color_scheme="gray", weight="medium"),
                              rx.code(c["currency"], variant="soft", size="1"), spacing="2", align="center"),
                    rx.heading(c["revenue"], size="6", weight="bold", class_name="period-money"),
                    rx.text(rx.cond(S.commission_view, "of " + c["gross"] + " revenue · ", ""), c["kwh"], " · ",
                            c["sessions"], size="1", color_scheme="gray"),
                    spacing="1",
                ),
                spacing="4", align="center",
            ),
            size="2", min_width="240px", class_name="currency-card",
        )

    return rx.flex(
        rx.foreach(S.period_cards, card),
        rx.cond(S.period_cards.length() == 0,
                rx.card(rx.text("No chargers in your organizations yet.", color_scheme="gray", size="2"), size="2")),
        gap="16px", wrap="wrap", width="100%", id="currency-totals",
    )


def _org_totals() -> rx.Component:
    def row(r) -> rx.Component:
        return rx.table.row(
            rx.table.cell(rx.hstack(
                rx.cond(r["indent"] != "0px", rx.icon("corner-down-right", size=14, color=rx.color("gray", 8))),
                rx.text(r["organization"], weight=rx.cond(r["has_children"] != "", "bold", "medium")),
                rx.code(r["currency"], variant="soft", size="1"),
                spacing="2", align="center", padding_left=r["indent"], min_width="170px")),
            *[_figure(r, p) for p in PERIODS],
            align="center", class_name="org-total-row",
        )

    return rx.card(
        rx.vstack(
            rx.flex(
                rx.vstack(rx.heading("Totals by organization", size="4"),
                          rx.text("Each currency on its own line; amounts in different currencies are never "
                                  "added up.", size="1", color_scheme="gray"),
                          spacing="1"),
                rx.spacer(),
                rx.segmented_control.root(
                    rx.segmented_control.item("Including sub-organizations", value="rollup"),
                    rx.segmented_control.item("Own chargers only", value="own"),
                    value=rx.cond(S.rollup, "rollup", "own"), on_change=S.set_rollup, size="1", id="rollup-mode",
                ),
                width="100%", align="center", gap="12px", wrap="wrap",
            ),
            rx.table.root(
                rx.table.header(rx.table.row(rx.table.column_header_cell("Organization"), *_period_headers())),
                rx.table.body(rx.foreach(S.org_rows, row)),
                variant="ghost", size="1", width="100%", id="org-totals",
            ),
            spacing="3", width="100%",
        ),
        size="2", width="100%",
    )


def _chargers() -> rx.Component:
    def row(r) -> rx.Component:
        return rx.table.row(
            rx.table.cell(rx.vstack(
                rx.link(rx.code(r["ocpp_id"], variant="ghost", weight="medium"), href="/chargers/" + r["id"]),
                rx.text(r["name"], size="1", color_scheme="gray"), spacing="0")),
            rx.table.cell(rx.hstack(rx.text(r["organization"], size="2"),
                                    rx.code(r["currency"], variant="soft", size="1"), spacing="2", align="center")),
            *[_figure(r, p) for p in PERIODS],
            align="center", class_name="finance-charger-row",
        )

    return rx.vstack(
        rx.flex(
            rx.heading("By charger", size="4"),
            rx.spacer(),
            search_input("Search charger or organization", S.set_filter("search"), id="finance-search"),
            width="100%", align="center", gap="12px",
        ),
        table_card(
            rx.cond(
                S.charger_rows.length() == 0,
                empty_state("plug-zap", "No chargers found", "No charger in your organizations matches."),
                rx.table.root(
                    rx.table.header(rx.table.row(rx.table.column_header_cell("Charger"),
                                                 rx.table.column_header_cell("Organization"), *_period_headers())),
                    rx.table.body(rx.foreach(S.charger_rows, row)),
                    variant="ghost", size="2", width="100%", id="finance-chargers",
                ),
            ),
        ),
        pager(S.page, S.page_count, S.go_page, S.range_label),
        spacing="3", width="100%",
    )


def _schedule() -> rx.Component:
    def row(r) -> rx.Component:
        return rx.table.row(
            rx.table.cell(rx.text(r["organization"], weight="medium")),
            rx.table.cell(r["cycle"]),
            rx.table.cell(rx.text(r["period"], white_space="nowrap")),
            rx.table.cell(rx.text(r["run_at"], white_space="nowrap")),
            rx.table.cell(rx.cond(
                r["due"] != "",
                rx.tooltip(rx.badge("Catching up", color_scheme="amber", variant="soft", radius="full"),
                           content="The period has closed; the billing worker invoices it on its next tick."),
                rx.badge("Scheduled", color_scheme="teal", variant="soft", radius="full"))),
            align="center", class_name="schedule-row",
        )

    return rx.card(
        rx.vstack(
            rx.vstack(rx.heading("Next billing runs", size="4"),
                      rx.text("The billing worker invoices each closed period at local midnight after it ends, "
                              "plus a grace period for late sessions.", size="1", color_scheme="gray"),
                      spacing="1"),
            rx.cond(
                S.schedule.length() == 0,
                rx.text("No client organizations to bill.", size="2", color_scheme="gray", padding_y="16px"),
                rx.table.root(
                    rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                        "Organization", "Billing cycle", "Next period", "Runs at (local time)", "")])),
                    rx.table.body(rx.foreach(S.schedule, row)),
                    variant="ghost", size="1", width="100%", id="billing-schedule",
                ),
            ),
            spacing="3", width="100%",
        ),
        size="2", width="100%",
    )


def _runs() -> rx.Component:
    def row(r) -> rx.Component:
        return rx.table.row(
            rx.table.cell(rx.text(r["when"], white_space="nowrap", size="1")),
            rx.table.cell(rx.text(r["organization"], weight="medium")),
            rx.table.cell(rx.text(r["period"], white_space="nowrap")),
            rx.table.cell(rx.text(r["trigger"], size="1", color_scheme="gray", white_space="nowrap")),
            rx.table.cell(outcome_badge(r["outcome"])),
            rx.table.cell(rx.cond(
                r["invoice_id"] != "",
                rx.link(r["reason"], href="/invoices/" + r["invoice_id"], size="2"),
                rx.text(r["reason"], size="2", color_scheme="gray"))),
            align="center", class_name="run-row",
        )

    return rx.card(
        rx.vstack(
            rx.vstack(rx.heading("Billing run history", size="4"),
                      rx.text("Every attempt to invoice an organization for a period, newest first: scheduled, "
                              "bulk, command line and API runs.", size="1", color_scheme="gray"),
                      spacing="1"),
            rx.cond(
                S.runs.length() == 0,
                rx.text("No billing runs yet.", size="2", color_scheme="gray", padding_y="16px"),
                rx.scroll_area(
                    rx.table.root(
                        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                            "When", "Organization", "Period", "Trigger", "Outcome", "Details")])),
                        rx.table.body(rx.foreach(S.runs, row)),
                        variant="ghost", size="1", width="100%", id="billing-runs",
                    ),
                    max_height="420px", type="auto", scrollbars="vertical",
                ),
            ),
            spacing="3", width="100%",
        ),
        size="2", width="100%",
    )


@template(route="/finances", title="Finances", cap=Cap.VIEW_FINANCE, on_load=S.load)
def finances() -> rx.Component:
    return rx.vstack(
        page_header(
            "Finances",
            rx.cond(S.commission_view,
                    "Your commission per charger and period: your share of each session under your commission "
                    "contract, with the revenue it came from, energy and sessions.",
                    "Revenue, energy and sessions per charger and organization, in each organization's currency."),
            rx.segmented_control.root(
                *[rx.segmented_control.item(SHORT[p], value=p) for p in PERIODS],
                value=S.period, on_change=S.set_period, id="finance-period",
            ),
        ),
        rx.cond(
            S.loaded,
            rx.vstack(
                _currency_cards(),
                _org_totals(),
                _chargers(),
                rx.cond(S.show_billing, rx.vstack(_schedule(), _runs(), spacing="4", width="100%")),
                spacing="4", width="100%",
            ),
            loading_block(),
        ),
        spacing="4", width="100%",
    )
