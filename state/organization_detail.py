"""One organization's settings: profile, logo, billing, taxes, costs, commission contracts, tariffs, audit log.

Editing needs Cap.MANAGE_ORGANIZATIONS (tariffs: Cap.MANAGE_TARIFFS). The services check it; the
page only hides the buttons. A save sends the section's fields; every field's problem is shown
under it and nothing is saved until all are valid.
"""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import reflex as rx

from core.clock import utcnow
from core.config import get_settings
from core.errors import NotFound
from core.fmt import MISSING, percent, plain, when
from models.contract import ContractKind
from services.access import audit as audit_svc
from services.access import users as user_svc
from services.access.permissions import Cap
from services.billing import org_settings
from services.charging import contracts as contract_svc
from services.charging import tariffs as tariff_svc
from services.network import chargers as charger_svc
from state.base import ALL_ORGS, AppState, is_record_id
from state.organizations import KIND_LABELS

PROFILE_FIELDS = ("name", "legal_name", "address", "registration_number", "tax_number", "billing_email", "currency",
                  "timezone", "region")
BILLING_FIELDS = ("billing_cycle", "billing_day", "payment_terms_days", "vat_rate", "ssc_levy_rate",
                  "energy_cost_per_kwh", "gateway_fee_percent", "gateway_fee_fixed", "platform_commission_rate")
TARIFF_TEXT = ("name", "price_per_kwh", "price_per_minute", "session_fee", "idle_fee_per_minute",
               "idle_grace_minutes")
FIELD_LABELS = {
    "name": "Name", "legal_name": "Legal name", "address": "Address", "registration_number": "Registration number",
    "tax_number": "Tax number", "billing_email": "Billing email", "currency": "Currency", "timezone": "Timezone",
    "region": "Region", "billing_cycle": "Billing cycle", "billing_day": "Billing day",
    "payment_terms_days": "Payment terms (days)", "vat_rate": "VAT rate (%)", "ssc_levy_rate": "SSC levy rate (%)",
    "gateway_fee_percent": "Gateway charge (%)", "gateway_fee_fixed": "Gateway fixed fee",
    "energy_cost_per_kwh": "Energy cost per kWh", "platform_commission_rate": "Platform commission (%)",
    "logo_path": "Logo", "rate": "Rate (%)", "kind": "Kind", "location_owner_id": "Location owner",
    "charger_id": "Charger", "effective_from": "Effective from", "price_per_kwh": "Price per kWh",
    "price_per_minute": "Price per minute", "session_fee": "Session fee", "idle_fee_per_minute": "Idle fee per minute",
    "idle_grace_minutes": "Idle grace (min)", "vat_inclusive": "VAT inclusive", "bands": "Time-of-day bands",
    "is_default": "Default tariff", "tariff_id": "Tariff",
    "ocpp_id": "Charger id (OCPP)", "organization_id": "Organization", "lifecycle_status": "Lifecycle status",
    "latitude": "Latitude", "longitude": "Longitude", "connectors": "Connectors", "visible": "Visible on dashboards",
    "auth_key": "AuthorizationKey", "email": "Email", "role": "Role", "status": "Status", "full_name": "Full name",
}
ACTION_LABELS = {
    ("organization", "update"): "Settings changed", ("organization", "set_logo"): "Logo uploaded",
    ("commission_contract", "create"): "Commission contract added", ("tariff", "create"): "Tariff created",
    ("tariff", "update"): "Tariff changed", ("charger", "assign_tariff"): "Charger tariff assigned",
    ("charger", "create"): "Charger registered", ("charger", "update"): "Charger changed",
    ("charger", "regenerate_key"): "AuthorizationKey regenerated",
    ("charger", "assign_owner"): "Location owner assigned",
}
DECIMAL_RE = re.compile(r"^-?\d+\.\d+$")
EMPTY_BAND = {"start": "", "end": "", "price_per_kwh": ""}


