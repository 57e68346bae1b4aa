"""The base state: who is logged in, what it may see, and the organization switcher.

Identity lives in a signed token in an HttpOnly cookie that only the server sets and reads (the login form
posts to the API; this backend reads the cookie from the websocket handshake, docs/adr/0007). The server never
trusts anything else:
every page load and every event handler that reads or changes data calls `_run`, which checks the
token against the database (disabled users and revoked tokens fail at once), builds the user's
Scope, checks the page's capability and narrows to the chosen organization, all in one worker
thread so bcrypt and queries never block the event loop.
"""
from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import reflex as rx
from sqlmodel import Session

from core.cookies import session_cookie_from
from core.db import IDENTITY, session_scope
from core.errors import Conflict, NotFound, ValidationError
from core.fmt import pages
from core.validation import fits_int32
from models import User
from services.access import organizations as org_svc
from services.access import roles
from services.access.auth import AuthError, user_from_token
from services.access.permissions import ROLE_LABELS, Cap, PermissionDenied, Role
from services.access.scope import Scope, scope_for
from services.clients import clients as client_svc
from state.nav import LOGIN, NAV

ACCOUNT = "/account"  # where a user with a temporary password changes it

ALL_ORGS = "all"
LOGOUT_FORM = "logout-form"
LOGOUT_ACTION = "/api/v1/auth/session/end"
# What a service call may answer instead of a result: log in again, or a refusal whose message is safe to show.
REFUSALS = (AuthError, PermissionDenied, NotFound, ValidationError, Conflict)

Work = Callable[[Session, User, Scope], Any]
# A paged table's filters: each filter var and how the value from the browser is cleaned.
Filters = dict[str, Callable[[Any], Any]]
# A form that shows a refusal where it belongs: (message, field); field "" means the form as a whole.
Form = Callable[[str, str], None]


def is_record_id(value: Any) -> bool:
    """Whether the browser sent an id: a whole number an id column can hold."""
    text = str(value).strip()
    return text.isdigit() and fits_int32(int(text))


def record_id(value: Any, what: str = "Record") -> int:
    """An id as the browser sent it, or the record is not found (the service then checks the scope). Forged
    text never reaches int() unguarded."""
    if not is_record_id(value):
        raise NotFound(f"{what} not found.")
    return int(str(value).strip())


@dataclass(frozen=True)
class Call:
    """What `AppState._call` brought back: the work's result, or what to answer the browser instead."""
    ok: bool
    value: Any = None
    answer: Any = None  # a toast, the login page, or None (the page shows it already)


@dataclass(frozen=True)
class Identity:
    user_id: int
    name: str
    email: str
    role_label: str
    routes: list[str]
    multi_org: bool
    org_options: list[dict[str, str]]
    org_choice: str
    must_change_password: bool = False


def _narrow(scope: Scope, choice: str) -> tuple[Scope, str]:
    """The switcher's choice, validated against the user's own scope; anything else means all."""
    if choice == ALL_ORGS or not scope.multi_org:
        return scope, ALL_ORGS
    try:
        return scope.narrowed(int(choice)), choice
    except (ValueError, NotFound):
        return scope, ALL_ORGS


def _identity(session: Session, user: User, scope: Scope, choice: str) -> Identity:
    options = []
    if scope.multi_org:
        options = [{"id": str(o.id), "name": o.name}
                   for o in org_svc.list_organizations(session=session, scope=scope)]
    return Identity(
        user_id=user.id, name=user.full_name or user.email, email=user.email,
        role_label=roles.label_of(session, user) or ROLE_LABELS[Role(user.role)],
        routes=[item.route for item in NAV if scope.can(item.cap)],
        multi_org=scope.multi_org, org_options=options, org_choice=choice,
        must_change_password=user.must_change_password,
    )


def refusal_message(exc: Exception) -> str:
    if isinstance(exc, ValidationError | Conflict):
        return exc.message
    return str(exc) or "Not found."


def refusal_field(exc: Exception) -> str:
    return (exc.field or "") if isinstance(exc, ValidationError | Conflict) else ""


