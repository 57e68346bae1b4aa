"""The charger page's security sections: security profile, certificates (ours and the charger's CA roots),
local authorization list, log and diagnostics uploads, security history. Not a page of its own: the charger
detail page places `security_sections()` under its remote actions."""
import reflex as rx

from app.components.ui import empty_state, table_card
from state.charger_detail import ChargerDetailState as D
from state.charger_security import CA_TYPES, LOG_TYPES, UPDATE_TYPES
from state.charger_security import ChargerSecurityState as S


def _table(headers: list[str], rows, render, empty: rx.Component, id: str) -> rx.Component:
    return table_card(rx.cond(
        rows.length() == 0, empty,
        rx.table.root(rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
                      rx.table.body(rx.foreach(rows, render)), variant="ghost", size="1", width="100%", id=id),
    ))


def _go(label: str, handler, action: str, **props) -> rx.Component:
    return rx.cond(D.can_command, rx.button(label, on_click=handler, loading=S.busy == action,
                                            disabled=S.busy != "", size="2", id=f"security-{action}", **props))


def _choice(value, name: str, options, width: str, id: str) -> rx.Component:
    return rx.select(options, value=value, on_change=lambda v: S.set_field(name, v), size="2", width=width, id=id)


def _section(title: str, hint: str, *children: rx.Component, id: str) -> rx.Component:
    return rx.vstack(
        rx.vstack(rx.heading(title, size="4"), rx.text(hint, size="2", color_scheme="gray"), spacing="1"),
        *children, spacing="3", width="100%", id=id,
    )


def _answer() -> rx.Component:
    return rx.cond(
        S.answer_action != "",
        rx.callout(
            rx.vstack(rx.text(S.answer_action, ": ", rx.cond(S.busy != "", "waiting for the charger…",
                                                            rx.cond(S.answer_ok, "answered", "failed")),
                              weight="bold"),
                      rx.text(S.answer_text, white_space="pre-wrap", font_family="monospace", size="2",
                              id="security-answer-text"),
                      spacing="1", width="100%"),
            icon=rx.cond(S.answer_ok, "circle-check", "circle-alert"),
            color_scheme=rx.cond(S.answer_ok, "green", "red"), width="100%", id="security-answer",
        ),
    )


def _state_badge(value) -> rx.Component:
    return rx.badge(value, variant="soft", color_scheme=rx.match(value, ("Valid", "green"), ("Expiring", "amber"),
                                                                 "red"))


def _profile() -> rx.Component:
    return rx.card(rx.hstack(
        rx.vstack(rx.text("Security profile", weight="medium", size="2"),
                  rx.hstack(rx.heading("Profile ", S.profile, size="5", id="security-profile"),
                            rx.text(rx.match(S.profile, ("0", "no authentication"), ("1", "HTTP Basic"),
                                             ("2", "TLS with HTTP Basic"), "TLS with a client certificate"),
                                    size="2", color_scheme="gray"), align="baseline", spacing="2"),
                  spacing="1"),
        rx.spacer(),
        rx.cond(D.can_command & (S.higher_profiles.length() > 0), rx.hstack(
            rx.text("Raise to", size="2"),
            rx.select(S.higher_profiles, value=S.new_profile, on_change=lambda v: S.set_field("new_profile", v),
                      size="2", width="80px", id="security-new-profile"),
            _go("Raise", S.raise_profile, "ChangeConfiguration"), align="center", spacing="2")),
        width="100%", align="center", wrap="wrap",
    ), width="100%")


def _certificate_row(c) -> rx.Component:
    return rx.table.row(rx.table.cell(rx.code(c["serial"], variant="ghost", size="1")),
                        rx.table.cell(c["subject"]), rx.table.cell(rx.text(c["issued"], size="2")),
                        rx.table.cell(rx.text(c["expires"], size="2")), rx.table.cell(_state_badge(c["state"])),
                        align="center", class_name="certificate-row")


def _installed_row(r) -> rx.Component:
    return rx.table.row(rx.table.cell(r["type"]), rx.table.cell(rx.code(r["serial"], variant="ghost", size="1")),
                        rx.table.cell(r["algorithm"]), rx.table.cell(rx.text(r["reported"], size="2")),
                        rx.table.cell(rx.cond(D.can_command, rx.button(
                            "Delete", size="1", variant="soft", color_scheme="red", disabled=S.busy != "",
                            on_click=S.delete_installed(r["key"])))),
                        align="center", class_name="installed-row")


def _certificates() -> rx.Component:
    return _section(
        "Certificates",
        "Certificates our CA signed for this charger from its SignCertificate requests, and the CA roots it holds.",
        rx.cond(S.expiring, rx.callout("The charger's certificate expires soon: renew it.", icon="triangle-alert",
                                       color_scheme="amber", width="100%", id="certificate-expiring")),
        rx.hstack(rx.spacer(), _go("Renew certificate", S.renew_certificate, "ExtendedTriggerMessage",
                                   variant="soft"), width="100%"),
        _table(["Serial", "Subject", "Issued", "Expires", "State"], S.certificates, _certificate_row,
               empty_state("shield", "No certificate issued yet",
                           "A profile-3 charger asks for one with SignCertificate; “Renew” asks it to."),
               "charger-certificates"),
        rx.cond(D.can_command, rx.vstack(
            rx.hstack(_choice(S.ca_type, "ca_type", CA_TYPES, "260px", "security-ca-type"),
                      _go("Read installed", S.get_installed, "GetInstalledCertificateIds", variant="soft"),
                      _go("Install", S.install_certificate, "InstallCertificate"), spacing="2", wrap="wrap"),
            rx.text_area(placeholder="-----BEGIN CERTIFICATE----- (the CA root to install)", value=S.ca_pem,
                         on_change=lambda v: S.set_field("ca_pem", v), rows="3", width="100%",
                         id="security-ca-pem"),
            spacing="2", width="100%")),
        _table(["Type", "Serial", "Hash", "Reported", ""], S.installed, _installed_row,
               empty_state("shield-check", "No installed CA roots reported",
                           "“Read installed” asks the charger (GetInstalledCertificateIds)."),
               "installed-certificates"),
        id="security-certificates",
    )