def _text(value: Any) -> str:
    if value is None or value == "":
        return MISSING
    if isinstance(value, list):
        return "; ".join(_text(v) for v in value) or MISSING
    if isinstance(value, dict):
        if {"start", "end", "price_per_kwh"} <= value.keys():
            return f"{value['start']}–{value['end']} at {value['price_per_kwh']}"
        return ", ".join(f"{k}: {_text(v)}" for k, v in value.items())
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, str) and DECIMAL_RE.match(value):
        return plain(Decimal(value))  # "18.000" and "18" are the same rate
    return str(value)


def _shown(e: audit_svc.AuditRow, key: str, value: Any) -> str:
    """An id field shows the name it points to (a row deleted since shows its id); anything else as text."""
    if key in audit_svc.NAMED_IDS and value:
        return e.names.get(f"{key}:{value}", f"#{value}")
    return _text(value)


def audit_rows(entries: list[audit_svc.AuditRow], tz: str) -> list[dict[str, str]]:
    """One row per changed field: when, who, what, field, old → new."""
    out = []
    for e in entries:
        at = when(e.created_at, tz)
        what = ACTION_LABELS.get((e.entity, e.action), f"{e.entity} {e.action}".replace("_", " ").capitalize())
        for key, change in (e.changes or {}).items():
            if isinstance(change, dict) and {"old", "new"} <= change.keys():
                old, new = _shown(e, key, change["old"]), _shown(e, key, change["new"])
            else:
                old, new = "", _shown(e, key, change)
            out.append({"id": str(e.id), "when": at, "who": e.user_email or "System", "what": what,
                        "field": FIELD_LABELS.get(key, key), "old": old, "new": new})
    return out


