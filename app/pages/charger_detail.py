"""Charger detail: live connectors, boot data, heartbeat, status history, sessions, configuration, actions."""
import reflex as rx

from app.components.layout import template
from app.components.ui import empty_state, lifecycle_badge, loading_block, status_badge, table_card
from app.pages.charger_form import charger_dialog, key_dialog
from app.pages.charger_security import security_sections
from app.pages.claim_code import claim_code_card
from services.access.permissions import Cap
from state.charger_detail import AVAILABILITY, RESET_TYPES, TRIGGERS
from state.charger_detail import ChargerDetailState as S
from state.charger_form import ChargerFormState as F
from state.charger_security import ChargerSecurityState as Sec


def _fact(label: str, value) -> rx.Component:
    return rx.vstack(rx.text(label, size="1", color_scheme="gray", weight="medium"),
                     rx.text(value, size="2", weight="medium"), spacing="1", min_width="0")


def _header() -> rx.Component:
    return rx.flex(
        rx.vstack(
            rx.link(rx.hstack(rx.icon("arrow-left", size=14), rx.text("Chargers", size="2"), spacing="1",
                              align="center"), href="/chargers", color_scheme="gray", underline="none"),
            rx.hstack(rx.heading(S.info["name"], size="7", weight="bold", id="charger-title"),
                      status_badge(S.info["status"]), lifecycle_badge(S.info["lifecycle"]),
                      spacing="3", align="center"),
            rx.hstack(rx.code(S.info["ocpp_id"], variant="ghost", size="3"), rx.text("·", color_scheme="gray"),
                      rx.text(S.info["organization"], color_scheme="gray"), rx.text("·", color_scheme="gray"),
                      rx.text(S.info["address"], color_scheme="gray"), spacing="2", align="center"),
            spacing="2",
        ),
        rx.spacer(),
        rx.cond(S.can_manage, rx.hstack(
            rx.button(rx.icon("key-round", size=16), "Regenerate key", variant="soft", color_scheme="gray",
                      on_click=F.regenerate_key(S.charger_id), id="regenerate-key"),
            rx.button(rx.icon("pencil", size=16), "Edit", on_click=F.open_edit(S.charger_id), id="edit-charger"),
            spacing="3",
        )),
        width="100%", align="end", wrap="wrap", gap="16px",
    )


def _overview() -> rx.Component:
    return rx.card(
        rx.grid(
            _fact("Connection", S.info["connected"]), _fact("Last heartbeat", S.info["heartbeat"]),
            _fact("Last boot", S.info["boot"]), _fact("Vendor", S.info["vendor"]), _fact("Model", S.info["model"]),
            _fact("Serial number", S.info["serial"]), _fact("Firmware", S.info["firmware"]),
            _fact("Tariff", S.info["tariff"]), _fact("Location owner", S.info["owner"]),
            _fact("Security", S.info["security"]), _fact("Coordinates", S.info["coordinates"]),
            _fact("Dashboards", S.info["visible"]),
            columns=rx.breakpoints(initial="2", md="4", lg="6"), spacing="5", width="100%",
        ),
        width="100%", id="charger-facts",
    )


def _connector(k) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(rx.text("Connector ", k["id"], weight="bold"), rx.spacer(), status_badge(k["status"]),
                      width="100%", align="center"),
            rx.text(k["standard"], " · ", k["power"], size="2", color_scheme="gray"),
            rx.cond(k["error"] != "", rx.text("Error: ", k["error"], size="2", color_scheme="red")),
            rx.text("Since ", k["since"], size="1", color_scheme="gray"),
            spacing="2", width="100%",
        ),
        class_name="connector-card", custom_attrs={"data-status": k["status"]},
    )


def _table(headers: list[str], rows, render, empty: rx.Component, id: str) -> rx.Component:
    return table_card(rx.cond(
        rows.length() == 0, empty,
        rx.table.root(rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
                      rx.table.body(rx.foreach(rows, render)), variant="ghost", size="1", width="100%", id=id),
    ))


