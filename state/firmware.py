"""The signed firmware library page: upload a signed image (verified before it is kept), list the images,
roll one out to chosen chargers and follow each charger's SignedFirmwareStatusNotifications."""
from __future__ import annotations

import reflex as rx

from core.fmt import MISSING, when
from services.access import organizations as org_svc
from services.access.permissions import Cap
from services.network import chargers as charger_svc
from services.ocpp import firmware_library as svc
from state import live
from state.base import AppState, is_record_id

ROUTE = "/firmware"
MAX_PEM = 5500  # SignedUpdateFirmware's signingCertificate
MAX_SIGNATURE = 800


def _size(n: int) -> str:
    return f"{n} B" if n < 1024 else f"{n / 1024:.1f} KB" if n < 1024 ** 2 else f"{n / 1024 ** 2:.1f} MB"


class FirmwareState(AppState):
    images: list[dict[str, str]] = []
    organizations: list[dict[str, str]] = []

    # Upload form.
    organization_id: str = ""
    version: str = ""
    certificate: str = ""
    signature: str = ""
    form_error: str = ""
    uploading: bool = False

    # The chosen image: its chargers to pick from and its rollout.
    selected: str = ""
    selected_label: str = ""
    chargers: list[dict[str, str]] = []
    chosen: list[str] = []
    rollout: list[dict[str, str]] = []
    starting: bool = False

    _generation: int = 0

    async def _fetch(self):
        selected = int(self.selected) if self.selected else None

        def work(session, user, scope):
            images = svc.list_firmware(session=session, scope=scope)
            orgs = org_svc.list_organizations(session=session, scope=scope)
            image = next((i for i in images if i.id == selected), None)
            chargers, rollout = [], []
            if image is not None:
                chargers, _ = charger_svc.list_chargers(session=session, scope=scope,
                                                        organization_id=image.organization_id, limit=500)
                rollout = svc.rollout_status(session=session, scope=scope, firmware_id=image.id)
            return images, orgs, image, chargers, rollout

        call = await self._call(work, cap=Cap.MANAGE_FIRMWARE)
        if not call.ok:
            return call.answer
        images, orgs, image, chargers, rollout = call.value
        self.images = [{"id": str(i.id), "version": i.version, "file": i.filename, "size": _size(i.size),
                        "organization": i.organization, "signed_by": i.signed_by or MISSING,
                        "sha256": i.sha256[:16] + "…", "added": when(i.created_at),
                        "rollout": f"{i.installed} of {i.chargers} installed" if i.chargers else "Not rolled out"}
                       for i in images]
        self.organizations = [{"id": str(o.id), "name": o.name} for o in orgs]
        if not self.organization_id and orgs:
            self.organization_id = str(orgs[0].id)
        if image is None:
            self.selected, self.selected_label, self.chargers, self.rollout = "", "", [], []
            return None
        self.selected_label = f"{image.version} · {image.filename}"
        self.chargers = [{"id": str(c.id), "ocpp_id": c.ocpp_id, "name": c.name,
                          "connected": "Connected" if c.connected else "Offline"} for c in chargers]
        self.chosen = [c for c in self.chosen if any(k["id"] == c for k in self.chargers)]
        self.rollout = [{"charger": r.ocpp_id, "status": r.status, "updated": when(r.updated_at)}
                        for r in rollout]
        return None

    @rx.event
    async def load(self):
        answer = await self._fetch()
        if answer is not None:
            yield answer
            return
        if not self.denied:
            yield FirmwareState.follow_live

    @rx.event
    async def refresh(self):
        return await self._fetch()

    @rx.event
    def set_field(self, name: str, value: str):
        limits = {"organization_id": 20, "version": 50, "certificate": MAX_PEM, "signature": MAX_SIGNATURE}
        if name in limits:
            setattr(self, name, value[:limits[name]])

    @rx.event
    async def select(self, image_id: str):
        self.selected, self.chosen = (str(image_id).strip() if is_record_id(image_id) else ""), []
        return await self._fetch()

    @rx.event
    def toggle(self, charger_id: str, on: bool):
        if on and charger_id not in self.chosen:
            self.chosen = [*self.chosen, charger_id]
        elif not on:
            self.chosen = [c for c in self.chosen if c != charger_id]

    def _form_refused(self, message: str, field: str) -> None:
        self.form_error = message

    @rx.event
    async def upload(self, files: list[rx.UploadFile]):
        if not files:
            self.form_error = "Choose the firmware file first."
            return
        allowed = await self._call(None, cap=Cap.MANAGE_FIRMWARE, form=self._form_refused)
        if not allowed.ok:
            yield allowed.answer
            return
        self.uploading, self.form_error = True, ""
        yield
        try:
            content = await files[0].read(svc.MAX_FIRMWARE_BYTES + 1)
            name = files[0].name or files[0].filename or "firmware.bin"
            try:
                org_id = int(self.organization_id)
            except ValueError:
                self.form_error = "Choose the organization the image is for."
                return
            version, certificate, signature = self.version, self.certificate, self.signature.strip()

            def work(session, user, scope):
                image = svc.add_firmware(session=session, scope=scope, organization_id=org_id, version=version,
                                         filename=name, content=content, signing_certificate=certificate,
                                         signature=signature)
                return image.id

            call = await self._call(work, cap=Cap.MANAGE_FIRMWARE, form=self._form_refused)
        finally:
            self.uploading = False
        if not call.ok:
            yield call.answer
            return
        self.version, self.certificate, self.signature, self.selected = "", "", "", str(call.value)
        await self._fetch()
        yield [rx.clear_selected_files("firmware"), rx.toast.success("Signature verified: the image is stored.")]

    @rx.event
    async def start_rollout(self):
        if not self.selected or not self.chosen:
            yield rx.toast.error("Choose at least one charger.")
            return
        if not all(v.isdigit() and len(v) < 10 for v in (self.selected, *self.chosen)):  # ids from the browser
            yield rx.toast.error("Choose a firmware image and chargers from the lists.")
            return
        image_id, ids = int(self.selected), [int(c) for c in self.chosen]
        self.starting = True
        yield
        try:
            call = await self._call(lambda s, u, scope: svc.start_rollout(
                session=s, scope=scope, firmware_id=image_id, charger_ids=ids, requested_by=u.id),
                cap=Cap.MANAGE_FIRMWARE)
        finally:
            self.starting = False
        if not call.ok:
            yield call.answer
            return
        self.chosen = []
        await self._fetch()
        yield rx.toast.success(f"Rollout started on {len(ids)} charger{'s' if len(ids) > 1 else ''}.")

    @rx.event(background=True)
    async def follow_live(self):
        async with self:
            self._generation += 1
            generation = self._generation
            token = self.router.session.client_token

        def accept(event: dict) -> bool:  # progress of a rollout; the fetch re-reads it in scope
            return event.get("type") == "signed_firmware_status"

        async def still_wanted() -> bool:
            async with self:
                return (self._generation == generation and self.router.route_id in ("", ROUTE)
                        and live.client_connected(token))

        async def apply(batch: list[dict]) -> None:
            async with self:
                await self._fetch()

        await live.follow(accept=accept, still_wanted=still_wanted, apply=apply)
