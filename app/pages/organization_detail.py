"""One organization's settings: profile and logo, billing and taxes, commission contracts, tariffs, audit log.

Read-only for roles without Cap.MANAGE_ORGANIZATIONS; the services refuse their edits anyway."""
import reflex as rx

from app.components.layout import template
from app.components.ui import empty_state, loading_block, not_found_card, table_card
from models.base import values
from models.organization import BillingCycle, Region
from services.access.permissions import Cap
from state.organization_detail import OrganizationDetailState as S


def _error(key: str) -> rx.Component:
    return rx.cond(S.errors.contains(key),
                   rx.text(S.errors[key], size="1", color_scheme="red", class_name="field-error", id=f"{key}-error"))


def _label(text: str, key: str) -> rx.Component:
    return rx.text(text, as_="label", html_for=key, size="2", weight="medium")


def _input(label: str, key: str, hint: str = "", **props) -> rx.Component:
    return rx.vstack(
        _label(label, key),
        rx.input(id=key, name=key, default_value=S.org[key], read_only=~S.can_edit, width="100%",
                 color_scheme=rx.cond(S.errors.contains(key), "red", "gray"), **props),
        rx.cond(S.errors.contains(key), _error(key),
                rx.text(hint, size="1", color_scheme="gray") if hint else rx.fragment()),
        spacing="1", width="100%",
    )


def _choice(label: str, key: str, options: tuple[str, ...], labels: dict[str, str] | None = None) -> rx.Component:
    return rx.vstack(
        _label(label, key),
        rx.select.root(
            rx.select.trigger(id=key, width="100%"),
            rx.select.content(*[rx.select.item((labels or {}).get(o, o), value=o) for o in options]),
            name=key, default_value=S.org[key], disabled=~S.can_edit,
        ),
        _error(key),
        spacing="1", width="100%",
    )


def _save_bar(section: str, label: str = "Save changes") -> rx.Component:
    return rx.cond(
        S.can_edit,
        rx.hstack(
            rx.cond(S.notice == section,
                    rx.callout("Nothing was saved. Correct the fields marked in red.", icon="triangle-alert",
                               color_scheme="red", size="1", role="alert")),
            rx.spacer(),
            rx.button(label, type="submit", loading=S.saving == section, id=f"save-{section}"),
            width="100%", align="center", padding_top="8px",
        ),
    )


def _section(title: str, hint: str, *children: rx.Component) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.vstack(rx.heading(title, size="4"), rx.text(hint, size="2", color_scheme="gray"), spacing="1"),
            *children,
            spacing="4", width="100%",
        ),
        size="3", width="100%",
    )


def _logo() -> rx.Component:
    preview = rx.center(
        rx.cond(S.logo_url != "",
                rx.image(src=S.logo_url, max_width="88px", max_height="88px", alt="Logo", id="logo-image"),
                rx.icon("image", size=28, color=rx.color("gray", 8))),
        width="104px", height="104px", border_radius="12px", border=f"1px dashed {rx.color('gray', 6)}",
        background=rx.color("gray", 2), flex_shrink="0",
    )
    uploader = rx.vstack(
        rx.upload.root(
            rx.hstack(rx.icon("upload", size=16), rx.text("Drop an image here or click to choose", size="2"),
                      spacing="2", align="center", color=rx.color("gray", 11)),
            id="logo", multiple=False, max_files=1, border=f"1px dashed {rx.color('gray', 7)}",
            border_radius="8px", padding="14px 18px", cursor="pointer",
        ),
        rx.hstack(
            rx.foreach(rx.selected_files("logo"), lambda f: rx.badge(f, variant="soft")),
            rx.button("Upload logo", size="2", variant="soft", id="upload-logo",
                      on_click=S.upload_logo(rx.upload_files(upload_id="logo"))),
            spacing="2", align="center",
        ),
        rx.cond(S.logo_error != "",
                rx.callout(S.logo_error, icon="triangle-alert", color_scheme="red", size="1", id="logo-error",
                           role="alert")),
        rx.text("PNG, JPEG, WebP or GIF, up to 1 MB. Shown on invoices.", size="1", color_scheme="gray"),
        spacing="2",
    )
    return rx.hstack(preview, rx.cond(S.can_edit, uploader,
                                      rx.text("The logo printed on invoices.", size="2", color_scheme="gray")),
                     spacing="5", align="center")


