"""The Clients page (operator staff): clients with usage against limits and their own numbers, Add New
Client, and view-as-client. The client page's keys, chargers and App Builder are in state/client_detail.py."""
from __future__ import annotations

import reflex as rx

from core.fmt import kwh
from core.mail import MailError
from models.organization import Region
from services.access.permissions import Cap
from services.clients import clients as svc
from state.base import AppState
from state.nav import HOME


def usage(u: svc.Usage) -> str:
    return f"{u.used} / {u.limit}" if u.limit is not None else f"{u.used} / no limit"


class ClientsState(AppState):
    rows: list[dict[str, str]] = []
    loading: bool = False
    dialog_open: bool = False
    form_error: str = ""
    saving: bool = False
    region: str = Region.EU.value
    regions: list[str] = [r.value for r in Region]

    @rx.event
    async def load(self):
        self.loading = True
        yield

        def work(session, user, scope):
            return svc.list_clients(session=session, scope=scope)

        call = await self._call(work, cap=Cap.MANAGE_CLIENTS)
        self.loading = False
        if not call.ok:
            yield call.answer
            return
        self.rows = [{
            "id": str(c.id), "name": c.name, "slug": c.slug, "region": c.region, "currency": c.currency,
            "chargers": usage(c.chargers), "users": usage(c.users), "api_calls": usage(c.api_calls),
            "keys": str(c.api_keys), "online": str(sum(n for s, n in c.status_counts.items() if s != "Offline")),
            "faulted": str(c.status_counts.get("Faulted", 0)), "offline": str(c.status_counts.get("Offline", 0)),
            "sessions": str(c.sessions_month), "energy": kwh(c.energy_kwh_month),
        } for c in call.value]

    @rx.event
    def set_dialog_open(self, value: bool):
        self.dialog_open, self.form_error = value, ""

    @rx.event
    def set_region(self, value: str):
        self.region = value

    def _form_refused(self, message: str, field: str) -> None:
        self.form_error = message

    @rx.event
    async def create(self, form: dict[str, str]):
        self.form_error, self.saving = "", True
        yield
        region = self.region

        def work(session, user, scope):
            legal = {k: form.get(k, "") for k in svc.LEGAL_FIELDS}
            return svc.create_client(session=session, scope=scope, name=form.get("name", ""),
                                     slug=form.get("slug", ""), currency=form.get("currency", ""),
                                     timezone=form.get("timezone", ""), region=region,
                                     admin_email=form.get("admin_email", ""),
                                     admin_name=form.get("admin_name", ""), **legal)

        try:
            call = await self._call(work, cap=Cap.MANAGE_CLIENTS, form=self._form_refused)
        except MailError as exc:
            self.saving, self.form_error = False, f"{exc} Nothing was saved; try again."
            return
        self.saving = False
        if not call.ok:
            yield call.answer
            return
        self.dialog_open = False
        yield rx.toast.success(call.value.message)
        async for update in self.load():
            yield update

    @rx.event
    async def view_as_client(self, org_id: str):
        """Open the client's dashboard read-only; the service writes the view to the audit log."""
        def work(session, user, scope):
            svc.view_as_client(session=session, scope=scope, user_id=user.id,
                               organization_id=int(org_id) if org_id.isdigit() else 0)
            return next((r["name"] for r in self.rows if r["id"] == org_id), "the client")

        call = await self._call(work, cap=Cap.MANAGE_CLIENTS)
        if not call.ok:
            return call.answer
        self._view_as, self.view_as_name = org_id, call.value
        return rx.redirect(HOME)

    @rx.event
    def exit_view(self):
        self._view_as, self.view_as_name = "", ""
        return rx.redirect("/clients")
