"""The charger detail page: live connectors, boot data, history, recent sessions, configuration, actions.

Remote actions go through the command channel (services.ocpp.commands.send_command), which checks
Cap.COMMAND_CHARGERS and the scope again and waits for the charger's answer in a worker thread.
"""
from __future__ import annotations

import json

import reflex as rx

from core.fmt import MISSING, kwh, when
from core.money import format_money
from services.access.permissions import Cap
from services.network import chargers as svc
from services.ocpp.commands import send_command
from state import live
from state.base import AppState

ROUTE = "/chargers/[id]"
RESET_TYPES = ["Soft", "Hard"]
AVAILABILITY = ["Operative", "Inoperative"]
TRIGGERS = ["BootNotification", "Heartbeat", "StatusNotification", "MeterValues", "DiagnosticsStatusNotification",
            "FirmwareStatusNotification"]


class ChargerDetailState(AppState):
    not_found: bool = False
    charger_id: int = 0
    info: dict[str, str] = {}
    connectors: list[dict[str, str]] = []
    history: list[dict[str, str]] = []
    transactions: list[dict[str, str]] = []
    configuration: list[dict[str, str]] = []
    configuration_at: str = ""
    can_manage: bool = False
    can_command: bool = False
    loading: bool = False

    # Remote actions: the form values and the last answer.
    busy: str = ""
    answer_action: str = ""
    answer_ok: bool = True
    answer_text: str = ""
    connector_choice: str = "1"
    reset_type: str = "Soft"
    availability: str = "Operative"
    trigger: str = "StatusNotification"
    id_tag: str = ""
    transaction_id: str = ""
    config_key: str = ""
    config_value: str = ""

    _generation: int = 0

    async def _fetch(self) -> object:
        cid = self.charger_id

        def work(session, user, scope):
            return (svc.charger_detail(session=session, scope=scope, charger_id=cid),
                    scope.can(Cap.MANAGE_CHARGERS), scope.can(Cap.COMMAND_CHARGERS))

        call = await self._call(work, cap=Cap.VIEW_CHARGERS)
        if not call.ok:
            return call.answer
        d, self.can_manage, self.can_command = call.value
        c, tz = d.charger, d.timezone
        self.not_found = False
        self.info = {
            "id": str(c.id), "ocpp_id": c.ocpp_id, "name": c.name, "organization": d.organization_name,
            "address": c.address or MISSING, "status": c.status, "lifecycle": c.lifecycle_status,
            "visible": "Visible" if c.visible else "Hidden", "connected": "Connected" if c.connected else "Offline",
            "vendor": c.vendor or MISSING, "model": c.model or MISSING, "serial": c.serial_number or MISSING,
            "firmware": c.firmware_version or MISSING, "heartbeat": when(c.last_heartbeat_at, tz),
            "boot": when(c.last_boot_at, tz), "tariff": d.tariff_name or "Organization default",
            "owner": d.location_owner_name or MISSING, "security": f"Profile {c.security_profile}",
            "coordinates": MISSING if c.latitude is None else f"{c.latitude}, {c.longitude}",
        }
        self.connectors = [{"id": str(k.connector_id), "status": k.status, "error": k.error_code or "",
                            "standard": k.standard, "power": f"{k.max_power_kw} kW" if k.max_power_kw else MISSING,
                            "since": when(k.status_at, tz)} for k in d.connectors]
        self.history = [{"at": when(h.received_at, tz), "connector": "Charger" if h.connector_id == 0 else
                         f"Connector {h.connector_id}", "status": h.status,
                         "error": "" if h.error_code in (None, "NoError") else h.error_code,
                         "info": h.info or ""} for h in d.history]
        self.transactions = [{"id": str(t.id), "connector": str(t.connector_id), "id_tag": t.id_tag,
                              "started": when(t.started_at, tz), "stopped": when(t.stopped_at, tz),
                              "status": t.status, "kwh": kwh(t.energy_kwh, unit=False),
                              "amount": format_money(t.amount_gross, t.currency)} for t in d.transactions]
        self.configuration = [{"key": r["key"], "value": str(r["value"]),
                               "readonly": "Read-only" if r["readonly"] else "Writable"} for r in d.configuration]
        self.configuration_at = when(d.configuration_at, tz) if d.configuration_at else ""
        return None

    @rx.event
    async def load(self):
        try:
            self.charger_id = int(self.router.url.path.rstrip("/").rsplit("/", 1)[-1])
        except (TypeError, ValueError):
            self.charger_id = 0
        self.loading, self.answer_text, self.answer_action = True, "", ""
        yield
        try:
            answer = await self._fetch()
        finally:
            self.loading = False
        if answer is not None:
            yield answer
            return
        if not self.not_found and not self.denied:
            yield ChargerDetailState.follow_live

    @rx.event
    async def refresh(self):
        yield await self._fetch()

    # --- remote actions ----------------------------------------------------------------------------------

    @rx.event
    def set_field(self, name: str, value: str):
        if name in ("connector_choice", "reset_type", "availability", "trigger", "id_tag", "transaction_id",
                    "config_key", "config_value"):
            setattr(self, name, value)

    async def _command(self, action: str, payload: dict):
        self.busy, self.answer_action, self.answer_text = action, action, ""
        yield
        cid = self.charger_id

        def work(session, user, scope):
            session.commit()  # give the pooled connection back: the wait holds none
            return send_command(engine=session.get_bind(), scope=scope, charger_id=cid, action=action,
                                payload=payload, requested_by=user.id)

        try:
            call = await self._call(work, cap=Cap.COMMAND_CHARGERS, form=self._command_refused)
        except ImportError:
            self.answer_ok, self.answer_text = False, "Remote actions need the OCPP server, which is not installed."
            return
        finally:
            self.busy = ""
        if not call.ok:
            yield call.answer
            return
        result = call.value
        self.answer_ok = result.status == "done"
        if self.answer_ok:
            self.answer_text = json.dumps(result.result or {}, indent=1)
            if action == "GetConfiguration":
                yield ChargerDetailState.refresh
        else:
            self.answer_text = result.error or "The charger refused."

    def _command_refused(self, message: str, field: str) -> None:
        self.answer_ok, self.answer_text = False, message

    def _connector(self) -> int:
        try:
            return int(self.connector_choice)
        except ValueError:
            return 1

    @rx.event
    async def reset_charger(self):
        async for u in self._command("Reset", {"type": self.reset_type}):
            yield u

    @rx.event
    async def unlock(self):
        async for u in self._command("UnlockConnector", {"connectorId": self._connector()}):
            yield u

    @rx.event
    async def change_availability(self):
        async for u in self._command("ChangeAvailability", {"connectorId": self._connector(),
                                                            "type": self.availability}):
            yield u

    @rx.event
    async def remote_start(self):
        async for u in self._command("RemoteStartTransaction", {"connectorId": self._connector(),
                                                                "idTag": self.id_tag.strip()}):
            yield u

    @rx.event
    async def remote_stop(self):
        try:
            tx = int(self.transaction_id)
        except ValueError:
            self.answer_action, self.answer_ok = "RemoteStopTransaction", False
            self.answer_text = "Enter the transaction id to stop (a number)."
            return
        async for u in self._command("RemoteStopTransaction", {"transactionId": tx}):
            yield u

    @rx.event
    async def trigger_message(self):
        async for u in self._command("TriggerMessage", {"requestedMessage": self.trigger}):
            yield u

    @rx.event
    async def get_configuration(self):
        async for u in self._command("GetConfiguration", {}):
            yield u

    @rx.event
    async def change_configuration(self):
        async for u in self._command("ChangeConfiguration", {"key": self.config_key.strip(),
                                                             "value": self.config_value}):
            yield u

    # --- live ---------------------------------------------------------------------------------------------

    @rx.event(background=True)
    async def follow_live(self):
        await live.follow_charger(self, ROUTE)
