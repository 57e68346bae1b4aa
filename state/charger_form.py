"""The create/edit charger dialog, shared by the chargers table, the detail page and unknown chargers.

The server decides what the form may offer (organizations, tariffs and owners in scope) and checks
everything again in services.network.chargers when saving. A new AuthorizationKey is shown once, then dropped.
"""
from __future__ import annotations

import reflex as rx

from services.access.permissions import Cap
from services.network import chargers as svc
from state.base import AppState, record_id
from state.charger_detail import ChargerDetailState
from state.chargers import ChargersState
from state.unknown_chargers import UnknownChargersState

NONE = "none"  # a select's "no choice" (radix selects refuse empty values)


class ChargerFormState(AppState):
    open: bool = False
    editing_id: int = 0
    # The form's key: a new value re-mounts the inputs with fresh defaults.
    form_key: int = 0
    values: dict[str, str] = {}
    organization_id: str = ""
    tariff_id: str = NONE
    location_owner_id: str = NONE
    lifecycle_status: str = "Active"
    visible: bool = True
    error: str = ""
    error_field: str = ""
    saving: bool = False
    organizations: list[dict[str, str]] = []
    _tariffs: list[dict[str, str]] = []
    _owners: list[dict[str, str]] = []
    tariff_choices: list[dict[str, str]] = []
    owner_choices: list[dict[str, str]] = []
    # Shown once after create/regenerate; cleared when the dialog closes.
    new_key: str = ""
    new_key_charger: str = ""

    def _filter_choices(self) -> None:
        self.tariff_choices = [t for t in self._tariffs if t["org"] == self.organization_id]
        self.owner_choices = [o for o in self._owners if o["org"] == self.organization_id]

    async def _load_options(self):
        """The choices the form may offer; None when ready, else what to answer the browser."""
        call = await self._call(lambda s, u, scope: svc.form_options(session=s, scope=scope), cap=Cap.MANAGE_CHARGERS)
        if not call.ok:
            return call.answer
        o = call.value
        self.organizations = [{"id": str(c.id), "name": c.name} for c in o.organizations]
        self._tariffs = [{"id": str(c.id), "name": c.name, "org": str(c.organization_id)} for c in o.tariffs]
        self._owners = [{"id": str(c.id), "name": c.name, "org": str(c.organization_id)} for c in o.location_owners]
        return None

    def _refused_input(self, message: str, field: str) -> None:
        self.error, self.error_field = message, field

    def _reset(self, values: dict[str, str]) -> None:
        self.values = values
        self.error = self.error_field = ""
        self.form_key += 1
        self.open = True

    @rx.event
    async def open_new(self, ocpp_id: str = ""):
        if (answer := await self._load_options()) is not None:
            return answer
        self.editing_id = 0
        self.organization_id = self.organizations[0]["id"] if len(self.organizations) == 1 else ""
        if self.org_choice != "all" and any(o["id"] == self.org_choice for o in self.organizations):
            self.organization_id = self.org_choice
        self.tariff_id = self.location_owner_id = NONE
        self.lifecycle_status, self.visible = "Active", True
        self._filter_choices()
        self._reset({"ocpp_id": ocpp_id, "name": "", "address": "", "latitude": "", "longitude": "",
                     "connectors": "1"})

    @rx.event
    def close_on_load(self):
        """A fresh page starts with the dialog closed: a reload must not bring back a failed form."""
        self.open = self.saving = False
        self.error = self.error_field = self.new_key = self.new_key_charger = ""

    @rx.event
    async def open_from_link(self):
        """/chargers?new=<id> (from the unknown chargers list) opens the create form prefilled."""
        self.close_on_load()
        new = self.router.url.query_parameters.get("new")
        if new and (await self.get_state(ChargersState)).can_manage:
            return ChargerFormState.open_new(str(new))

    @rx.event
    async def open_edit(self, charger_id: int):
        if (answer := await self._load_options()) is not None:
            return answer
        call = await self._call(lambda s, u, scope: svc.charger_detail(session=s, scope=scope,
                                                                         charger_id=record_id(charger_id, "Charger")),
                                cap=Cap.MANAGE_CHARGERS)
        if not call.ok:
            return call.answer
        d = call.value
        c = d.charger
        self.editing_id = c.id
        self.organization_id = str(c.organization_id)
        self.tariff_id = str(c.tariff_id) if c.tariff_id else NONE
        self.location_owner_id = str(c.location_owner_id) if c.location_owner_id else NONE
        self.lifecycle_status, self.visible = c.lifecycle_status, c.visible
        self._filter_choices()
        self._reset({"ocpp_id": c.ocpp_id, "name": c.name, "address": c.address,
                     "latitude": "" if c.latitude is None else str(c.latitude),
                     "longitude": "" if c.longitude is None else str(c.longitude),
                     "connectors": str(len(d.connectors) or 1)})

    @rx.event
    def set_open(self, value: bool):
        self.open = value
        if not value:
            self.saving = False

    @rx.event
    def set_organization(self, value: str):
        # Tariffs and owners belong to one organization: changing it clears them.
        self.organization_id = value
        self.tariff_id = self.location_owner_id = NONE
        self._filter_choices()

    @rx.event
    def set_tariff(self, value: str):
        self.tariff_id = value

    @rx.event
    def set_owner(self, value: str):
        self.location_owner_id = value

    @rx.event
    def set_lifecycle(self, value: str | list[str]):
        self.lifecycle_status = value if isinstance(value, str) else (value[0] if value else "Active")

    @rx.event
    def set_visible(self, value: bool):
        self.visible = value

    @rx.event
    def close_key(self):
        self.new_key = self.new_key_charger = ""

    @rx.event
    async def save(self, form: dict):
        self.saving, self.error, self.error_field = True, "", ""
        yield
        fields = dict(name=form.get("name", ""), address=form.get("address", ""),
                      latitude=form.get("latitude", ""), longitude=form.get("longitude", ""),
                      connectors=form.get("connectors", ""), organization_id=self.organization_id or None,
                      tariff_id=None if self.tariff_id == NONE else self.tariff_id,
                      location_owner_id=None if self.location_owner_id == NONE else self.location_owner_id,
                      lifecycle_status=self.lifecycle_status, visible=self.visible)
        editing = self.editing_id

        def work(session, user, scope):
            if editing:
                c = svc.update_charger(session=session, scope=scope, user_id=user.id, charger_id=editing, **fields)
                return c.ocpp_id, None
            c, key = svc.create_charger(session=session, scope=scope, user_id=user.id,
                                        ocpp_id=form.get("ocpp_id", ""), **fields)
            return c.ocpp_id, key

        call = await self._call(work, cap=Cap.MANAGE_CHARGERS, form=self._refused_input)
        self.saving = False
        if not call.ok:
            yield call.answer
            return
        ocpp_id, key = call.value
        self.open = False
        if key:
            self.new_key, self.new_key_charger = key, ocpp_id
        yield rx.toast.success(f"Charger {ocpp_id} {'saved' if editing else 'registered'}.")
        yield _reload_for(self.router.route_id)

    @rx.event
    async def regenerate_key(self, charger_id: int):
        def work(session, user, scope):
            cid = record_id(charger_id, "Charger")
            key = svc.regenerate_auth_key(session=session, scope=scope, user_id=user.id, charger_id=cid)
            return key, svc.get_charger(session=session, scope=scope, charger_id=cid).ocpp_id

        call = await self._call(work, cap=Cap.MANAGE_CHARGERS)
        if not call.ok:
            return call.answer
        self.new_key, self.new_key_charger = call.value


def _reload_for(route: str):
    return {"/chargers": ChargersState.refresh, "/chargers/[id]": ChargerDetailState.refresh,
            "/unknown-chargers": UnknownChargersState.refresh}.get(route, ChargersState.refresh)
