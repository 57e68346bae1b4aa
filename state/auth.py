"""Logging in and changing one's password."""
from __future__ import annotations

import asyncio

import reflex as rx

from core.db import IDENTITY, session_scope
from services.access.auth import CUSTOMER, AuthError, change_password, user_from_token
from services.customers.auth import PORTAL, customer_from_token, token_kind
from state.base import AppState
from state.nav import HOME, LOGIN

# The login form posts to the API (app/api/routes/auth.py), which sets the HttpOnly cookie; a refusal comes
# back as `/login?error=<code>`, never as free text in the URL.
LOGIN_ACTION = "/api/v1/auth/session"
LOGIN_ERRORS = {
    "missing": "Enter your email and password.",
    "invalid": "Incorrect email or password.",
    "disabled": "This account is disabled.",
    "not_activated": "This account has not been activated yet.",
    "unverified": "Verify your email address first: open the link we mailed you.",
    "input": "That email or password has characters or a length that isn't allowed.",
    "throttled": "Too many failed logins. Try again in {retry} seconds.",
}
LOGIN_NOTICES = {
    "out": "You have been logged out.",
    "password": "Password changed. Log in with your new password.",
}


def login_error(params: dict[str, str]) -> str:
    message = LOGIN_ERRORS.get(params.get("error", ""), "")
    retry = params.get("retry", "")
    return message.format(retry=retry if retry.isdigit() and len(retry) < 8 else "a few")


def login_notice(params: dict[str, str]) -> str:
    return next((text for key, text in LOGIN_NOTICES.items() if params.get(key)), "")


class LoginState(AppState):
    error: str = ""
    notice: str = ""

    @rx.event
    async def check_session(self):
        """On the login page: show what the last attempt came back with; a valid session goes to the app."""
        params = dict(self.router.url.query_parameters)
        self.error, self.notice = login_error(params), login_notice(params)
        token = self._session_token()
        if not token:
            return

        customer = token_kind(token) == CUSTOMER

        def job() -> bool:
            with session_scope(IDENTITY) as session:
                try:
                    (customer_from_token if customer else user_from_token)(session=session, token=token)
                    return True
                except AuthError:
                    return False

        if await asyncio.to_thread(job):
            return rx.redirect(PORTAL if customer else HOME)


class AccountState(AppState):
    error: str = ""
    saving: bool = False

    def _refused_input(self, message: str, field: str) -> None:
        self.error = message

    @rx.event
    async def change_password(self, form: dict[str, str]):
        current, new, confirm = form.get("current") or "", form.get("new") or "", form.get("confirm") or ""
        if new != confirm:
            self.error = "The new passwords do not match."
            return
        self.error, self.saving = "", True
        yield

        def work(session, user, scope) -> None:
            # Every token of the user, this tab's too, stops working: log in again with the new password.
            change_password(session=session, user=user, current=current, new=new)

        call = await self._call(work, form=self._refused_input)
        self.saving = False
        if not call.ok:
            yield call.answer
            return
        self.must_change_password = False
        self._forget()
        yield rx.redirect(f"{LOGIN}?password=1")
