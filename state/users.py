"""The users page: list users in scope; invite, create, disable and enable them where the role may."""
from __future__ import annotations

from typing import ClassVar

import reflex as rx

from core.clock import utcnow
from core.errors import NotFound, ValidationError
from core.fmt import MISSING
from core.mail import MailError
from services.access import invitations as invite_svc
from services.access import organizations as org_svc
from services.access import users as svc
from services.access.permissions import ROLE_LABELS, Cap
from state.base import AppState, Filters, PagedTable

NONE = "none"
INVITE, CREATE = "invite", "create"


def _invite_note(p: invite_svc.PendingInvitation | None) -> str:
    """How long the invitation link still works, for the Status column."""
    if p is None:
        return ""
    if p.expired:
        return "Invitation link expired"
    hours = int((p.expires_at - utcnow()).total_seconds() // 3600)
    return "Link valid for less than an hour" if hours < 1 else f"Link valid for {hours} h more"


def _id(value: str) -> int:
    """A user id from the browser; anything else is a user that doesn't exist."""
    if not str(value).isdigit():
        raise NotFound("User not found.")
    return int(value)


def _option(value: str) -> int:
    if not str(value).isdigit():
        raise ValidationError("Choose a valid option.")
    return int(value)


class UsersState(PagedTable, AppState):
    FILTERS: ClassVar[Filters] = {"search": str}

    rows: list[dict[str, str]] = []
    search: str = ""
    loading: bool = False
    can_manage: bool = False
    me: str = ""

    # The invite / create dialog: an invitation mails an activation link, create sets an initial password.
    dialog_open: bool = False
    dialog_mode: str = INVITE
    role_options: list[dict[str, str]] = []
    org_choices: list[dict[str, str]] = []
    owner_choices: list[dict[str, str]] = []
    new_role: str = ""
    new_org: str = NONE
    new_owner: str = NONE
    form_error: str = ""
    saving: bool = False
    # The password reset dialog (issue 14).
    reset_open: bool = False
    reset_user: dict[str, str] = {}
    reset_method: str = "link"
    reset_error: str = ""

    @rx.var
    def inviting(self) -> bool:
        return self.dialog_mode == INVITE

    @rx.var
    def needs_owner(self) -> bool:
        return self.new_role == "location_owner"

    async def _fetch(self):
        self.loading = True
        yield
        search, limit, offset = self.search, self.per_page, (self.page - 1) * self.per_page

        def work(session, user, scope):
            rows, total = svc.list_users(session=session, scope=scope, search=search, limit=limit, offset=offset)
            pending = invite_svc.pending_invitations(session=session, scope=scope, user_ids=[r.id for r in rows])
            notes = {uid: _invite_note(p) for uid, p in pending.items()}
            return rows, total, svc.assignable_roles(scope), user.id, notes

        call = await self._call(work, cap=Cap.VIEW_USERS)
        self.loading = False
        if not call.ok:
            yield call.answer
            return
        rows, total, assignable, me, notes = call.value
        self.total, self.can_manage, self.me = total, bool(assignable), str(me)
        self.rows = [{
            "id": str(r.id), "email": r.email, "name": r.full_name or MISSING, "role": r.role_label,
            "status": r.status, "organizations": ", ".join(r.organizations) or "All organizations",
            "invite_note": notes.get(r.id, "") if r.status == "invited" else "",
            "invite_expired": "yes" if notes.get(r.id, "").endswith("expired") else "",
            # Only actions this role may take on this user are offered (Support never sees Disable on an Admin).
            "manageable": "yes" if r.role in assignable and r.id != me else "",
        } for r in rows]

    @rx.event
    async def load(self):
        self.dialog_open = self.reset_open = False  # a fresh page starts with its dialogs closed
        async for update in self._fetch():
            yield update


    @rx.event
    async def set_user_status(self, user_id: str, status: str):
        def work(session, user, scope):
            changed = svc.set_status(session=session, scope=scope, user_id=_id(user_id), status=status)
            return changed.email, changed.status

        call = await self._call(work, cap=Cap.MANAGE_USERS)
        if not call.ok:
            yield call.answer
            return
        email, new_status = call.value
        yield rx.toast.success(f"{email} is now {new_status}.")
        async for update in self._fetch():
            yield update

    @rx.event
    def open_reset(self, user_id: str):
        self.reset_user = next((r for r in self.rows if r["id"] == user_id), {})
        self.reset_method, self.reset_error, self.reset_open = "link", "", True

    @rx.event
    def set_reset_open(self, value: bool):
        self.reset_open = value

    @rx.event
    def set_reset_method(self, value: str):
        self.reset_method = value

    @rx.event
    async def reset_password(self, form: dict):
        user_id, method = _id(self.reset_user.get("id", "0")), self.reset_method

        def work(session, user, scope):
            return invite_svc.admin_reset_password(session=session, scope=scope, user_id=user_id, method=method,
                                                   temporary_password=form.get("temporary_password", ""))

        try:
            call = await self._call(work, cap=Cap.MANAGE_USERS, form=lambda message, _: self._reset_failed(message))
        except MailError as exc:
            self.reset_error = f"{exc} Nothing was changed; try again."
            return
        if not call.ok:
            yield call.answer
            return
        self.reset_open = False
        yield rx.toast.success(call.value)

    def _reset_failed(self, message: str) -> None:
        self.reset_error = message

    @rx.event
    async def resend_invitation(self, user_id: str):
        def work(session, user, scope):
            return invite_svc.resend_invitation(session=session, scope=scope, user_id=_id(user_id))

        try:
            call = await self._call(work, cap=Cap.MANAGE_USERS)
        except MailError as exc:
            yield rx.toast.error(f"{exc} The earlier link still works.")
            return
        if not call.ok:
            yield call.answer
            return
        result = call.value
        yield (rx.toast.success(result.message) if result.delivered else rx.toast.warning(result.message))
        async for update in self._fetch():
            yield update

    @rx.event
    async def open_invite(self):
        return await self._open_dialog(INVITE)

    @rx.event
    async def open_create(self):
        return await self._open_dialog(CREATE)

    async def _open_dialog(self, mode: str):
        def work(session, user, scope):
            roles = svc.assignable_roles(scope)
            orgs = org_svc.list_organizations(session=session, scope=scope)
            owners = svc.list_location_owners(session=session, scope=scope)
            return roles, orgs, owners

        call = await self._call(work, cap=Cap.MANAGE_USERS)
        if not call.ok:
            return call.answer
        roles, orgs, owners = call.value
        self.role_options = [{"value": r.value, "label": ROLE_LABELS[r]} for r in roles]
        self.org_choices = [{"value": str(o.id), "label": o.name} for o in orgs]
        self.owner_choices = [{"value": str(o.id), "label": f"{o.name} ({o.organization_name})"} for o in owners]
        self.new_role = roles[-1].value if roles else ""
        self.new_org = self.org_choices[0]["value"] if len(self.org_choices) == 1 else NONE
        self.new_owner, self.form_error, self.dialog_mode, self.dialog_open = NONE, "", mode, True

    def _form_refused(self, message: str, field: str) -> None:
        self.form_error = message

    @rx.event
    def set_dialog_open(self, value: bool):
        self.dialog_open = value

    @rx.event
    def set_new_role(self, value: str):
        self.new_role = value

    @rx.event
    def set_new_org(self, value: str):
        self.new_org = value

    @rx.event
    def set_new_owner(self, value: str):
        self.new_owner = value

    @rx.event
    async def create(self, form: dict[str, str]):
        """The dialog's submit: send an invitation, or create the user with an initial password."""
        role, org, owner, inviting = self.new_role, self.new_org, self.new_owner, self.inviting
        self.form_error, self.saving = "", True
        yield

        def work(session, user, scope):
            fields = dict(session=session, scope=scope, email=form.get("email", ""),
                          full_name=form.get("full_name", ""), role=role,
                          organization_id=None if org == NONE else _option(org),
                          location_owner_id=None if owner == NONE else _option(owner))
            if inviting:
                result = invite_svc.invite_user(**fields)
                return result.message, result.delivered
            return f"User {svc.provision_user(password=form.get('password', ''), **fields).email} created.", True

        try:
            call = await self._call(work, cap=Cap.MANAGE_USERS, form=self._form_refused)
        except MailError as exc:
            self.form_error = f"{exc} Nothing was saved; try again."
            return
        finally:
            self.saving = False
        if not call.ok:
            yield call.answer
            return
        message, delivered = call.value
        self.dialog_open = False
        yield rx.toast.success(message) if delivered else rx.toast.warning(message, duration=15000)
        async for update in self._fetch():
            yield update
