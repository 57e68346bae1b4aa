"""Logging in and changing one's password."""
from __future__ import annotations

import asyncio

import reflex as rx

from core.db import session_scope
from core.errors import ValidationError
from core.net import client_address
from core.validation import check_text
from services.access.auth import (
    CUSTOMER,
    MAX_PASSWORD_BYTES,
    AuthError,
    change_password,
    issue_token,
    user_from_token,
)
from services.customers.auth import PORTAL, customer_from_token, login, token_kind
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

        customer = token_kind(token) == CUSTOMER

        def job() -> bool:
            with session_scope() as session:
                try:
                    (customer_from_token if customer else user_from_token)(session=session, token=token)
                    return True
                except AuthError:
                    return False

        if await asyncio.to_thread(job):
            return rx.redirect(PORTAL if customer else HOME)
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

        def job():
            with session_scope() as session:
                # Staff or a customer of any platform (services/customers/auth.py).
                return login(session=session, email=email, password=password, ip=ip)

        try:
            answer = await asyncio.to_thread(job)
        except (AuthError, ValidationError) as exc:
            self.error = str(exc)
            return
        finally:
            self.submitting = False
        self._forget()
        self.token = answer.token
        yield rx.redirect(PORTAL if answer.kind == CUSTOMER else HOME)


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
        self.saved = True
        yield rx.toast.success("Password changed. Your other sessions have been logged out.")
