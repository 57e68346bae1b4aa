"""The create/edit charger dialog and the one-time AuthorizationKey dialog (used by several pages)."""
import reflex as rx

from models.base import values
from models.charger import LifecycleStatus
from state.charger_form import NONE
from state.charger_form import ChargerFormState as F


def _field(label: str, name: str, *, placeholder: str = "", hint: str = "", disabled=False, **props) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="2", weight="medium"),
        rx.input(name=name, id=f"charger-{name}", default_value=F.values[name], placeholder=placeholder,
                 disabled=disabled, width="100%",
                 color_scheme=rx.cond(F.error_field == name, "red", "gray"), **props),
        rx.cond(hint != "", rx.text(hint, size="1", color_scheme="gray")) if hint else rx.fragment(),
        spacing="1", width="100%",
    )


def _select(label: str, value, on_change, items, *, none_label: str | None = None, id: str = "",
            placeholder: str = "") -> rx.Component:
    return rx.vstack(
        rx.text(label, size="2", weight="medium"),
        rx.select.root(
            rx.select.trigger(placeholder=placeholder, width="100%", id=id),
            rx.select.content(
                *([rx.select.item(none_label, value=NONE)] if none_label else []),
                rx.foreach(items, lambda o: rx.select.item(o["name"], value=o["id"])),
            ),
            value=value, on_change=on_change,
        ),
        spacing="1", width="100%",
    )


def charger_dialog() -> rx.Component:
    editing = F.editing_id != 0
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(editing, "Edit charger", "Register a charger")),
            rx.dialog.description(
                rx.cond(editing, "Changes are recorded in the audit log.",
                        "The charger connects with this id. A new AuthorizationKey is shown once after saving."),
                size="2", color_scheme="gray", margin_bottom="12px",
            ),
            rx.form(
                rx.vstack(
                    rx.grid(
                        _field("Charger id (OCPP)", "ocpp_id", placeholder="CP-0001", disabled=editing),
                        _field("Name", "name", placeholder="Harbour car park"),
                        columns="2", spacing="3", width="100%",
                    ),
                    _select("Organization", F.organization_id, F.set_organization, F.organizations,
                            id="charger-organization", placeholder="Choose an organization"),
                    _field("Address", "address", placeholder="1 Harbour Road, Colombo"),
                    rx.grid(
                        _field("Latitude", "latitude", placeholder="6.927079"),
                        _field("Longitude", "longitude", placeholder="79.861244"),
                        _field("Connectors", "connectors", type="number", min=1, max=8),
                        columns="3", spacing="3", width="100%",
                    ),
                    rx.grid(
                        _select("Tariff", F.tariff_id, F.set_tariff, F.tariff_choices,
                                none_label="Organization default", id="charger-tariff"),
                        _select("Location owner", F.location_owner_id, F.set_owner, F.owner_choices,
                                none_label="None", id="charger-owner"),
                        columns="2", spacing="3", width="100%",
                    ),
                    rx.hstack(
                        rx.vstack(
                            rx.text("Lifecycle status", size="2", weight="medium"),
                            rx.segmented_control.root(
                                *[rx.segmented_control.item(s, value=s) for s in values(LifecycleStatus)],
                                value=F.lifecycle_status, on_change=F.set_lifecycle, id="charger-lifecycle",
                            ),
                            spacing="1",
                        ),
                        rx.spacer(),
                        rx.vstack(
                            rx.text("Visible on dashboards", size="2", weight="medium"),
                            rx.switch(checked=F.visible, on_change=F.set_visible, id="charger-visible", name="visible"),
                            spacing="1", align="end",
                        ),
                        width="100%", align="end",
                    ),
                    rx.cond(F.error != "", rx.callout(F.error, icon="circle-alert", color_scheme="red", size="1",
                                                      width="100%", id="charger-form-error")),
                    rx.hstack(
                        rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
                        rx.button(rx.cond(editing, "Save changes", "Register charger"), type="submit",
                                  loading=F.saving, id="charger-save"),
                        justify="end", width="100%", spacing="3", padding_top="8px",
                    ),
                    spacing="3", width="100%",
                ),
                # no_validate: the server checks every field and names the problem (connectors −3, 0, 100).
                on_submit=F.save, key=F.form_key, reset_on_submit=False, no_validate=True,
            ),
            max_width="620px",
        ),
        open=F.open, on_open_change=F.set_open,
    )


def key_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("AuthorizationKey for ", F.new_key_charger),
            rx.callout("Copy it now: it is shown only once. Voltdesk keeps only a hash. Set it on the charger as "
                       "its AuthorizationKey (OCPP security profile 1 or 2, HTTP Basic password).",
                       icon="key-round", color_scheme="amber", size="1"),
            rx.hstack(
                rx.code(F.new_key, size="4", id="new-auth-key", padding="8px 12px", width="100%"),
                rx.icon_button(rx.icon("copy", size=16), on_click=rx.set_clipboard(F.new_key), variant="soft",
                               aria_label="Copy the key"),
                width="100%", align="center", padding_y="16px",
            ),
            rx.hstack(rx.button("Done", on_click=F.close_key, id="key-done"), justify="end"),
            max_width="520px",
        ),
        open=F.new_key != "",
    )