def _profile() -> rx.Component:
    return rx.vstack(
        _section("Logo", "Identifies the organization in the app and on its invoices.", _logo()),
        rx.form(
            _section(
                "Profile", "Name, legal details for invoices, and the organization's locale.",
                rx.grid(
                    _input("Name", "name"), _input("Legal name", "legal_name"),
                    _input("Registration number", "registration_number"), _input("Tax number", "tax_number"),
                    _input("Billing email", "billing_email", type="email"),
                    _choice("Region", "region", values(Region)),
                    _input("Currency", "currency", "ISO 4217 code, e.g. USD, EUR, LKR."),
                    _input("Timezone", "timezone", "IANA name, e.g. Asia/Colombo. Periods and dates use it."),
                    columns=rx.breakpoints(initial="1", md="2"), gap="16px", width="100%",
                ),
                rx.vstack(_label("Address", "address"),
                          rx.text_area(id="address", name="address", default_value=S.org["address"],
                                       read_only=~S.can_edit, width="100%", rows="3"),
                          _error("address"), spacing="1", width="100%"),
                _save_bar("profile"),
            ),
            on_submit=S.save_profile, reset_on_submit=False, no_validate=True, width="100%",
        ),
        spacing="4", width="100%",
    )


def _billing() -> rx.Component:
    return rx.form(
        rx.vstack(
            _section(
                "Billing", "When invoices are issued and when they are due.",
                rx.grid(
                    _choice("Cycle", "billing_cycle", values(BillingCycle),
                            {"weekly": "Weekly", "monthly": "Monthly", "quarterly": "Quarterly"}),
                    _input("Billing day", "billing_day", "Weekly: 1 (Monday) to 7. Monthly and quarterly: 1 to 28.",
                           input_mode="numeric"),
                    _input("Payment terms (days)", "payment_terms_days", "0 to 365 days.", input_mode="numeric"),
                    columns=rx.breakpoints(initial="1", md="3"), gap="16px", width="100%",
                ),
            ),
            _section(
                "Taxes", "Percentages added to the price of each session.",
                rx.grid(
                    _input("VAT rate (%)", "vat_rate", "0 to 50.", input_mode="decimal"),
                    _input("SSC levy rate (%)", "ssc_levy_rate", "0 to 20.", input_mode="decimal"),
                    columns=rx.breakpoints(initial="1", md="3"), gap="16px", width="100%",
                ),
            ),
            _section(
                "Costs and commission", "Deducted from each session's gross before the CPO's net.",
                rx.grid(
                    _input("Energy cost per kWh", "energy_cost_per_kwh", "The CPO's own cost, for reports.",
                           input_mode="decimal"),
                    _input("Gateway charge (%)", "gateway_fee_percent", "Of the gross paid.", input_mode="decimal"),
                    _input("Gateway fixed fee", "gateway_fee_fixed", "Per paid session.", input_mode="decimal"),
                    _input("Platform commission (%)", "platform_commission_rate",
                           "A change starts a new contract from now on.", input_mode="decimal"),
                    columns=rx.breakpoints(initial="1", md="3"), gap="16px", width="100%",
                ),
                _save_bar("billing"),
            ),
            spacing="4", width="100%",
        ),
        on_submit=S.save_billing, reset_on_submit=False, no_validate=True, width="100%",
    )


