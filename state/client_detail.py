"""One client for the operator: assign chargers (multi-select), usage limits, API keys (create shown once,
rotate with a grace period after a warning, revoke) and the App Builder with its preview."""
from __future__ import annotations

from datetime import UTC, datetime

import reflex as rx

from core.errors import ValidationError
from core.fmt import when
from services.access import api_keys as key_svc
from services.access import limits as limit_svc
from services.access.permissions import CLIENT_CAPS, Cap
from services.clients import app_config as app_svc
from services.clients import assets as asset_svc
from services.clients import clients as svc
from services.network import chargers as charger_svc
from state.base import AppState

GRACE_LABELS = {"none": "None (stops at once)", "1h": "1 hour", "1d": "1 day", "7d": "7 days"}
SCOPE_CHOICES = sorted(c.value for c in CLIENT_CAPS)


def _opt_int(value: str, field: str) -> int | None:
    value = (value or "").strip()
    if not value:
        return None
    if not value.isdigit() or len(value) > 9:
        raise ValidationError(f"{field.replace('_', ' ').capitalize()} must be a whole number, or empty.", field)
    return int(value)


class ClientDetailState(AppState):
    client: dict[str, str] = {}
    not_found: bool = False
    chargers: list[dict[str, str]] = []
    selected: list[str] = []
    limits: dict[str, str] = {}
    keys: list[dict[str, str]] = []
    new_secret: str = ""
    key_scopes: list[str] = ["view_chargers"]
    scope_choices: list[str] = SCOPE_CHOICES
    key_dialog: bool = False
    key_error: str = ""
    rotate_id: str = ""
    rotate_name: str = ""
    rotate_grace: str = "1h"
    rotate_uses: list[dict[str, str]] = []
    grace_choices: list[str] = list(GRACE_LABELS)
    app: dict[str, str] = {}
    features: list[dict[str, str]] = []
    app_key: str = ""
    app_error: str = ""
    # Assign apps and fleets: other clients' branded apps, and fleets (business accounts) of other organizations.
    app_choices: list[dict[str, str]] = []
    fleet_choices: list[dict[str, str]] = []
    fleets_here: list[dict[str, str]] = []
    chosen_app: str = ""
    chosen_fleet: str = ""

    def _org_id(self) -> int:
        tail = self.router.url.path.rstrip("/").rsplit("/", 1)[-1]
        return int(tail) if tail.isdigit() and len(tail) < 10 else 0

    @rx.var
    def rotating(self) -> bool:
        return self.rotate_id != ""

    @rx.event
    async def load(self):
        org_id = self._org_id()

        def work(session, user, scope):
            row = svc.get_client(session=session, scope=scope, organization_id=org_id)
            chargers, _ = charger_svc.list_chargers(session=session, scope=scope, limit=500)
            keys = key_svc.list_keys(session=session, scope=scope, organization_id=org_id)
            app = app_svc.get_config(session=session, scope=scope, organization_id=org_id)
            apps = asset_svc.list_apps(session=session, scope=scope)
            fleets = asset_svc.list_fleets(session=session, scope=scope)
            return row, chargers, keys, app, limit_svc.limits_of(session, org_id), apps, fleets

        call = await self._call(work, cap=Cap.MANAGE_CLIENTS)
        if not call.ok:
            return call.answer
        row, chargers, keys, app, lim, apps, fleets = call.value
        self.app_choices = [{"id": str(a.organization_id), "label": f"{a.app_name} ({a.organization_name})"}
                            for a in apps if a.organization_id != row.id]
        self.fleet_choices = [{"id": str(f.id), "label": f"{f.name} ({f.organization_name}, {f.users} app users)"}
                              for f in fleets if f.organization_id != row.id]
        self.fleets_here = [{"id": str(f.id), "name": f.name, "subs": str(f.sub_accounts), "users": str(f.users)}
                            for f in fleets if f.organization_id == row.id]
        self.chosen_app = self.chosen_fleet = ""
        self.not_found = False
        self.client = {"id": str(row.id), "name": row.name, "region": row.region, "currency": row.currency,
                       "chargers": f"{row.chargers.used}", "users": f"{row.users.used}"}
        self.chargers = [{"id": str(c.id), "ocpp_id": c.ocpp_id, "name": c.name, "org": c.organization_name,
                          "here": "yes" if c.organization_id == row.id else ""} for c in chargers]
        self.selected = []
        self.limits = {k: "" if getattr(lim, k) is None else str(getattr(lim, k)) for k in limit_svc.LIMIT_FIELDS}
        self.keys = [{"id": str(k.id), "name": k.name, "prefix": k.prefix, "last_four": k.last_four,
                      "scopes": ", ".join(k.scopes), "status": k.status, "created": when(k.created_at),
                      "last_used": f"{when(k.last_used_at)} · {k.last_used_ip}" if k.last_used_at else "never",
                      "expires": when(k.expires_at) if k.expires_at else "no expiry"} for k in keys]
        self.app = {k: "" if getattr(app, k) is None else str(getattr(app, k)) for k in
                    ("app_name", "logo_url", "primary_color", "accent_color", "support_email", "support_phone",
                     "support_url", "terms_url", "privacy_url")}
        self.features = [{"key": k, "label": label, "on": "on" if app.features.get(k) else ""}
                         for k, label in app_svc.FEATURES.items()]
        self.app_key = str(app.api_key_id or "")

    # --- chargers -------------------------------------------------------------------------------------

    @rx.event
    def toggle_charger(self, charger_id: str, on: bool):
        self.selected = [c for c in self.selected if c != charger_id] + ([charger_id] if on else [])

    @rx.event
    async def assign(self):
        org_id, ids = self._org_id(), [int(c) for c in self.selected if c.isdigit() and len(c) < 10]

        def work(session, user, scope):
            return svc.assign_chargers(session=session, scope=scope, user_id=user.id, organization_id=org_id,
                                       charger_ids=ids)

        call = await self._call(work, cap=Cap.MANAGE_CLIENTS)
        if not call.ok:
            return call.answer
        return [ClientDetailState.load, rx.toast.success(f"{call.value} charger(s) assigned to {self.client['name']}.")]

    # --- apps and fleets ------------------------------------------------------------------------------

    @rx.event
    def set_chosen_app(self, value: str):
        self.chosen_app = value

    @rx.event
    def set_chosen_fleet(self, value: str):
        self.chosen_fleet = value

    @rx.event
    async def assign_app(self):
        org_id, chosen = self._org_id(), self.chosen_app

        def work(session, user, scope):
            return asset_svc.assign_app(session=session, scope=scope, user_id=user.id, organization_id=org_id,
                                        from_organization_id=_opt_int(chosen, "app") or 0)

        call = await self._call(work, cap=Cap.MANAGE_CLIENTS)
        if not call.ok:
            return call.answer
        return [ClientDetailState.load, rx.toast.success(
            f"App {call.value.app_name} linked to {self.client['name']}. Choose one of its keys for it below.")]

    @rx.event
    async def assign_fleet(self):
        org_id, chosen = self._org_id(), self.chosen_fleet

        def work(session, user, scope):
            return asset_svc.assign_fleet(session=session, scope=scope, user_id=user.id, organization_id=org_id,
                                          account_id=_opt_int(chosen, "fleet") or 0)

        call = await self._call(work, cap=Cap.MANAGE_CLIENTS)
        if not call.ok:
            return call.answer
        return [ClientDetailState.load, rx.toast.success(
            f"Fleet moved to {self.client['name']} with {call.value} app user(s). Its past sessions stay where "
            "they were earned.")]

    # --- limits -----------------------------------------------------------------------------------------

    @rx.event
    async def save_limits(self, form: dict[str, str]):
        org_id = self._org_id()

        def work(session, user, scope):
            changes = {k: _opt_int(form.get(k, ""), k) for k in limit_svc.LIMIT_FIELDS}
            return limit_svc.set_limits(session=session, scope=scope, user_id=user.id, organization_id=org_id,
                                        changes=changes)

        call = await self._call(work, cap=Cap.MANAGE_CLIENTS)
        if not call.ok:
            return call.answer
        return [ClientDetailState.load, rx.toast.success("Usage limits saved.")]

    # --- API keys ---------------------------------------------------------------------------------------

    @rx.event
    def set_key_dialog(self, value: bool):
        self.key_dialog, self.key_error = value, ""
        if value:
            self.new_secret = ""

    @rx.event
    def toggle_scope(self, cap: str, on: bool):
        self.key_scopes = [c for c in self.key_scopes if c != cap] + ([cap] if on else [])

    def _key_refused(self, message: str, field: str) -> None:
        self.key_error = message

    @rx.event
    async def create_key(self, form: dict[str, str]):
        org_id, scopes = self._org_id(), list(self.key_scopes)
        expiry = (form.get("expires_on") or "").strip()

        def work(session, user, scope):
            expires_at = None
            if expiry:
                try:
                    expires_at = datetime.fromisoformat(expiry).replace(tzinfo=UTC)
                except ValueError:
                    raise ValidationError("Expiry must be a date.", "expires_at") from None
            return key_svc.create_key(session=session, scope=scope, user_id=user.id, organization_id=org_id,
                                      name=form.get("name", ""), scopes=scopes, expires_at=expires_at)

        call = await self._call(work, cap=Cap.MANAGE_API_KEYS, form=self._key_refused)
        if not call.ok:
            return call.answer
        self.new_secret = call.value.secret
        return ClientDetailState.load

    @rx.event
    async def open_rotate(self, key_id: str):
        if not key_id.isdigit():
            return None

        def work(session, user, scope):
            return key_svc.recent_use(session=session, scope=scope, key_id=int(key_id))

        call = await self._call(work, cap=Cap.MANAGE_API_KEYS)
        if not call.ok:
            return call.answer
        self.rotate_id, self.rotate_grace, self.new_secret = key_id, "1h", ""
        self.rotate_name = next((k["name"] for k in self.keys if k["id"] == key_id), "")
        self.rotate_uses = [{"day": u.day, "ip": u.ip, "agent": u.user_agent or "unknown app",
                             "calls": str(u.calls), "last": when(u.last_at)} for u in call.value]
        return None

    @rx.event
    def close_rotate(self, value: bool = False):
        if not value:
            self.rotate_id = ""

    @rx.event
    def set_rotate_grace(self, value: str):
        self.rotate_grace = value if value in GRACE_LABELS else "1h"

    @rx.event
    async def confirm_rotate(self):
        key_id, grace = int(self.rotate_id or 0), self.rotate_grace

        def work(session, user, scope):
            return key_svc.rotate_key(session=session, scope=scope, user_id=user.id, key_id=key_id, grace=grace)

        call = await self._call(work, cap=Cap.MANAGE_API_KEYS)
        if not call.ok:
            return call.answer
        self.rotate_id, self.new_secret = "", call.value.secret
        return [ClientDetailState.load, rx.toast.success("Key rotated. Copy the new key now: it is shown once.")]

    @rx.event
    async def revoke(self, key_id: str):
        if not key_id.isdigit():
            return None

        def work(session, user, scope):
            return key_svc.revoke_key(session=session, scope=scope, user_id=user.id, key_id=int(key_id))

        call = await self._call(work, cap=Cap.MANAGE_API_KEYS)
        if not call.ok:
            return call.answer
        return [ClientDetailState.load, rx.toast.success("Key revoked. It stopped working at once.")]

    # --- App Builder ------------------------------------------------------------------------------------

    @rx.event
    def set_app_field(self, name: str, value: str):
        if name in self.app:
            self.app = {**self.app, name: value[:500]}

    @rx.event
    def toggle_feature(self, key: str, on: bool):
        self.features = [{**f, "on": "on" if on else ""} if f["key"] == key else f for f in self.features]

    @rx.event
    def set_app_key(self, value: str):
        self.app_key = value

    @rx.event
    async def save_app(self):
        org_id, values = self._org_id(), dict(self.app)
        values["features"] = {f["key"]: f["on"] == "on" for f in self.features}
        values["api_key_id"] = int(self.app_key) if self.app_key.isdigit() and len(self.app_key) < 10 else None
        self.app_error = ""

        def work(session, user, scope):
            return app_svc.save_config(session=session, scope=scope, user_id=user.id, organization_id=org_id,
                                       changes=values)

        call = await self._call(work, cap=Cap.MANAGE_APPS, form=lambda m, f: setattr(self, "app_error", m))
        if not call.ok:
            return call.answer
        return rx.toast.success("App configuration saved. The app picks it up at its next start.")