class AppState(rx.State):
    """Shared by every page: the token, the user's display data, the sidebar and the switcher."""

    org_choice: str = ALL_ORGS
    # View as client (issue 15): the operator reads a client's pages with the client's read-only scope.
    view_as_name: str = ""
    _view_as: str = ""  # backend only: the browser cannot pick the client

    user_name: str = ""
    user_email: str = ""
    role_label: str = ""
    allowed_routes: list[str] = []
    multi_org: bool = False
    org_options: list[dict[str, str]] = []
    # The page's guard has run: the shell may render. `denied` says the role may not use the page.
    ready: bool = False
    denied: bool = False
    # A temporary password from an administrator: the account page comes first (issue 14).
    must_change_password: bool = False

    _user_id: int | None = None

    @rx.var
    def org_label(self) -> str:
        for o in self.org_options:
            if o["id"] == self.org_choice:
                return o["name"]
        return "All organizations"

    @rx.var
    def initials(self) -> str:
        parts = [p for p in self.user_name.replace("@", " ").split() if p]
        return "".join(p[0] for p in parts[:2]).upper() or "?"

    async def _run(self, work: Work | None = None, *, cap: Cap | None = None, identity: bool = False) -> Any:
        """Authenticate from the token, check `cap`, and call `work(session, user, scope)`.

        Raises AuthError (log in again), PermissionDenied, or what `work` raises; the
        transaction commits only when `work` returns.
        """
        token, choice, view_as = self._session_token(), self.org_choice, self._view_as

        def job() -> tuple[Identity | None, Any, bool]:
            with session_scope(IDENTITY) as session:
                user = user_from_token(session=session, token=token)
                full = scope_for(session, user)
                if view_as:
                    full = client_svc.view_scope(session=session, scope=full, organization_id=int(view_as))
                scope, effective = _narrow(full, choice)
                scope.enter(session)
                ident = _identity(session, user, full, effective) if identity else None
                if cap is not None and not full.can(cap):
                    return ident, None, False
                return ident, (work(session, user, scope) if work else None), True

        ident, result, allowed = await asyncio.to_thread(job)
        if ident is not None:
            self._apply(ident)
        if not allowed:
            raise PermissionDenied("You don't have access to this page.")
        return result

    def _session_token(self) -> str:
        """The login token from the HttpOnly cookie, as the browser sent it when this tab's socket opened
        (every page load opens a new one, so a login or logout is seen from the next page on)."""
        return session_cookie_from(self.router.headers.cookie)

    def _apply(self, ident: Identity) -> None:
        self._user_id = ident.user_id
        self.user_name, self.user_email, self.role_label = ident.name, ident.email, ident.role_label
        self.allowed_routes = ident.routes
        self.multi_org, self.org_options, self.org_choice = ident.multi_org, ident.org_options, ident.org_choice
        self.must_change_password = ident.must_change_password

    def _forget(self) -> None:
        """Forget everything about the user on this tab (a new login must never show the last one's menu)."""
        self._user_id = None
        self.user_name = self.user_email = self.role_label = ""
        self.allowed_routes, self.org_options = [], []
        self.multi_org = self.ready = self.denied = False
        self.org_choice = ALL_ORGS

    def _signed_out(self) -> Any:
        """Forget the user and go to the login page."""
        self._forget()
        return rx.redirect(LOGIN)

    async def _call(self, work: Work | None, *, cap: Cap | None = None, form: Form | None = None) -> Call:
        """The one way a handler calls a service: `_run(work, cap=cap)`, with any refusal sorted out.

        `Call(True, result)`, or `Call(False, answer=...)` where the answer (or None) is what the handler
        yields; see `_refused` for who shows what.
        """
        try:
            return Call(True, await self._run(work, cap=cap))
        except REFUSALS as exc:
            return Call(False, answer=self._refused(exc, form))

    def _refused(self, exc: Exception, form: Form | None = None) -> Any:
        """Show a refusal and return what to answer the browser.

        - AuthError: the user is signed out and goes to the login page.
        - PermissionDenied on a page the guard already refused (`denied`): nothing; the page says so.
        - Refused input (ValidationError, Conflict) with a `form`: the message goes under the field it
          names, or on the form as a whole.
        - NotFound on a page about one record (a state with a `not_found` var): its not-found panel.
        - Anything else: a toast with the service's message.
        """
        if isinstance(exc, AuthError):
            return self._signed_out()
        if isinstance(exc, PermissionDenied) and self.denied:
            return None
        if form is not None and isinstance(exc, ValidationError | Conflict):
            form(refusal_message(exc), refusal_field(exc))
            return None
        if isinstance(exc, NotFound) and "not_found" in self.base_vars:
            self.not_found = True
            return None
        return rx.toast.error(refusal_message(exc))

    def _filtered(self, filters: Filters, name: str, value: Any, page: str = "page") -> bool:
        """A paged table's filter changed: keep its cleaned value and go back to the first page.

        `filters` maps each filter var to its cleaner; False for a name the table has no filter for,
        since a handler's arguments come from the browser."""
        clean = filters.get(name)
        if clean is None:
            return False
        setattr(self, name, clean(value))
        setattr(self, page, 1)
        return True

    @rx.event
    async def guard(self, cap: str = ""):
        """Every page's first on_load: check the login and the page's capability on the server."""
        try:
            await self._run(cap=Cap(cap) if cap else None, identity=True)
            self.denied = False
        except AuthError:
            return self._signed_out()
        except PermissionDenied:
            self.denied = True
        self.ready = True
        if self.must_change_password and self.router.url.path.rstrip("/") != ACCOUNT:
            return rx.redirect(ACCOUNT)
        return None

    @rx.event
    def set_org(self, value: str):
        # Validated by every later `_run`, which narrows through the user's own scope.
        self.org_choice = value or ALL_ORGS


class PagedTable(rx.State, mixin=True):
    """A table read one page at a time, mixed into a page's state: `class XState(PagedTable, AppState)`.

    The state lists its FILTERS (a ClassVar: each filter var and how the browser's value is cleaned) and writes
    `_fetch`, which reads the current page with the filters and yields what to answer. A new filter
    value goes back to the first page; pages (`per_page` rows) and refreshes read again.
    """

    FILTERS: ClassVar[Filters] = {}

    page: int = 1
    total: int = 0
    per_page: int = 20

    @rx.var
    def page_count(self) -> int:
        return pages(self.total, self.per_page)

    def _on_filter(self, name: str) -> None:
        """What else a new value of filter `name` changes; nothing unless the state says."""

    @rx.event
    async def set_filter(self, name: str, value: str | list[str]):
        if self._filtered(self.FILTERS, name, value):
            self._on_filter(name)
            async for update in self._fetch():
                yield update

    @rx.event
    async def go_page(self, page: int):
        self.page = min(max(1, page), self.page_count)
        async for update in self._fetch():
            yield update

    @rx.event
    async def refresh(self):
        async for update in self._fetch():
            yield update