def _contracts() -> rx.Component:
    def row(c) -> rx.Component:
        return rx.table.row(
            rx.table.cell(rx.badge(c["kind"], variant="soft",
                                   color_scheme=rx.cond(c["kind"] == "Platform", "teal", "indigo"))),
            rx.table.cell(c["applies_to"]), rx.table.cell(rx.text(c["rate"], weight="medium")),
            rx.table.cell(rx.hstack(rx.text(c["effective"], white_space="nowrap"),
                                    rx.cond(c["in_future"] != "", rx.badge("Upcoming", color_scheme="amber")),
                                    spacing="2")),
            rx.table.cell(rx.text(c["note"], color_scheme="gray", size="2")),
            class_name="contract-row", align="center",
        )

    form = rx.form(
        rx.vstack(
            rx.heading("Add a contract", size="3"),
            rx.grid(
                rx.vstack(_label("Kind", "c_kind"),
                          rx.select.root(
                              rx.select.trigger(id="c_kind", width="100%"),
                              rx.select.content(rx.select.item("Platform commission", value="platform"),
                                                rx.select.item("Location owner commission",
                                                               value="location_owner")),
                              value=S.c_kind, on_change=S.set_c_kind),
                          _error("c_kind"), spacing="1", width="100%"),
                rx.cond(S.c_kind == "location_owner",
                        rx.vstack(_label("For", "c_target"),
                                  rx.select.root(
                                      rx.select.trigger(id="c_target", width="100%",
                                                        placeholder="A location owner or one charger"),
                                      rx.select.content(rx.foreach(S.target_options, lambda o: rx.select.item(
                                          o["label"], value=o["value"]))),
                                      value=S.c_target, on_change=S.set_c_target),
                                  _error("c_target"), spacing="1", width="100%")),
                rx.vstack(_label("Rate (%)", "c_rate"), rx.input(id="c_rate", name="rate", input_mode="decimal",
                                                                 placeholder="e.g. 7.5"),
                          _error("c_rate"), spacing="1", width="100%"),
                rx.vstack(_label("Effective from", "c_effective_on"),
                          rx.input(id="c_effective_on", name="effective_on", type="date", default_value=S.today,
                                   min=S.today),
                          _error("c_effective_on"), spacing="1", width="100%"),
                rx.vstack(_label("Note", "c_note"), rx.input(id="c_note", name="note", placeholder="Optional"),
                          _error("c_note"), spacing="1", width="100%"),
                columns=rx.breakpoints(initial="1", md="3"), gap="16px", width="100%",
            ),
            rx.hstack(
                rx.text("A contract applies from its date onward; sessions that started before keep their rates.",
                        size="1", color_scheme="gray"),
                rx.spacer(),
                rx.button("Add contract", type="submit", loading=S.saving == "contract", id="add-contract"),
                width="100%", align="center",
            ),
            spacing="3", width="100%",
        ),
        on_submit=S.add_contract, reset_on_submit=False, no_validate=True, width="100%", id="contract-form",
    )
    return _section(
        "Commission contracts", "The platform's and location owners' shares of each session, from a date onward.",
        rx.cond(
            S.contracts.length() == 0,
            rx.text("No contracts yet: the platform commission is the organization's baseline rate and location "
                    "owners earn nothing.", size="2", color_scheme="gray"),
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                    "Kind", "Applies to", "Rate", "Effective from", "Note")])),
                rx.table.body(rx.foreach(S.contracts, row)),
                variant="ghost", size="2", width="100%", id="contracts-table",
            ),
        ),
        rx.cond(S.can_edit, rx.box(rx.separator(size="4", margin_bottom="16px"), form, width="100%")),
    )


def _t_error(key: str) -> rx.Component:
    return rx.cond(S.t_errors.contains(key), rx.text(S.t_errors[key], size="1", color_scheme="red"))


def _t_input(label: str, key: str, **props) -> rx.Component:
    return rx.vstack(
        _label(label, f"t_{key}"),
        rx.input(id=f"t_{key}", value=S.t_fields[key], on_change=lambda v: S.set_t_field(key, v), width="100%",
                 **props),
        _t_error(key), spacing="1", width="100%",
    )


