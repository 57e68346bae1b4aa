"""Logging in and changing one's password."""
from __future__ import annotations

import asyncio

import reflex as rx

from core.db import session_scope
from core.errors import ValidationError
from core.net import client_address
from core.validation import check_text
from services.access.auth import (
    MAX_PASSWORD_BYTES,
    AuthError,
    authenticate,
    change_password,
    issue_token,
    user_from_token,
)
from state.base import AppState
from state.nav import HOME


class LoginState(AppState):
    error: str = ""
    submitting: bool = False

    @rx.event
    async def check_session(self):
        """On the login page: an already valid session goes straight to the app."""
        token = self.token
        if not token:
            return

        def job() -> bool:
            with session_scope() as session:
                try:
                    user_from_token(session=session, token=token)
                    return True
                except AuthError:
                    return False

        if await asyncio.to_thread(job):
            return rx.redirect(HOME)
        self.token = ""

    @rx.event
    async def login(self, form: dict[str, str]):
        email = (form.get("email") or "").strip()
        password = form.get("password") or ""
        if not email or not password:
            self.error = "Enter your email and password."
            return
        try:
            check_text(email, "email")
            check_text(password, "password")
        except ValidationError as exc:
            self.error = exc.message
            return
        if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
            self.error = f"Password must be at most {MAX_PASSWORD_BYTES} bytes long."
            return
        self.error, self.submitting = "", True
        yield
        # The throttle counts failures per client address; X-Forwarded-For counts only from TRUSTED_PROXIES.
        headers = self.router.headers.raw_headers
        ip = client_address(headers.get("asgi-scope-client") or self.router.session.client_ip,
                            headers.get("x-forwarded-for"))

        def job() -> str:
            with session_scope() as session:
                user = authenticate(session=session, email=email, password=password, ip=ip)
                return issue_token(user)

        try:
            token = await asyncio.to_thread(job)
        except (AuthError, ValidationError) as exc:
            self.error = str(exc)
            return
        finally:
            self.submitting = False
        self._forget()
        self.token = token
        yield rx.redirect(HOME)


class AccountState(AppState):
    error: str = ""
    saved: bool = False
    saving: bool = False

    def _refused_input(self, message: str, field: str) -> None:
        self.error = message

    @rx.event
    async def change_password(self, form: dict[str, str]):
        current, new, confirm = form.get("current") or "", form.get("new") or "", form.get("confirm") or ""
        self.saved = False
        if new != confirm:
            self.error = "The new passwords do not match."
            return
        self.error, self.saving = "", True
        yield

        def work(session, user, scope) -> str:
            change_password(session=session, user=user, current=current, new=new)
            # Every older token is now revoked; this tab carries on with a fresh one.
            return issue_token(user)

        call = await self._call(work, form=self._refused_input)
        self.saving = False
        if not call.ok:
            yield call.answer
            return
        self.token = call.value
        self.saved, self.must_change_password = True, False
        yield rx.toast.success("Password changed. Your other sessions have been logged out.")
