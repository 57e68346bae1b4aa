"""Roles (issue 15): a client's custom roles, each a row of the one permission table held as data, and which
of the client's users holds which. The operator picks the client; a client admin sees its own. The service
refuses a role that holds more than its creator, and a role given to a user its giver could not hold."""
from __future__ import annotations

import reflex as rx

from services.access import roles as svc
from services.access import users as user_svc
from services.access.permissions import Cap
from state.base import AppState


def _id(value: str) -> int:
    return int(value) if value.isdigit() and len(value) < 10 else 0


class RolesState(AppState):
    clients: list[dict[str, str]] = []
    client_id: str = ""
    roles: list[dict[str, str]] = []
    users: list[dict[str, str]] = []
    choices: list[str] = []  # the capabilities the caller may grant
    dialog_open: bool = False
    editing_id: str = ""  # "" while creating
    form_name: str = ""
    form_caps: list[str] = []
    form_error: str = ""

    @rx.event
    async def load(self):
        chosen = self.client_id

        def work(session, user, scope):
            clients = svc.client_options(session=session, scope=scope)
            ids = [str(c.id) for c in clients]
            pick = chosen if chosen in ids else (ids[0] if ids else "")
            rows, people = [], []
            if pick:
                rows = svc.list_roles(session=session, scope=scope, organization_id=int(pick))
                people, _ = user_svc.list_users(session=session, scope=scope.narrowed(int(pick)), limit=500)
            return clients, pick, rows, people, svc.grantable(scope)

        call = await self._call(work, cap=Cap.MANAGE_ROLES)
        if not call.ok:
            return call.answer
        clients, pick, rows, people, choices = call.value
        self.clients = [{"id": str(c.id), "name": c.name} for c in clients]
        self.client_id, self.choices = pick, choices
        self.roles = [{"id": str(r.id), "name": r.name, "caps": ", ".join(r.capabilities), "users": str(r.users),
                       "cap_list": "|".join(r.capabilities)} for r in rows]
        self.users = [{"id": str(u.id), "email": u.email, "name": u.full_name, "role": u.role_label,
                       "role_id": next((r["id"] for r in self.roles if r["name"] == u.role_label), ""),
                       "custom": "yes" if u.role == "cpo" else ""} for u in people]
        return None

    @rx.event
    async def set_client(self, value: str):
        self.client_id = value
        return RolesState.load

    @rx.event
    def open_new(self):
        self.editing_id, self.form_name, self.form_caps, self.form_error = "", "", ["view_dashboard"], ""
        self.dialog_open = True

    @rx.event
    def open_edit(self, role_id: str):
        row = next((r for r in self.roles if r["id"] == role_id), None)
        if row is None:
            return
        self.editing_id, self.form_name, self.form_error = role_id, row["name"], ""
        self.form_caps = [c for c in row["cap_list"].split("|") if c]
        self.dialog_open = True

    @rx.event
    def set_dialog_open(self, value: bool):
        self.dialog_open = value
        if not value:
            self.form_error = ""

    @rx.event
    def set_form_name(self, value: str):
        self.form_name = value[:200]

    @rx.event
    def toggle_cap(self, cap: str, on: bool):
        self.form_caps = [c for c in self.form_caps if c != cap] + ([cap] if on else [])

    def _form_refused(self, message: str, field: str) -> None:
        self.form_error = message

    @rx.event
    async def save(self):
        org_id, role_id, name, caps = _id(self.client_id), _id(self.editing_id), self.form_name, list(self.form_caps)

        def work(session, user, scope):
            if role_id:
                return svc.update_role(session=session, scope=scope, user_id=user.id, role_id=role_id, name=name,
                                       capabilities=caps)
            return svc.create_role(session=session, scope=scope, user_id=user.id, organization_id=org_id,
                                   name=name, capabilities=caps)

        call = await self._call(work, cap=Cap.MANAGE_ROLES, form=self._form_refused)
        if not call.ok:
            return call.answer  # a field's message in the dialog; a capability the caller lacks as a toast
        self.dialog_open = False
        return [RolesState.load, rx.toast.success(f"Role '{call.value.name}' saved.")]

    @rx.event
    async def delete(self, role_id: str):
        rid = _id(role_id)

        def work(session, user, scope):
            svc.delete_role(session=session, scope=scope, user_id=user.id, role_id=rid)

        call = await self._call(work, cap=Cap.MANAGE_ROLES)
        if not call.ok:
            return call.answer
        return [RolesState.load, rx.toast.success("Role deleted.")]

    @rx.event
    async def give_role(self, target_id: str, role_id: str):
        tid, rid = _id(target_id), _id(role_id)

        def work(session, user, scope):
            return user_svc.set_custom_role(session=session, scope=scope, user_id=user.id, target_id=tid,
                                            role_id=rid)

        call = await self._call(work, cap=Cap.MANAGE_USERS)
        if not call.ok:
            return [RolesState.load, call.answer]
        return [RolesState.load, rx.toast.success(f"{call.value.email} now holds the role.")]