def _band(band, index) -> rx.Component:
    return rx.hstack(
        rx.input(type="time", value=band["start"], on_change=lambda v: S.set_band(index, "start", v),
                 aria_label="Band start", width="120px"),
        rx.text("to", size="2", color_scheme="gray"),
        rx.input(type="time", value=band["end"], on_change=lambda v: S.set_band(index, "end", v),
                 aria_label="Band end", width="120px"),
        rx.input(value=band["price_per_kwh"], on_change=lambda v: S.set_band(index, "price_per_kwh", v),
                 placeholder="Price per kWh", aria_label="Band price per kWh", width="140px", input_mode="decimal"),
        rx.icon_button(rx.icon("trash-2", size=14), variant="ghost", color_scheme="red", type="button",
                       on_click=S.remove_band(index), aria_label="Remove band"),
        spacing="2", align="center", class_name="band-row",
    )


def _tariff_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(S.t_id == 0, "New tariff", "Edit tariff")),
            rx.dialog.description("Changes apply to sessions that start from now on.", size="2",
                                  color_scheme="gray", margin_bottom="16px"),
            rx.vstack(
                _t_input("Name", "name", placeholder="Standard"),
                rx.grid(
                    _t_input("Price per kWh", "price_per_kwh", input_mode="decimal"),
                    _t_input("Price per minute", "price_per_minute", input_mode="decimal"),
                    _t_input("Session fee", "session_fee", input_mode="decimal"),
                    _t_input("Idle fee per minute", "idle_fee_per_minute", input_mode="decimal"),
                    _t_input("Idle grace (minutes)", "idle_grace_minutes", input_mode="numeric"),
                    columns="2", gap="12px", width="100%",
                ),
                rx.vstack(
                    rx.hstack(_label("Time-of-day bands", "bands"), rx.spacer(),
                              rx.button(rx.icon("plus", size=14), "Add band", size="1", variant="soft",
                                        type="button", on_click=S.add_band, id="add-band"),
                              width="100%", align="center"),
                    rx.text("Local time of the organization. Energy outside every band costs the price per kWh.",
                            size="1", color_scheme="gray"),
                    rx.foreach(S.t_bands, _band),
                    _t_error("bands"),
                    spacing="2", width="100%",
                ),
                rx.hstack(rx.switch(checked=S.t_vat_inclusive, on_change=S.set_t_vat_inclusive, id="t_vat"),
                          _label("Prices include VAT", "t_vat"), spacing="2", align="center"),
                rx.hstack(rx.switch(checked=S.t_default, on_change=S.set_t_default, id="t_default"),
                          _label("Default tariff of the organization", "t_default"), spacing="2", align="center"),
                _t_error("vat_inclusive"), _t_error("is_default"), _t_error("form"),
                rx.hstack(
                    rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
                    rx.button("Save tariff", on_click=S.save_tariff, loading=S.saving == "tariff", id="save-tariff"),
                    justify="end", width="100%", spacing="3", margin_top="8px",
                ),
                spacing="3", width="100%",
            ),
            max_width="560px",
        ),
        open=S.t_open, on_open_change=S.set_t_open,
    )


def _tariffs() -> rx.Component:
    def row(t) -> rx.Component:
        return rx.table.row(
            rx.table.cell(rx.hstack(rx.text(t["name"], weight="medium"),
                                    rx.cond(t["default"] != "", rx.badge("Default", color_scheme="teal")),
                                    spacing="2", align="center")),
            rx.table.cell(t["price_per_kwh"]), rx.table.cell(t["price_per_minute"]),
            rx.table.cell(t["session_fee"]), rx.table.cell(rx.text(t["idle"], size="2")),
            rx.table.cell(rx.text(t["bands"], size="2", color_scheme="gray")), rx.table.cell(t["vat"]),
            rx.table.cell(rx.cond(S.can_edit_tariffs,
                                  rx.icon_button(rx.icon("pencil", size=14), variant="ghost", size="1",
                                                 on_click=S.edit_tariff(t["id"]), aria_label="Edit tariff"))),
            class_name="tariff-row", align="center",
        )

    return rx.vstack(
        _section(
            "Tariffs", "What drivers pay. A charger may have its own tariff; otherwise the default applies.",
            rx.cond(S.can_edit_tariffs,
                    rx.button(rx.icon("plus", size=16), "New tariff", on_click=S.new_tariff, id="new-tariff",
                              width="fit-content")),
            rx.cond(
                S.tariffs.length() == 0,
                rx.text("No tariff yet: sessions are priced at zero until one exists.", size="2",
                        color_scheme="gray"),
                rx.table.root(
                    rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                        "Name", "Per kWh", "Per minute", "Session fee", "Idle", "Bands", "VAT", "")])),
                    rx.table.body(rx.foreach(S.tariffs, row)),
                    variant="ghost", size="2", width="100%", id="tariffs-table",
                ),
            ),
        ),
        _tariff_dialog(),
        width="100%",
    )