def _history_row(h) -> rx.Component:
    return rx.table.row(rx.table.cell(rx.text(h["at"], white_space="nowrap", size="2")), rx.table.cell(h["connector"]),
                        rx.table.cell(status_badge(h["status"])),
                        rx.table.cell(rx.text(h["error"], color_scheme="red", size="2")),
                        rx.table.cell(rx.text(h["info"], size="2", color_scheme="gray")), align="center")


def _transaction_row(t) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.link("#", t["id"], href="/transactions/" + t["id"])), rx.table.cell(t["connector"]),
        rx.table.cell(rx.code(t["id_tag"], variant="ghost")), rx.table.cell(rx.text(t["started"], size="2")),
        rx.table.cell(rx.text(t["stopped"], size="2")), rx.table.cell(t["kwh"]), rx.table.cell(t["amount"]),
        align="center")


def _config_row(r) -> rx.Component:
    return rx.table.row(rx.table.cell(rx.code(r["key"], variant="ghost")),
                        rx.table.cell(rx.text(r["value"], size="2", word_break="break-all")),
                        rx.table.cell(rx.badge(r["readonly"], variant="soft",
                                               color_scheme=rx.cond(r["readonly"] == "Writable", "teal", "gray"))),
                        align="center")


def _choice(value, name: str, options: list[str], width: str = "150px") -> rx.Component:
    return rx.select(options, value=value, on_change=lambda v: S.set_field(name, v), size="2", width=width)


def _action(title: str, hint: str, *controls: rx.Component) -> rx.Component:
    return rx.hstack(
        rx.vstack(rx.text(title, weight="medium", size="2"), rx.text(hint, size="1", color_scheme="gray"),
                  spacing="0", min_width="200px"),
        rx.spacer(),
        *controls,
        width="100%", align="center", spacing="2", wrap="wrap",
        padding_y="10px", border_bottom=f"1px solid {rx.color('gray', 4)}",
    )


def _go(label: str, handler, action: str) -> rx.Component:
    return rx.button(label, on_click=handler, loading=S.busy == action, disabled=S.busy != "", size="2",
                     id=f"action-{action}")


def _actions() -> rx.Component:
    connectors = rx.select.root(
        rx.select.trigger(width="130px"),
        rx.select.content(rx.foreach(S.connectors, lambda k: rx.select.item("Connector " + k["id"], value=k["id"]))),
        value=S.connector_choice, on_change=lambda v: S.set_field("connector_choice", v), size="2",
    )
    return rx.card(
        rx.vstack(
            rx.heading("Remote actions", size="4"),
            rx.text("Each action waits for the charger's answer.", size="2", color_scheme="gray"),
            rx.cond(
                S.answer_action != "",
                rx.callout(
                    rx.vstack(rx.text(S.answer_action, ": ", rx.cond(S.busy != "", "waiting for the charger…",
                                                                    rx.cond(S.answer_ok, "answered", "failed")),
                                      weight="bold"),
                              rx.text(S.answer_text, white_space="pre-wrap", font_family="monospace", size="2",
                                      id="action-answer"),
                              spacing="1", width="100%"),
                    icon=rx.cond(S.answer_ok, "circle-check", "circle-alert"),
                    color_scheme=rx.cond(S.answer_ok, "green", "red"), width="100%", id="action-result",
                ),
            ),
            _action("Reset", "Restart the charger.", _choice(S.reset_type, "reset_type", RESET_TYPES, "110px"),
                    _go("Reset", S.reset_charger, "Reset")),
            _action("Unlock connector", "Release a stuck cable.", connectors, _go("Unlock", S.unlock,
                                                                                  "UnlockConnector")),
            _action("Change availability", "Take a connector in or out of service.", connectors,
                    _choice(S.availability, "availability", AVAILABILITY, "130px"),
                    _go("Apply", S.change_availability, "ChangeAvailability")),
            _action("Remote start", "Start a session for an idTag.", connectors,
                    rx.input(placeholder="idTag", value=S.id_tag, on_change=lambda v: S.set_field("id_tag", v),
                             width="130px"),
                    _go("Start", S.remote_start, "RemoteStartTransaction")),
            _action("Remote stop", "Stop a running session.",
                    rx.input(placeholder="Transaction id", value=S.transaction_id,
                             on_change=lambda v: S.set_field("transaction_id", v), width="130px"),
                    _go("Stop", S.remote_stop, "RemoteStopTransaction")),
            _action("Trigger message", "Ask the charger to send a message now.",
                    _choice(S.trigger, "trigger", TRIGGERS, "210px"), _go("Trigger", S.trigger_message,
                                                                         "TriggerMessage")),
            _action("Configuration", "Read every key, or change one.",
                    rx.input(placeholder="Key", value=S.config_key, on_change=lambda v: S.set_field("config_key", v),
                             width="150px"),
                    rx.input(placeholder="Value", value=S.config_value,
                             on_change=lambda v: S.set_field("config_value", v), width="110px"),
                    _go("Change", S.change_configuration, "ChangeConfiguration"),
                    _go("Get all", S.get_configuration, "GetConfiguration")),
            spacing="2", width="100%",
        ),
        width="100%",
    )


