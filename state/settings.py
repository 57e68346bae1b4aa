"""The account page's settings: name, time zone, date format, notification switches, and an e-mail change
verified by a link to the new address (/verify-email/<token>, no login needed)."""
from __future__ import annotations

import asyncio

import reflex as rx

from core.db import IDENTITY, session_scope
from core.errors import Conflict, ValidationError
from core.mail import MailError
from services.access import invitations
from services.access import settings as svc
from state.base import AppState
from state.links import DONE, PROBLEM, LinkPageState


class SettingsState(AppState):
    full_name: str = ""
    timezone: str = ""
    date_format: str = "iso"
    notifications: dict[str, bool] = {}
    error: str = ""
    email_error: str = ""
    email_notice: str = ""

    @rx.event
    async def load(self):
        self.error = self.email_error = self.email_notice = ""
        call = await self._call(lambda s, user, scope: svc.get_user_settings(session=s, user=user))
        if not call.ok:
            return call.answer
        self._show(call.value)
        return None

    def _show(self, v: svc.UserSettings) -> None:
        self.full_name, self.timezone, self.date_format = v.full_name, v.timezone, v.date_format
        self.notifications = v.notifications

    @rx.event
    def set_date_format(self, value: str):
        self.date_format = value

    @rx.event
    def switch(self, kind: str, value: bool):
        self.notifications = {**self.notifications, kind: value}

    @rx.event
    async def save(self, form: dict):
        fields = dict(full_name=form.get("full_name", ""), timezone=form.get("timezone", ""),
                      date_format=self.date_format, notifications=dict(self.notifications))
        call = await self._call(lambda s, user, scope: svc.update_user_settings(session=s, user=user, **fields),
                                form=lambda message, _: setattr(self, "error", message))
        if not call.ok:
            return call.answer
        self.error = ""
        self._show(call.value)
        self.user_name = call.value.full_name or self.user_email
        return rx.toast.success("Settings saved.")

    @rx.event
    async def change_email(self, form: dict):
        new, password = form.get("new_email", ""), form.get("email_password", "")
        try:
            call = await self._call(lambda s, user, scope: invitations.request_email_change(
                session=s, user=user, new_email=new, password=password),
                form=lambda message, _: setattr(self, "email_error", message))
        except MailError as exc:
            self.email_error = f"{exc} Nothing was changed; try again."
            return None
        if not call.ok:
            return call.answer
        self.email_error, self.email_notice = "", call.value
        return None


class VerifyEmailState(LinkPageState):
    @rx.event
    async def load(self):
        token = self._token()

        def job() -> str:
            with session_scope(IDENTITY) as session:
                return invitations.confirm_email_change(session=session, token=token).email

        try:
            self.email = await asyncio.to_thread(job)
            self.phase = DONE
        except invitations.LinkError as exc:
            self._problem(exc)
        except (ValidationError, Conflict) as exc:
            self.phase, self.problem = PROBLEM, exc.message
