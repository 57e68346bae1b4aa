"""One client: assign chargers, apps and fleets, usage limits, API keys and the App Builder with a live preview."""
import reflex as rx

from app.components.layout import template
from app.components.ui import page_header
from services.access.permissions import Cap
from state.client_detail import GRACE_LABELS
from state.client_detail import ClientDetailState as S


def _section(title: str, hint: str, *children, id: str) -> rx.Component:
    return rx.card(rx.vstack(rx.heading(title, size="4"), rx.text(hint, size="2", color_scheme="gray"), *children,
                             spacing="3", width="100%"), width="100%", id=id)


def _chargers() -> rx.Component:
    return _section(
        "Assign chargers", "Pick one or many. A moved charger's past sessions stay with the organization "
        "that earned them.",
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in ("", "Charger", "Name",
                                                                                   "Organization now")])),
            rx.table.body(rx.foreach(S.chargers, lambda c: rx.table.row(
                rx.table.cell(rx.checkbox(checked=S.selected.contains(c["id"]), disabled=c["here"] != "",
                                          on_change=lambda on: S.toggle_charger(c["id"], on),
                                          class_name="assign-charger", data_ocpp=c["ocpp_id"])),
                rx.table.cell(rx.code(c["ocpp_id"])), rx.table.cell(c["name"]), rx.table.cell(c["org"]),
                align="center"))),
            size="1", width="100%", id="assign-table"),
        rx.button("Assign selected chargers", on_click=S.assign, disabled=S.selected.length() == 0, id="assign"),
        id="client-chargers",
    )


def _apps_and_fleets() -> rx.Component:
    def pick(choices, value, on_change, placeholder: str, id: str) -> rx.Component:
        return rx.select.root(rx.select.trigger(placeholder=placeholder, id=id, min_width="320px"),
                              rx.select.content(rx.foreach(choices, lambda c: rx.select.item(c["label"],
                                                                                             value=c["id"]))),
                              value=value, on_change=on_change)

    return _section(
        "Assign apps and fleets", "An app is another client's branded app: its branding moves here, its old key "
        "stays behind. A fleet is a business account with its sub-accounts and app users: its past sessions, "
        "invoices and payments stay with the client that earned them.",
        rx.hstack(pick(S.app_choices, S.chosen_app, S.set_chosen_app, "Choose an app", "choose-app"),
                  rx.button("Link app", on_click=S.assign_app, disabled=S.chosen_app == "", id="assign-app"),
                  align="center"),
        rx.hstack(pick(S.fleet_choices, S.chosen_fleet, S.set_chosen_fleet, "Choose a fleet", "choose-fleet"),
                  rx.button("Move fleet here", on_click=S.assign_fleet, disabled=S.chosen_fleet == "",
                            id="assign-fleet"), align="center"),
        rx.cond(S.fleets_here.length() > 0, rx.vstack(
            rx.text("Fleets of this client", size="2", weight="medium"),
            rx.foreach(S.fleets_here, lambda f: rx.text(f["name"], " · ", f["subs"], " sub-accounts · ", f["users"],
                                                         " app users", size="2", class_name="fleet-here")),
            spacing="1", id="fleets-here")),
        id="client-apps-fleets",
    )


def _limits() -> rx.Component:
    def field(label: str, name: str) -> rx.Component:
        return rx.vstack(rx.text(label, size="2", weight="medium"),
                         rx.input(name=name, default_value=S.limits[name], placeholder="no limit", width="160px"),
                         spacing="1")

    return _section("Usage limits", "Empty is no limit. Reaching a limit is refused with a message naming it.",
                    rx.form(rx.hstack(field("Maximum chargers", "max_chargers"), field("Maximum users", "max_users"),
                                      field("API calls per minute", "api_calls_per_minute"),
                                      rx.button("Save limits", type="submit"), align="end", spacing="3"),
                            on_submit=S.save_limits, reset_on_submit=False, key=S.client["id"]),
                    id="client-limits")


def _secret() -> rx.Component:
    return rx.cond(S.new_secret != "", rx.callout(
        rx.vstack(rx.text("Copy this key now. It is shown once; only its hash is kept.", weight="bold"),
                  rx.code(S.new_secret, id="new-key-secret", size="3"), spacing="1"),
        icon="key-round", color_scheme="green", width="100%"))


