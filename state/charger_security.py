"""The charger page's security sections (OCPP 1.6 security whitepaper and local list management).

Reads one view (services.ocpp.security_view.charger_security); every action goes through the services that
the API uses too, which check the capability and the scope again and wait for the charger's answer.
"""
from __future__ import annotations

import json
from collections.abc import Callable

import reflex as rx

from core.clock import utcnow
from core.fmt import MISSING, when
from services.access.permissions import Cap
from services.ocpp import certificates, local_list, uploads
from services.ocpp.commands import CommandResult, send_command
from services.ocpp.security_profile import KEY as PROFILE_KEY
from services.ocpp.security_view import charger_security
from state import live
from state.base import AppState, record_id

ROUTE = "/chargers/[id]"
CA_TYPES = list(certificates.CA_TYPES)
LOG_TYPES = list(uploads.LOG_TYPES)
UPDATE_TYPES = list(local_list.UPDATE_TYPES)
MAX_PEM = 10_000  # a CA root in PEM; InstallCertificate's schema allows 5500 characters


def _size(n: int | None) -> str:
    if n is None:
        return MISSING
    return f"{n} B" if n < 1024 else f"{n / 1024:.1f} KB" if n < 1024 ** 2 else f"{n / 1024 ** 2:.1f} MB"


