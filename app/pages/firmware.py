"""The signed firmware library: upload an image with its signing certificate and signature (verified before
it is kept), list the images, roll one out to chosen chargers and follow each charger's status."""
import reflex as rx

from app.components.layout import template
from app.components.ui import empty_state, page_header, table_card
from services.access.permissions import Cap
from state.firmware import FirmwareState as S


def _label(text: str) -> rx.Component:
    return rx.text(text, size="1", color_scheme="gray", weight="medium")


def _upload_form() -> rx.Component:
    return rx.card(rx.vstack(
        rx.heading("Add a signed image", size="4"),
        rx.text("The signature (base64, SHA-256 with the certificate's RSA or EC key) is checked before the file "
                "is kept; chargers download it from Voltdesk's file endpoint.", size="2", color_scheme="gray"),
        rx.grid(
            rx.vstack(_label("Organization"), rx.select.root(
                rx.select.trigger(width="100%"),
                rx.select.content(rx.foreach(S.organizations, lambda o: rx.select.item(o["name"], value=o["id"]))),
                value=S.organization_id, on_change=lambda v: S.set_field("organization_id", v), size="2"),
                width="100%", id="firmware-organization"),
            rx.vstack(_label("Version"), rx.input(value=S.version, on_change=lambda v: S.set_field("version", v),
                                                  placeholder="1.5.0", max_length=50, width="100%",
                                                  id="firmware-version"), width="100%"),
            columns=rx.breakpoints(initial="1", md="2"), spacing="3", width="100%",
        ),
        _label("Firmware file"),
        rx.upload.root(
            rx.hstack(rx.icon("upload", size=16), rx.text("Drop the firmware file here or click to choose", size="2"),
                      spacing="2", align="center", color=rx.color("gray", 11)),
            id="firmware", multiple=False, max_files=1, border=f"1px dashed {rx.color('gray', 7)}",
            border_radius="8px", padding="14px 18px", cursor="pointer", width="100%",
        ),
        rx.hstack(rx.foreach(rx.selected_files("firmware"), lambda f: rx.badge(f, variant="soft")), spacing="2"),
        _label("Signing certificate (PEM)"),
        rx.text_area(value=S.certificate, on_change=lambda v: S.set_field("certificate", v), rows="4",
                     placeholder="-----BEGIN CERTIFICATE-----", width="100%", id="firmware-certificate"),
        _label("Signature (base64)"),
        rx.input(value=S.signature, on_change=lambda v: S.set_field("signature", v), width="100%",
                 id="firmware-signature"),
        rx.cond(S.form_error != "", rx.callout(S.form_error, icon="triangle-alert", color_scheme="red", size="1",
                                               width="100%", role="alert", id="firmware-error")),
        rx.button(rx.icon("shield-check", size=16), "Verify and add", loading=S.uploading, id="firmware-add",
                  on_click=S.upload(rx.upload_files(upload_id="firmware"))),
        spacing="2", width="100%",
    ), width="100%")


def _image_row(i) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(i["version"], weight="bold")),
        rx.table.cell(rx.vstack(rx.text(i["file"]), rx.code(i["sha256"], variant="ghost", size="1"), spacing="0")),
        rx.table.cell(i["size"]), rx.table.cell(i["organization"]),
        rx.table.cell(rx.text(i["signed_by"], size="1")), rx.table.cell(rx.text(i["added"], size="2")),
        rx.table.cell(rx.text(i["rollout"], size="2")),
        rx.table.cell(rx.button("Roll out", size="1", variant=rx.cond(S.selected == i["id"], "solid", "soft"),
                                on_click=S.select(i["id"]), class_name="firmware-select", white_space="nowrap")),
        align="center", class_name="firmware-row",
    )


def _charger_choice(c) -> rx.Component:
    return rx.hstack(
        rx.checkbox(checked=S.chosen.contains(c["id"]), on_change=lambda on: S.toggle(c["id"], on),
                    custom_attrs={"data-charger": c["ocpp_id"]}, class_name="rollout-charger"),
        rx.code(c["ocpp_id"], variant="ghost"), rx.text(c["name"], size="2"),
        rx.badge(c["connected"], variant="soft", color_scheme=rx.cond(c["connected"] == "Connected", "green",
                                                                      "gray")),
        spacing="2", align="center",
    )


def _rollout_row(r) -> rx.Component:
    return rx.table.row(rx.table.cell(rx.code(r["charger"], variant="ghost")),
                        rx.table.cell(rx.badge(r["status"], variant="soft", color_scheme=rx.match(
                            r["status"], ("Installed", "green"), ("Requested", "gray"), ("Downloading", "blue"),
                            ("Downloaded", "blue"), ("SignatureVerified", "blue"), ("Installing", "blue"), "red"),
                            class_name="rollout-status")),
                        rx.table.cell(rx.text(r["updated"], size="2")), align="center", class_name="rollout-row")


def _rollout() -> rx.Component:
    return rx.card(rx.vstack(
        rx.heading("Roll out ", S.selected_label, size="4", id="rollout-title"),
        rx.text("Each charger gets SignedUpdateFirmware and reports its progress here.", size="2",
                color_scheme="gray"),
        rx.cond(S.chargers.length() == 0,
                rx.text("No chargers in this organization.", size="2", color_scheme="gray"),
                rx.vstack(rx.foreach(S.chargers, _charger_choice), spacing="2", id="rollout-chargers")),
        rx.button(rx.icon("rocket", size=16), "Start rollout", on_click=S.start_rollout, loading=S.starting,
                  disabled=S.chosen.length() == 0, id="rollout-start"),
        table_card(rx.cond(
            S.rollout.length() == 0,
            empty_state("hard-drive-download", "Not rolled out yet", "Choose chargers above and start."),
            rx.table.root(rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                "Charger", "Status", "Updated")])),
                rx.table.body(rx.foreach(S.rollout, _rollout_row)), variant="ghost", size="1", width="100%",
                id="rollout-table"),
        )),
        spacing="3", width="100%",
    ), width="100%", id="rollout-panel")


@template(route="/firmware", title="Firmware", cap=Cap.MANAGE_FIRMWARE, on_load=S.load)
def firmware() -> rx.Component:
    return rx.vstack(
        page_header("Firmware library", "Signed firmware images (OCPP 1.6 security extension) and their rollouts.",
                    rx.button(rx.icon("refresh-cw", size=16), "Refresh", variant="soft", on_click=S.refresh)),
        table_card(rx.cond(
            S.images.length() == 0,
            empty_state("hard-drive-download", "No firmware yet", "Add a signed image below."),
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                    "Version", "File", "Size", "Organization", "Signed by", "Added", "Rollout", "")])),
                rx.table.body(rx.foreach(S.images, _image_row)), variant="ghost", size="2", width="100%",
                id="firmware-table"),
        )),
        rx.cond(S.selected != "", _rollout()),
        _upload_form(),
        spacing="4", width="100%",
    )