def _audit() -> rx.Component:
    def row(a) -> rx.Component:
        return rx.table.row(
            rx.table.cell(rx.text(a["when"], white_space="nowrap", size="2")),
            rx.table.cell(rx.text(a["who"], size="2")),
            rx.table.cell(rx.text(a["what"], size="2")),
            rx.table.cell(rx.text(a["field"], weight="medium", size="2")),
            rx.table.cell(rx.hstack(rx.text(a["old"], color_scheme="gray", size="2"),
                                    rx.icon("arrow-right", size=12, color=rx.color("gray", 9)),
                                    rx.text(a["new"], size="2", weight="medium"), spacing="2", align="center")),
            class_name="audit-row", align="center",
        )

    return table_card(
        rx.cond(
            S.audit.length() == 0,
            empty_state("history", "No changes yet", "Every change to these settings is recorded here."),
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                    "When (local)", "Who", "What", "Field", "Old → new")])),
                rx.table.body(rx.foreach(S.audit, row)),
                variant="ghost", size="2", width="100%", id="audit-table",
            ),
        ),
    )


def _header() -> rx.Component:
    return rx.vstack(
        rx.link(rx.hstack(rx.icon("arrow-left", size=14), rx.text("Organizations"), spacing="1", align="center"),
                href="/organizations", size="2", color_scheme="gray"),
        rx.flex(
            rx.vstack(
                rx.hstack(rx.heading(S.org["name"], size="7", weight="bold", id="org-title"),
                          rx.badge(S.org["kind_label"], variant="soft"), spacing="3", align="center"),
                rx.text(S.org["slug"], " · ", S.org["currency"], " · ", S.org["timezone"], " · ", S.org["region"],
                        size="3", color_scheme="gray"),
                spacing="1",
            ),
            rx.spacer(),
            rx.cond(~S.can_edit,
                    rx.badge(rx.icon("eye", size=14), "Read-only", size="2", variant="surface", color_scheme="gray",
                             id="read-only")),
            width="100%", align="end", wrap="wrap", gap="16px",
        ),
        spacing="2", width="100%",
    )


def _not_found() -> rx.Component:
    return not_found_card("Organization", "those you can see",
                          "Back to organizations", "/organizations", "org-not-found")


@template(route="/organizations/[org_id]", title="Organization", cap=Cap.VIEW_ORGANIZATIONS,
          on_load=[S.load])
def organization_detail() -> rx.Component:
    return rx.cond(
        S.not_found,
        _not_found(),
        rx.cond(
            S.org.contains("id"),
            rx.vstack(
                _header(),
                rx.tabs.root(
                    rx.tabs.list(
                        rx.tabs.trigger("Profile", value="profile"),
                        rx.tabs.trigger("Billing & taxes", value="billing"),
                        rx.tabs.trigger("Commissions", value="contracts"),
                        rx.tabs.trigger("Tariffs", value="tariffs"),
                        rx.tabs.trigger("Audit log", value="audit"),
                        size="2",
                    ),
                    rx.tabs.content(_profile(), value="profile", padding_top="16px"),
                    rx.tabs.content(_billing(), value="billing", padding_top="16px"),
                    rx.tabs.content(_contracts(), value="contracts", padding_top="16px"),
                    rx.tabs.content(_tariffs(), value="tariffs", padding_top="16px"),
                    rx.tabs.content(_audit(), value="audit", padding_top="16px"),
                    default_value="profile", width="100%",
                ),
                spacing="4", width="100%",
            ),
            loading_block(),
        ),
    )
