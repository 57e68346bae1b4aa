"""The users page: list users in scope; create, disable and enable them where the role may."""
from __future__ import annotations

import reflex as rx

from services import organizations as org_svc
from services import users as svc
from services.auth import AuthError
from services.permissions import ROLE_LABELS, Cap
from state.base import SERVICE_ERRORS, AppState, error_message
from state.fmt import pages

PER_PAGE = 20
NONE = "none"


class UsersState(AppState):
    rows: list[dict[str, str]] = []
    total: int = 0
    search: str = ""
    page: int = 1
    loading: bool = False
    can_manage: bool = False
    me: str = ""

    # The create dialog.
    dialog_open: bool = False
    role_options: list[dict[str, str]] = []
    org_choices: list[dict[str, str]] = []
    owner_choices: list[dict[str, str]] = []
    new_role: str = ""
    new_org: str = NONE
    new_owner: str = NONE
    form_error: str = ""
    saving: bool = False

    @rx.var
    def page_count(self) -> int:
        return pages(self.total, PER_PAGE)

    @rx.var
    def needs_owner(self) -> bool:
        return self.new_role == "location_owner"

    async def _fetch(self):
        self.loading = True
        yield
        search, offset = self.search, (self.page - 1) * PER_PAGE

        def work(session, user, scope):
            rows, total = svc.list_users(session=session, scope=scope, search=search, limit=PER_PAGE, offset=offset)
            return rows, total, bool(svc.assignable_roles(scope)), user.id

        try:
            rows, total, can_manage, me = await self._run(work, cap=Cap.VIEW_USERS)
        except AuthError as exc:
            yield self._failed(exc)
            return
        except SERVICE_ERRORS as exc:
            if not self.denied:
                yield self._failed(exc)
            return
        finally:
            self.loading = False
        self.total, self.can_manage, self.me = total, can_manage, str(me)
        self.rows = [{
            "id": str(r.id), "email": r.email, "name": r.full_name or "—", "role": r.role_label,
            "status": r.status, "organizations": ", ".join(r.organizations) or "All organizations",
        } for r in rows]

    @rx.event
    async def load(self):
        async for update in self._fetch():
            yield update

    @rx.event
    async def set_search(self, value: str):
        self.search, self.page = value, 1
        async for update in self._fetch():
            yield update

    @rx.event
    async def go_page(self, page: int):
        self.page = min(max(1, page), self.page_count)
        async for update in self._fetch():
            yield update

    @rx.event
    async def set_user_status(self, user_id: str, status: str):
        def work(session, user, scope):
            return svc.set_status(session=session, scope=scope, user_id=int(user_id), status=status).email

        try:
            email = await self._run(work, cap=Cap.MANAGE_USERS)
        except (AuthError, *SERVICE_ERRORS) as exc:
            yield self._failed(exc)
            return
        except ValueError:
            yield rx.toast.error("User not found.")
            return
        yield rx.toast.success(f"{email} is now {'disabled' if status == 'disabled' else 'active'}.")
        async for update in self._fetch():
            yield update

    @rx.event
    async def open_create(self):
        def work(session, user, scope):
            roles = svc.assignable_roles(scope)
            orgs = org_svc.list_organizations(session=session, scope=scope)
            owners = svc.list_location_owners(session=session, scope=scope)
            return roles, orgs, owners

        try:
            roles, orgs, owners = await self._run(work, cap=Cap.MANAGE_USERS)
        except (AuthError, *SERVICE_ERRORS) as exc:
            return self._failed(exc)
        self.role_options = [{"value": r.value, "label": ROLE_LABELS[r]} for r in roles]
        self.org_choices = [{"value": str(o.id), "label": o.name} for o in orgs]
        self.owner_choices = [{"value": str(o.id), "label": f"{o.name} ({o.organization_name})"} for o in owners]
        self.new_role = roles[-1].value if roles else ""
        self.new_org = self.org_choices[0]["value"] if len(self.org_choices) == 1 else NONE
        self.new_owner, self.form_error, self.dialog_open = NONE, "", True

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
        role, org, owner = self.new_role, self.new_org, self.new_owner
        self.form_error, self.saving = "", True
        yield

        def work(session, user, scope):
            return svc.provision_user(
                session=session, scope=scope, email=form.get("email", ""), password=form.get("password", ""),
                full_name=form.get("full_name", ""), role=role,
                organization_id=None if org == NONE else int(org),
                location_owner_id=None if owner == NONE else int(owner),
            ).email

        try:
            email = await self._run(work, cap=Cap.MANAGE_USERS)
        except AuthError as exc:
            yield self._failed(exc)
            return
        except (*SERVICE_ERRORS, ValueError) as exc:
            self.form_error = error_message(exc) if not isinstance(exc, ValueError) else "Choose a valid option."
            return
        finally:
            self.saving = False
        self.dialog_open = False
        yield rx.toast.success(f"User {email} created.")
        async for update in self._fetch():
            yield update