def _entry_row(e) -> rx.Component:
    return rx.table.row(rx.table.cell(rx.code(e["tag"], variant="ghost")), rx.table.cell(e["status"]),
                        rx.table.cell(e["group"]), rx.table.cell(rx.text(e["expiry"], size="2")),
                        align="center", class_name="local-list-row")


def _fact(label: str, value, id: str) -> rx.Component:
    return rx.vstack(rx.text(label, size="1", color_scheme="gray", weight="medium"),
                     rx.text(value, size="2", weight="medium", id=id), spacing="1")


def _local_list() -> rx.Component:
    return _section(
        "Local authorization list",
        "The idTags the charger may accept offline, as it last accepted them from us.",
        rx.card(rx.grid(
            _fact("Version sent", S.list_version, "local-list-version"),
            _fact("Charger reports", S.list_reported, "local-list-reported"),
            _fact("Checked", S.list_checked, "local-list-checked"), _fact("Sent", S.list_sent, "local-list-sent"),
            _fact("Changes waiting", S.list_pending.to_string(), "local-list-pending"),
            columns=rx.breakpoints(initial="2", md="5"), spacing="4", width="100%"), width="100%"),
        rx.cond(S.list_mismatch, rx.callout("The charger holds another list version than the one it accepted "
                                            "from us: send a Full update.", icon="triangle-alert",
                                            color_scheme="red", width="100%", id="local-list-mismatch")),
        rx.cond(D.can_command, rx.hstack(
            _choice(S.update_type, "update_type", UPDATE_TYPES, "150px", "security-update-type"),
            _go("Send list", S.send_list, "SendLocalList"),
            _go("Check version", S.check_list, "GetLocalListVersion", variant="soft"), spacing="2")),
        _table(["idTag", "Status", "Group", "Expires"], S.list_entries, _entry_row,
               empty_state("list", "No list sent yet", "“Send list” builds it from the id tags' current state."),
               "local-list-entries"),
        id="security-local-list",
    )


def _upload_row(u) -> rx.Component:
    return rx.table.row(rx.table.cell(rx.text(u["requested"], size="2")), rx.table.cell(u["kind"]),
                        rx.table.cell(u["reported"]),
                        rx.table.cell(rx.badge(u["status"], variant="soft", color_scheme=rx.match(
                            u["status"], ("received", "green"), ("waiting", "gray"), "red"))),
                        rx.table.cell(rx.cond(u["status"] == "received",
                                              rx.link(u["file"], on_click=S.download(u["id"]), cursor="pointer"),
                                              rx.text(u["error"], size="2", color_scheme="red"))),
                        rx.table.cell(u["size"]), align="center", class_name="upload-row")


def _uploads() -> rx.Component:
    return _section(
        "Logs and diagnostics",
        "GetLog and GetDiagnostics: the charger uploads to Voltdesk's own file endpoint.",
        rx.cond(D.can_command, rx.hstack(
            _choice(S.log_type, "log_type", LOG_TYPES, "170px", "security-log-type"),
            _go("Get log", S.request_log, "GetLog"),
            _go("Get diagnostics", S.request_diagnostics, "GetDiagnostics", variant="soft"), spacing="2")),
        _table(["Requested", "Kind", "Charger reports", "Upload", "File", "Size"], S.uploads, _upload_row,
               empty_state("file-down", "No logs requested yet", "Uploaded files can be downloaded here."),
               "charger-uploads"),
        id="security-uploads",
    )


def _history_row(h) -> rx.Component:
    return rx.table.row(rx.table.cell(rx.text(h["at"], size="2", white_space="nowrap")),
                        rx.table.cell(h["kind"]),
                        rx.table.cell(rx.hstack(rx.text(h["what"], weight="medium"),
                                                rx.cond(h["critical"] != "", rx.badge("critical", color_scheme="red",
                                                                                      variant="soft")),
                                                spacing="2", align="center")),
                        rx.table.cell(rx.text(h["detail"], size="2", color_scheme="gray")),
                        align="center", class_name="security-event-row")


def _history() -> rx.Component:
    return _section(
        "Security events",
        "SecurityEventNotification, log and signed-firmware progress, and refused certificate requests.",
        _table(["Received", "Kind", "Event or status", "Detail"], S.history, _history_row,
               empty_state("shield-alert", "No security events yet", "The charger's security reports appear here."),
               "security-events"),
        id="security-history",
    )


def security_sections() -> rx.Component:
    return rx.vstack(
        rx.heading("Security", size="5", padding_top="8px"),
        _answer(),
        _profile(),
        rx.grid(_certificates(), _local_list(), columns=rx.breakpoints(initial="1", xl="2"), spacing="5",
                width="100%"),
        rx.grid(_uploads(), _history(), columns=rx.breakpoints(initial="1", xl="2"), spacing="5", width="100%"),
        spacing="4", width="100%",
    )