def _key_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.trigger(rx.button(rx.icon("key-round", size=16), "Create API key", id="create-key")),
        rx.dialog.content(
            rx.dialog.title("New API key"),
            rx.form(rx.vstack(
                rx.text("Name", size="2", weight="medium"),
                rx.input(name="name", placeholder="Fleet app", required=True),
                rx.text("Scopes (capabilities from the permission table)", size="2", weight="medium"),
                rx.grid(rx.foreach(S.scope_choices, lambda c: rx.checkbox(
                    c, checked=S.key_scopes.contains(c), on_change=lambda on: S.toggle_scope(c, on), size="1")),
                    columns="2", spacing="1"),
                rx.text("Expires on (optional)", size="2", weight="medium"), rx.input(name="expires_on", type="date"),
                rx.cond(S.key_error != "", rx.callout(S.key_error, icon="triangle-alert", color_scheme="red",
                                                      size="1", id="key-form-error")),
                _secret(),
                rx.hstack(rx.dialog.close(rx.button("Close", variant="soft", color_scheme="gray", type="button")),
                          rx.button("Create key", type="submit", id="key-form-submit"), justify="end", width="100%"),
                spacing="2", width="100%"), on_submit=S.create_key, reset_on_submit=False),
            max_width="560px"),
        open=S.key_dialog, on_open_change=S.set_key_dialog)


def _rotate_dialog() -> rx.Component:
    return rx.alert_dialog.root(rx.alert_dialog.content(
        rx.alert_dialog.title("Rotate ", S.rotate_name),
        rx.vstack(
            rx.callout("Apps built with the old key break when its grace period ends. Ship the new key to "
                       "them first.", icon="triangle-alert", color_scheme="amber", id="rotate-warning"),
            rx.text("Used the old key in the last 7 days:", size="2", weight="medium"),
            rx.cond(S.rotate_uses.length() == 0, rx.text("Nothing.", size="2", color_scheme="gray"),
                    rx.vstack(rx.foreach(S.rotate_uses, lambda u: rx.text(
                        u["agent"], " from ", u["ip"], " — ", u["calls"],
                        rx.cond(u["calls"] == "1", " call", " calls"), " on ", u["day"], size="2")),
                        spacing="1", id="rotate-uses")),
            rx.text("Grace period for the old key", size="2", weight="medium"),
            rx.select.root(rx.select.trigger(id="rotate-grace"), rx.select.content(
                *[rx.select.item(label, value=value) for value, label in GRACE_LABELS.items()]),
                value=S.rotate_grace, on_change=S.set_rotate_grace),
            rx.hstack(rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                      rx.button("Rotate key", color_scheme="amber", on_click=S.confirm_rotate, id="confirm-rotate"),
                      justify="end", width="100%"),
            spacing="3", width="100%")),
        open=S.rotating, on_open_change=S.close_rotate)


def _keys() -> rx.Component:
    return _section(
        "API keys", "Each key has its scopes, within this client's data only. Rotation keeps the old key for a "
        "grace period; revocation takes effect at once.",
        rx.hstack(_key_dialog(), _rotate_dialog()),
        rx.cond(~S.key_dialog, _secret()),
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                "Name", "Key", "Scopes", "Status", "Created", "Last used", "Expires", "")])),
            rx.table.body(rx.foreach(S.keys, lambda k: rx.table.row(
                rx.table.cell(k["name"]), rx.table.cell(rx.code(k["prefix"], "…", k["last_four"])),
                rx.table.cell(rx.text(k["scopes"], size="1")),
                rx.table.cell(rx.badge(k["status"], color_scheme=rx.match(
                    k["status"], ("active", "green"), ("grace", "amber"), "red"), class_name="key-status")),
                rx.table.cell(k["created"]), rx.table.cell(k["last_used"]), rx.table.cell(k["expires"]),
                rx.table.cell(rx.cond(
                    (k["status"] == "active") | (k["status"] == "grace"),
                    rx.hstack(rx.cond(k["status"] == "active", rx.button("Rotate", size="1", variant="soft",
                                                                         on_click=S.open_rotate(k["id"]),
                                                                         class_name="rotate-key")),
                              rx.button("Revoke", size="1", variant="soft", color_scheme="red",
                                        on_click=S.revoke(k["id"]), class_name="revoke-key"), spacing="2"))),
                align="center", class_name="key-row"))),
            size="1", width="100%", id="keys-table"),
        id="client-keys",
    )