class OrganizationDetailState(AppState):
    loading: bool = False
    not_found: bool = False
    org: dict[str, str] = {}
    can_edit: bool = False
    can_edit_tariffs: bool = False
    errors: dict[str, str] = {}
    notice: str = ""  # the section's result: which save failed
    saving: str = ""
    logo_error: str = ""

    tariffs: list[dict[str, str]] = []
    contracts: list[dict[str, str]] = []
    audit: list[dict[str, str]] = []
    target_options: list[dict[str, str]] = []

    c_kind: str = "platform"
    c_target: str = ""

    t_open: bool = False
    t_id: int = 0  # 0: a new tariff
    t_fields: dict[str, str] = {}
    t_vat_inclusive: bool = False
    t_default: bool = False
    t_bands: list[dict[str, str]] = []
    t_errors: dict[str, str] = {}
    _tariff_rows: dict[int, tariff_svc.TariffRow] = {}

    @rx.var
    def logo_url(self) -> str:
        if not self.org.get("logo_path"):
            return ""
        # The stored name changes with the content, so it busts the browser's cache.
        return f"/api/v1/organizations/{self.org['id']}/logo?v={self.org['logo_path'].rsplit('-', 1)[-1]}"

    @rx.var
    def today(self) -> str:
        tz = self.org.get("timezone") or "UTC"
        try:
            return utcnow().astimezone(ZoneInfo(tz)).date().isoformat()
        except (KeyError, ValueError):
            return utcnow().date().isoformat()

    def _org_id(self) -> int | None:
        tail = self.router.url.path.rstrip("/").rsplit("/", 1)[-1]
        return int(tail) if tail.isdigit() else None

    # ------------------------------------------------------------ loading

    def _snapshot(self, session, scope, org_id: int) -> dict[str, Any]:
        d = org_settings.detail(session=session, scope=scope, org_id=org_id)
        owners = [o for o in user_svc.list_location_owners(session=session, scope=scope)
                  if o.organization_id == org_id]
        chargers, _ = charger_svc.list_chargers(session=session, scope=scope.narrowed(org_id), limit=500)
        return dict(
            detail=d,
            tariffs=tariff_svc.list_tariffs(session=session, scope=scope, organization_id=org_id),
            contracts=contract_svc.list_contracts(session=session, scope=scope, organization_id=org_id),
            audit=org_settings.audit_trail(session=session, scope=scope, org_id=org_id, limit=200),
            owners=[(o.id, o.name) for o in owners],
            chargers=[(c.id, c.ocpp_id) for c in chargers if c.organization_id == org_id],
            can_edit=scope.can(Cap.MANAGE_ORGANIZATIONS), can_edit_tariffs=scope.can(Cap.MANAGE_TARIFFS),
        )

    def _show(self, snap: dict[str, Any]) -> None:
        d: org_settings.OrgDetail = snap["detail"]
        org = {k: ("" if v is None else (plain(v) if isinstance(v, Decimal) else str(v)))
               for k, v in vars(d).items()}
        org["kind_label"] = KIND_LABELS.get(d.kind, d.kind)
        self.org = org
        self.can_edit, self.can_edit_tariffs = snap["can_edit"], snap["can_edit_tariffs"]
        names = {f"owner:{i}": n for i, n in snap["owners"]} | {f"charger:{i}": n for i, n in snap["chargers"]}
        self.target_options = [{"value": k, "label": ("Location owner: " if k.startswith("owner") else "Charger: ")
                                + n} for k, n in names.items()]
        self.contracts = [{
            "id": str(c.id),
            "kind": "Platform" if c.kind == ContractKind.PLATFORM else "Location owner",
            "applies_to": "Whole organization" if c.kind == ContractKind.PLATFORM else names.get(
                f"owner:{c.location_owner_id}" if c.location_owner_id else f"charger:{c.charger_id}", MISSING),
            "rate": percent(c.rate),
            "effective": when(c.effective_from, d.timezone),
            "in_future": "yes" if c.effective_from > utcnow() else "",
            "note": c.note or "",
        } for c in snap["contracts"]]
        self.tariffs = [{
            "id": str(t.id), "name": t.name, "default": "yes" if t.is_default else "",
            "price_per_kwh": plain(t.price_per_kwh), "price_per_minute": plain(t.price_per_minute),
            "session_fee": plain(t.session_fee),
            "idle": f"{plain(t.idle_fee_per_minute)}/min after {t.idle_grace_minutes} min",
            "bands": _text(t.bands) if t.bands else "None",
            "vat": "Inclusive" if t.vat_inclusive else "Exclusive",
        } for t in snap["tariffs"]]
        self._tariff_rows = {t.id: t for t in snap["tariffs"]}
        self.audit = audit_rows(snap["audit"], d.timezone)

    @rx.event
    async def load(self):
        org_id = self._org_id()
        if self.org_choice != ALL_ORGS and self.org_choice != str(org_id):
            # The switcher narrows to one organization: on this page that means opening its settings.
            yield rx.redirect(f"/organizations/{self.org_choice}")
            return
        self.loading, self.not_found, self.org = True, False, {}
        self.errors, self.notice, self.logo_error, self.t_open = {}, "", "", False
        yield

        def work(session, user, scope):
            if org_id is None:
                raise NotFound("Organization not found.")
            return self._snapshot(session, scope, org_id)

        call = await self._call(work, cap=Cap.VIEW_ORGANIZATIONS)
        self.loading = False
        if not call.ok:
            yield call.answer
            return
        self._show(call.value)

    def _logo_refused(self, message: str, field: str) -> None:
        self.logo_error = message

    def _contract_refused(self, message: str, field: str) -> None:
        key = {"location_owner_id": "c_target", "charger_id": "c_target"}.get(field, f"c_{field}")
        self.errors = {key: message}

    def _tariff_refused(self, message: str, field: str) -> None:
        self.t_errors = {field or "form": message}

    def _loaded_org_id(self) -> int | None:
        """The page's organization, or None when it did not load (not found, or not the user's): then the
        page's actions have nothing to act on, whatever the browser sends."""
        return int(self.org["id"]) if self.org.get("id") else None

    # ------------------------------------------------------------ settings sections

    async def _save(self, section: str, form: dict[str, Any], keys: tuple[str, ...]):
        org_id = self._loaded_org_id()
        if org_id is None:
            return
        changes = {k: form[k] for k in keys if k in form}

        def work(session, user, scope):
            errors = org_settings.field_errors(session=session, scope=scope, org_id=org_id, changes=changes)
            if errors:
                return errors, None
            org_settings.update_organization(session=session, scope=scope, user_id=user.id, org_id=org_id,
                                             changes=changes)
            return {}, self._snapshot(session, scope, org_id)

        self.saving = section
        yield
        call = await self._call(work, cap=Cap.MANAGE_ORGANIZATIONS)
        self.saving = ""
        if not call.ok:
            yield call.answer
            return
        errors, snap = call.value
        self.errors = errors
        if errors:
            self.notice = section
            yield rx.toast.error("Nothing was saved. Please correct the highlighted fields.")
            return
        self.notice = ""
        self._show(snap)
        yield rx.toast.success("Saved.")

    @rx.event
    async def save_profile(self, form: dict[str, Any]):
        async for update in self._save("profile", form, PROFILE_FIELDS):
            yield update

    @rx.event
    async def save_billing(self, form: dict[str, Any]):
        async for update in self._save("billing", form, BILLING_FIELDS):
            yield update

    @rx.event
    async def upload_logo(self, files: list[rx.UploadFile]):
        if not files:
            self.logo_error = "Choose an image file first."
            return
        # The caller first, then at most one byte past the limit (set_logo says why it is refused):
        # an anonymous or oversized upload is never read whole.
        allowed = await self._call(None, cap=Cap.MANAGE_ORGANIZATIONS, form=self._logo_refused)
        if not allowed.ok:
            yield allowed.answer
            return
        org_id = self._loaded_org_id()
        if org_id is None:
            return
        data = await files[0].read(get_settings().logo_max_bytes + 1)

        def work(session, user, scope):
            org_settings.set_logo(session=session, scope=scope, user_id=user.id, org_id=org_id, data=data)
            return self._snapshot(session, scope, org_id)

        call = await self._call(work, cap=Cap.MANAGE_ORGANIZATIONS, form=self._logo_refused)
        if not call.ok:
            yield call.answer
            return
        self.logo_error = ""
        self._show(call.value)
        yield [rx.clear_selected_files("logo"), rx.toast.success("Logo updated.")]

    # ------------------------------------------------------------ commission contracts

    @rx.event
    def set_c_kind(self, value: str):
        self.c_kind = value if value in ("platform", "location_owner") else "platform"

    @rx.event
    def set_c_target(self, value: str):
        self.c_target = value

    @rx.event
    async def add_contract(self, form: dict[str, Any]):
        org_id, kind, target = self._loaded_org_id(), self.c_kind, self.c_target
        if org_id is None:
            return
        owner_id = charger_id = None
        if kind == ContractKind.LOCATION_OWNER:
            if not target:
                self.errors = {"c_target": "Choose a location owner or a charger."}
                return
            what, _, ident = target.partition(":")
            if not ident.isdigit() or len(ident) > 9:  # from the browser: "owner:<id>" or "charger:<id>"
                self.errors = {"c_target": "Choose a location owner or a charger."}
                return
            owner_id, charger_id = (int(ident), None) if what == "owner" else (None, int(ident))
        raw_day = (form.get("effective_on") or "").strip()
        try:
            effective_on = date.fromisoformat(raw_day) if raw_day else None
        except ValueError:
            self.errors = {"c_effective_on": "Enter a date like 2026-03-31."}
            return

        def work(session, user, scope):
            contract_svc.add_contract(session=session, scope=scope, user_id=user.id, organization_id=org_id,
                                      kind=kind, rate=form.get("rate", ""), effective_on=effective_on,
                                      location_owner_id=owner_id, charger_id=charger_id,
                                      note=form.get("note", ""))
            return self._snapshot(session, scope, org_id)

        self.saving = "contract"
        yield
        call = await self._call(work, cap=Cap.MANAGE_ORGANIZATIONS, form=self._contract_refused)
        self.saving = ""
        if not call.ok:
            yield call.answer
            return
        self.errors = {}
        self._show(call.value)
        yield [rx.set_value("c_rate", ""), rx.set_value("c_note", ""), rx.toast.success("Contract added.")]

    # ------------------------------------------------------------ tariffs

    @rx.event
    def new_tariff(self):
        self.t_id, self.t_errors = 0, {}
        self.t_fields = {"name": "", "price_per_kwh": "0", "price_per_minute": "0", "session_fee": "0",
                         "idle_fee_per_minute": "0", "idle_grace_minutes": "0"}
        self.t_vat_inclusive, self.t_default, self.t_bands = True, not self.tariffs, []
        self.t_open = True

    @rx.event
    def edit_tariff(self, tariff_id: str):
        t = self._tariff_rows.get(int(tariff_id)) if is_record_id(tariff_id) else None
        if t is None:
            return
        self.t_id, self.t_errors = t.id, {}
        self.t_fields = {"name": t.name, "price_per_kwh": plain(t.price_per_kwh),
                         "price_per_minute": plain(t.price_per_minute), "session_fee": plain(t.session_fee),
                         "idle_fee_per_minute": plain(t.idle_fee_per_minute),
                         "idle_grace_minutes": str(t.idle_grace_minutes)}
        self.t_vat_inclusive, self.t_default = t.vat_inclusive, t.is_default
        self.t_bands = [{"start": b["start"], "end": b["end"], "price_per_kwh": str(b["price_per_kwh"])}
                        for b in t.bands]
        self.t_open = True

    @rx.event
    def set_t_open(self, value: bool):
        self.t_open = value

    @rx.event
    def set_t_field(self, key: str, value: str):
        if key in TARIFF_TEXT:
            self.t_fields[key] = value

    @rx.event
    def set_t_vat_inclusive(self, value: bool):
        self.t_vat_inclusive = bool(value)

    @rx.event
    def set_t_default(self, value: bool):
        self.t_default = bool(value)

    @rx.event
    def add_band(self):
        self.t_bands = [*self.t_bands, dict(EMPTY_BAND)]

    @rx.event
    def remove_band(self, index: int):
        self.t_bands = [b for i, b in enumerate(self.t_bands) if i != index]

    @rx.event
    def set_band(self, index: int, key: str, value: str):
        if 0 <= index < len(self.t_bands) and key in EMPTY_BAND:
            bands = [dict(b) for b in self.t_bands]
            bands[index][key] = value
            self.t_bands = bands

    @rx.event
    async def save_tariff(self):
        org_id, tariff_id = self._loaded_org_id(), self.t_id
        if org_id is None:
            return
        fields: dict[str, Any] = {k: self.t_fields.get(k, "") for k in TARIFF_TEXT}
        fields["vat_inclusive"] = self.t_vat_inclusive
        fields["bands"] = [dict(b) for b in self.t_bands]
        if self.t_default:
            fields["is_default"] = True  # an organization keeps one default: only ever switched on

        def work(session, user, scope):
            if tariff_id:
                tariff_svc.update_tariff(session=session, scope=scope, user_id=user.id, tariff_id=tariff_id,
                                         **fields)
            else:
                tariff_svc.create_tariff(session=session, scope=scope, user_id=user.id, organization_id=org_id,
                                         **fields)
            return self._snapshot(session, scope, org_id)

        self.saving = "tariff"
        yield
        call = await self._call(work, cap=Cap.MANAGE_TARIFFS, form=self._tariff_refused)
        self.saving = ""
        if not call.ok:
            yield call.answer
            return
        self.t_errors, self.t_open = {}, False
        self._show(call.value)
        yield rx.toast.success("Tariff saved.")