@template(route="/chargers/[id]", title="Charger", cap=Cap.VIEW_CHARGERS, on_load=[S.load, Sec.load, F.close_on_load])
def charger_detail() -> rx.Component:
    return rx.cond(
        S.loading & (S.info.length() == 0),
        loading_block(),
        rx.cond(
            S.not_found,
            rx.card(empty_state("plug-zap", "Charger not found",
                                "It does not exist, or it belongs to an organization you cannot see."), width="100%"),
            rx.vstack(
                _header(),
                _overview(),
                rx.heading("Connectors", size="4", padding_top="8px"),
                rx.grid(rx.foreach(S.connectors, _connector), columns=rx.breakpoints(initial="1", sm="2", lg="4"),
                        spacing="4", width="100%", id="connectors"),
                rx.cond(S.can_command, _actions()),
                rx.grid(
                    rx.vstack(
                        rx.heading("Status history", size="4"),
                        _table(["Received", "Where", "Status", "Error", "Info"], S.history, _history_row,
                               empty_state("history", "No status reports yet",
                                           "StatusNotifications from the charger appear here."), "status-history"),
                        width="100%",
                    ),
                    rx.vstack(
                        rx.heading("Recent sessions", size="4"),
                        _table(["Session", "Conn.", "idTag", "Started", "Stopped", "kWh", "Amount"], S.transactions,
                               _transaction_row, empty_state("receipt", "No sessions yet",
                                                         "Charging sessions at this charger appear here."),
                               "recent-sessions"),
                        width="100%",
                    ),
                    columns=rx.breakpoints(initial="1", xl="2"), spacing="5", width="100%",
                ),
                security_sections(),
                rx.hstack(rx.heading("Configuration", size="4"), rx.spacer(),
                          rx.cond(S.configuration_at != "", rx.text("Read ", S.configuration_at, size="2",
                                                                   color_scheme="gray")), width="100%"),
                _table(["Key", "Value", "Access"], S.configuration, _config_row,
                       rx.cond(S.can_command,
                               empty_state("settings", "No configuration read yet",
                                           "Use “Get all” under Remote actions to read the charger's keys."),
                               # Only roles that command chargers are pointed at a remote action.
                               empty_state("settings", "No configuration read yet",
                                           "A technical user reads the charger's keys.")), "config-table"),
                claim_code_card(),  # customers (issue 9)
                charger_dialog(),
                key_dialog(),
                spacing="4", width="100%",
            ),
        ),
    )
