"""The pages behind mailed links: accept an invitation, ask for a reset link, set a new password.

Nobody is logged in here; the token in the URL is the only credential, and the services check it
(hash, purpose, expiry, single use) on every load and submit.
"""
from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import reflex as rx
from sqlmodel import Session

from core.db import IDENTITY, session_scope
from core.errors import ValidationError
from services.access import invitations as svc
from services.access.auth import MAX_PASSWORD_BYTES

CHECKING, READY, PROBLEM, DONE = "checking", "ready", "problem", "done"


def _check_passwords(form: dict[str, str]) -> tuple[str, str]:
    """The new password, or the message to show (caught early so a typo never reaches the service)."""
    password, confirm = form.get("password") or "", form.get("confirm") or ""
    if password != confirm:
        return password, "The passwords do not match."
    if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
        return password, f"Password must be at most {MAX_PASSWORD_BYTES} bytes long."
    return password, ""


class LinkPageState(rx.State):
    """Shared by the activation and reset pages: the link's token and whether it can still be used."""

    phase: str = CHECKING
    problem: str = ""
    reason: str = ""
    error: str = ""
    saving: bool = False
    email: str = ""

    def _token(self) -> str:
        return self.router.url.path.rstrip("/").rsplit("/", 1)[-1]

    def _problem(self, exc: svc.LinkError) -> None:
        self.phase, self.problem, self.reason, self.error = PROBLEM, exc.message, exc.reason, ""

    async def _check(self, purpose: str, check: Callable = svc.check_link) -> Any:
        """On load: the link's details from `check` (staff links by default), or None with its problem shown."""
        self.phase, self.error = CHECKING, ""
        token = self._token()

        def job() -> Any:
            with session_scope(IDENTITY) as session:
                return check(session=session, token=token, purpose=purpose)

        try:
            return await asyncio.to_thread(job)
        except svc.LinkError as exc:
            self._problem(exc)
            return None

    async def _use(self, use: Callable[[Session, str], None]) -> None:
        """On submit: `use(session, token)` in one transaction, then DONE; or the problem or error shown."""
        token = self._token()

        def job() -> None:
            with session_scope(IDENTITY) as session:
                use(session, token)

        try:
            await asyncio.to_thread(job)
        except svc.LinkError as exc:
            self._problem(exc)
            return
        except ValidationError as exc:
            self.error = exc.message
            return
        finally:
            self.saving = False
        self.phase = DONE


class ActivateState(LinkPageState):
    full_name: str = ""
    role_label: str = ""
    organizations: str = ""

    @rx.event
    async def load(self):
        info = await self._check(svc.INVITE)
        if info is None:
            return
        self.email, self.full_name, self.role_label = info.email, info.full_name, info.role_label
        self.organizations = ", ".join(info.organizations)
        self.phase = READY

    @rx.event
    async def activate(self, form: dict[str, str]):
        password, problem = _check_passwords(form)
        if problem:
            self.error = problem
            return
        full_name = form.get("full_name") or ""
        self.error, self.saving = "", True
        yield
        await self._use(lambda session, token: svc.activate(session=session, token=token, full_name=full_name,
                                                            password=password))


class ForgotPasswordState(rx.State):
    sent: bool = False
    message: str = ""
    error: str = ""
    sending: bool = False

    @rx.event
    def reset_form(self):
        self.sent, self.message, self.error = False, "", ""

    @rx.event
    async def request(self, form: dict[str, str]):
        email = form.get("email") or ""
        self.error, self.sending = "", True
        yield

        def job() -> str:
            with session_scope(IDENTITY) as session:
                return svc.request_password_reset(session=session, email=email)

        try:
            self.message = await asyncio.to_thread(job)
        except ValidationError as exc:
            self.error = exc.message
            return
        finally:
            self.sending = False
        self.sent = True
        yield  # the answer reaches the browser before the mail is sent

        def send() -> None:
            with session_scope(IDENTITY) as session:
                svc.deliver_password_resets(session=session)

        await asyncio.to_thread(send)


class ResetPasswordState(LinkPageState):
    @rx.event
    async def load(self):
        info = await self._check(svc.RESET)
        if info is None:
            return
        self.email = info.email
        self.phase = READY

    @rx.event
    async def set_new_password(self, form: dict[str, str]):
        password, problem = _check_passwords(form)
        if problem:
            self.error = problem
            return
        self.error, self.saving = "", True
        yield
        await self._use(lambda session, token: svc.reset_password(session=session, token=token, password=password))