class ChargerSecurityState(AppState):
    charger_id: int = 0
    not_found: bool = False  # the page's own panel says so; this section stays quiet (see AppState._refused)
    profile: str = ""
    higher_profiles: list[str] = []
    certificates: list[dict[str, str]] = []
    expiring: bool = False
    installed: list[dict[str, str]] = []
    list_version: str = "0"
    list_reported: str = ""
    list_checked: str = ""
    list_sent: str = ""
    list_mismatch: bool = False
    list_pending: int = 0
    list_entries: list[dict[str, str]] = []
    uploads: list[dict[str, str]] = []
    history: list[dict[str, str]] = []

    # Forms and the last answer.
    busy: str = ""
    answer_action: str = ""
    answer_ok: bool = True
    answer_text: str = ""
    ca_type: str = CA_TYPES[0]
    ca_pem: str = ""
    log_type: str = LOG_TYPES[1]
    update_type: str = "Differential"
    new_profile: str = ""

    _generation: int = 0

    async def _fetch(self):
        cid = self.charger_id
        call = await self._call(lambda s, u, scope: charger_security(session=s, scope=scope, charger_id=cid,
                                                                     now=utcnow()), cap=Cap.VIEW_CHARGERS)
        if not call.ok:
            return call.answer
        v = call.value
        tz = v.timezone
        self.not_found = False
        self.profile = str(v.security_profile)
        self.higher_profiles = [str(p) for p in v.higher_profiles]
        if self.new_profile not in self.higher_profiles:
            self.new_profile = self.higher_profiles[0] if self.higher_profiles else ""
        self.certificates = [{"serial": c.serial, "subject": c.subject, "issued": when(c.issued_at, tz),
                              "expires": when(c.not_after, tz),
                              "state": "Expired" if c.expired else "Expiring" if c.expiring else "Valid"}
                             for c in v.certificates]
        self.expiring = bool(v.certificates) and v.certificates[0].expiring
        self.installed = [{"key": str(i), "type": r.certificate_type, "serial": r.serial_number,
                           "algorithm": r.hash_algorithm, "reported": when(r.reported_at, tz)}
                          for i, r in enumerate(v.installed)]
        ll = v.local_list
        self.list_version = str(ll.version)
        self.list_reported = MISSING if ll.reported_version is None else str(ll.reported_version)
        self.list_checked = when(ll.checked_at, tz) if ll.checked_at else MISSING
        self.list_sent = when(ll.sent_at, tz) if ll.sent_at else MISSING
        self.list_mismatch, self.list_pending = ll.mismatch, ll.pending
        self.list_entries = [{"tag": e["idTag"], "status": e["status"] or MISSING,
                              "group": e["parentIdTag"] or MISSING, "expiry": e["expiryDate"] or MISSING}
                             for e in ll.entries]
        self.uploads = [{"id": str(u.id), "kind": u.kind, "status": u.status, "reported": u.reported or MISSING,
                         "file": u.filename or MISSING, "size": _size(u.size), "error": u.error or "",
                         "requested": when(u.created_at, tz)} for u in v.uploads]
        self.history = [{"at": when(h.at, tz), "kind": h.kind.replace("_", " ").capitalize(), "what": h.what,
                         "detail": h.detail, "critical": "yes" if h.critical else ""} for h in v.history]
        return None

    @rx.event
    async def load(self):
        try:
            self.charger_id = int(self.router.url.path.rstrip("/").rsplit("/", 1)[-1])
        except (TypeError, ValueError):
            return
        self.answer_action, self.answer_text = "", ""
        answer = await self._fetch()
        if answer is not None:
            yield answer
            return
        if not self.denied and not self.not_found:
            yield ChargerSecurityState.follow_live

    @rx.event
    def set_field(self, name: str, value: str):
        if name in ("ca_type", "log_type", "update_type", "new_profile"):
            setattr(self, name, value)
        elif name == "ca_pem":
            self.ca_pem = value[:MAX_PEM]

    async def _do(self, action: str, service: Callable[..., CommandResult]):
        """Run one command-channel service in a worker thread and show the charger's answer."""
        self.busy, self.answer_action, self.answer_text = action, action, ""
        yield

        def work(session, user, scope):
            session.commit()  # give the pooled connection back: the wait holds none
            return service(session.get_bind(), scope, user.id)

        try:
            call = await self._call(work, cap=Cap.COMMAND_CHARGERS, form=self._refused_form)
        finally:
            self.busy = ""
        if not call.ok:
            yield call.answer
            return
        result = call.value
        self.answer_ok = result.status == "done"
        self.answer_text = (json.dumps(result.result or {}, indent=1) if self.answer_ok
                            else result.error or "The charger refused.")
        yield ChargerSecurityState.refresh

    def _refused_form(self, message: str, field: str) -> None:
        self.answer_ok, self.answer_text = False, message

    def _command(self, action: str, payload: dict):
        cid = self.charger_id
        return self._do(action, lambda engine, scope, uid: send_command(
            engine=engine, scope=scope, charger_id=cid, action=action, payload=payload, requested_by=uid))

    @rx.event
    async def refresh(self):
        return await self._fetch()

    @rx.event
    async def renew_certificate(self):
        async for u in self._command("ExtendedTriggerMessage", dict(certificates.RENEWAL)):
            yield u

    @rx.event
    async def install_certificate(self):
        if self.ca_type not in CA_TYPES or not self.ca_pem.strip():
            self.answer_action, self.answer_ok = "InstallCertificate", False
            self.answer_text = "Paste the CA certificate (PEM) to install."
            return
        async for u in self._command("InstallCertificate", {"certificateType": self.ca_type,
                                                            "certificate": self.ca_pem.strip()}):
            yield u

    @rx.event
    async def get_installed(self):
        async for u in self._command("GetInstalledCertificateIds", {"certificateType": self.ca_type}):
            yield u

    @rx.event
    async def delete_installed(self, key: str):
        row = next((r for r in self.installed if r["key"] == key), None)
        if row is None:
            return
        cid, kind, serial = self.charger_id, row["type"], row["serial"]
        async for u in self._do("DeleteCertificate", lambda engine, scope, uid: certificates.delete_installed(
                engine=engine, scope=scope, charger_id=cid, certificate_type=kind, serial_number=serial,
                requested_by=uid)):
            yield u

    @rx.event
    async def send_list(self):
        kind, cid = self.update_type, self.charger_id
        async for u in self._do("SendLocalList", lambda engine, scope, uid: local_list.send_local_list(
                engine=engine, scope=scope, charger_id=cid, update_type=kind, requested_by=uid)):
            yield u

    @rx.event
    async def check_list(self):
        cid = self.charger_id
        async for u in self._do("GetLocalListVersion", lambda engine, scope, uid: local_list.check_version(
                engine=engine, scope=scope, charger_id=cid, requested_by=uid)):
            yield u

    @rx.event
    async def request_log(self):
        kind, cid = self.log_type, self.charger_id
        async for u in self._do("GetLog", lambda engine, scope, uid: uploads.request_log(
                engine=engine, scope=scope, charger_id=cid, log_type=kind, requested_by=uid)):
            yield u

    @rx.event
    async def request_diagnostics(self):
        cid = self.charger_id
        async for u in self._do("GetDiagnostics", lambda engine, scope, uid: uploads.request_diagnostics(
                engine=engine, scope=scope, charger_id=cid, requested_by=uid)):
            yield u

    @rx.event
    async def raise_profile(self):
        async for u in self._command("ChangeConfiguration", {"key": PROFILE_KEY, "value": self.new_profile}):
            yield u

    @rx.event
    async def download(self, upload_id: str):
        cid = self.charger_id

        def work(session, user, scope):
            path, name = uploads.upload_file(session=session, scope=scope, charger_id=cid,
                                             upload_id=record_id(upload_id, "Upload"))
            return name, path.read_bytes()

        call = await self._call(work, cap=Cap.VIEW_CHARGERS)
        if not call.ok:
            return call.answer
        name, data = call.value
        return rx.download(data=data, filename=name)

    @rx.event(background=True)
    async def follow_live(self):
        await live.follow_charger(self, ROUTE)