def _app_input(label: str, name: str, placeholder: str = "") -> rx.Component:
    return rx.vstack(rx.text(label, size="2", weight="medium"),
                     rx.input(value=S.app[name], on_change=lambda v: S.set_app_field(name, v), placeholder=placeholder,
                              width="100%", id=f"app-{name}"), spacing="1", width="100%")


def preview() -> rx.Component:
    """The branding as the app shows it at start-up."""
    return rx.box(
        rx.vstack(
            rx.hstack(rx.cond(S.app["logo_url"] != "", rx.image(src=S.app["logo_url"], height="28px")),
                      rx.text(S.app["app_name"], weight="bold", color="white", size="4"),
                      padding="14px", background=S.app["primary_color"], width="100%", align="center"),
            rx.box(rx.text("Nearby chargers", weight="medium", size="2"),
                   rx.box(height="120px", border_radius="8px", background=rx.color("gray", 4), margin_top="8px"),
                   padding="14px", width="100%"),
            rx.box(rx.button("Start charging", width="100%", style={"background": S.app["accent_color"]}),
                   padding="0 14px", width="100%"),
            rx.vstack(rx.foreach(S.features, lambda f: rx.cond(f["on"] == "on", rx.text("✓ ", f["label"], size="1"))),
                      padding="14px", spacing="0"),
            rx.text("Help: ", S.app["support_email"], " ", S.app["support_phone"], size="1", color_scheme="gray",
                    padding="0 14px 14px"),
            spacing="0", width="100%"),
        width="280px", min_height="520px", border=f"8px solid {rx.color('gray', 12)}", border_radius="28px",
        overflow="hidden", background="white", id="app-preview")


def _app_builder() -> rx.Component:
    return _section(
        "App Builder", "The white-label app fetches this at start-up with its key (GET /api/v1/app/config).",
        rx.hstack(
            rx.vstack(
                _app_input("App name", "app_name", "Fleetline Charge"), _app_input("Logo URL", "logo_url", "https://…"),
                rx.hstack(_app_input("Primary colour", "primary_color", "#0B6E4F"),
                          _app_input("Accent colour", "accent_color", "#F2A541"), width="100%"),
                rx.hstack(_app_input("Support e-mail", "support_email"), _app_input("Support phone", "support_phone"),
                          width="100%"),
                _app_input("Support page", "support_url", "https://…"),
                rx.hstack(_app_input("Terms", "terms_url", "https://…"), _app_input("Privacy", "privacy_url",
                                                                                    "https://…"), width="100%"),
                rx.text("Features", size="2", weight="medium"),
                rx.grid(rx.foreach(S.features, lambda f: rx.checkbox(
                    f["label"], checked=f["on"] == "on", on_change=lambda on: S.toggle_feature(f["key"], on),
                    size="1")), columns="2", spacing="1"),
                rx.text("API key the app uses", size="2", weight="medium"),
                rx.select.root(rx.select.trigger(placeholder="Choose a key", id="app-key"), rx.select.content(
                    rx.foreach(S.keys, lambda k: rx.cond(k["status"] == "active", rx.select.item(
                        k["name"], " (", k["prefix"], "…)", value=k["id"])))),
                    value=S.app_key, on_change=S.set_app_key),
                rx.cond(S.app_error != "", rx.callout(S.app_error, icon="triangle-alert", color_scheme="red",
                                                      size="1", id="app-error")),
                rx.button("Save app", on_click=S.save_app, id="save-app"),
                spacing="2", flex="1"),
            rx.vstack(rx.text("Preview", size="2", weight="medium"), preview(), align="center"),
            spacing="6", align="start", width="100%"),
        id="app-builder",
    )


@template(route="/clients/[client_id]", title="Client", cap=Cap.MANAGE_CLIENTS, on_load=S.load)
def client_detail() -> rx.Component:
    return rx.vstack(
        rx.link("← Clients", href="/clients", size="2"),
        page_header(S.client["name"], "Region " + S.client["region"] + " · " + S.client["currency"]),
        _chargers(), _apps_and_fleets(), _limits(), _keys(), _app_builder(),
        spacing="4", width="100%",
    )
