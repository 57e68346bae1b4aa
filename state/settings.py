"""The account page's settings: name, time zone, date format, notification switches and quiet hours, Web
Push in this browser, and an e-mail change verified by a link to the new address (/verify-email/<token>, no
login needed)."""
from __future__ import annotations

import asyncio

import reflex as rx

from core import push
from core.clock import utcnow
from core.db import IDENTITY, session_scope
from core.errors import Conflict, ValidationError
from core.mail import MailError
from services.access import invitations
from services.access import settings as svc
from services.notifications import devices, preferences
from state.base import AppState
from state.links import DONE, PROBLEM, LinkPageState


class SettingsState(AppState):
    full_name: str = ""
    timezone: str = ""
    date_format: str = "iso"
    notifications: dict[str, bool] = {}
    quiet_start: str = ""
    quiet_end: str = ""
    push_devices: int = 0    # browsers this user subscribed to Web Push
    push_key: str = ""       # our VAPID public key; "" when Web Push is off
    push_notice: str = ""
    error: str = ""
    email_error: str = ""
    email_notice: str = ""

    @rx.event
    async def load(self):
        self.error = self.email_error = self.email_notice = ""
        self.push_notice = ""
        call = await self._call(lambda s, user, scope: (
            svc.get_user_settings(session=s, user=user), preferences.get_preferences(session=s, user_id=user.id),
            len(devices.list_devices(session=s, user_id=user.id))))
        if not call.ok:
            return call.answer
        self._show(*call.value)
        self.push_key = push.vapid_public_key()
        return None

    def _show(self, v: svc.UserSettings, p: preferences.Preferences, push_devices: int) -> None:
        self.full_name, self.timezone, self.date_format = v.full_name, v.timezone, v.date_format
        self.notifications, self.quiet_start, self.quiet_end = p.switches, p.quiet_start, p.quiet_end
        self.push_devices = push_devices

    @rx.event
    def set_date_format(self, value: str):
        self.date_format = value

    @rx.event
    def switch(self, kind: str, value: bool):
        self.notifications = {**self.notifications, kind: value}

    @rx.event
    async def save(self, form: dict):
        fields = dict(full_name=form.get("full_name", ""), timezone=form.get("timezone", ""),
                      date_format=self.date_format)
        prefs = dict(switches=dict(self.notifications), quiet_start=str(form.get("quiet_start", ""))[:20],
                     quiet_end=str(form.get("quiet_end", ""))[:20])

        def work(s, user, scope):
            # Preferences first (flushed only): update_user_settings commits both, or a refusal keeps neither.
            p = preferences.set_preferences(session=s, user_id=user.id, **prefs)
            return (svc.update_user_settings(session=s, user=user, **fields), p,
                    len(devices.list_devices(session=s, user_id=user.id)))

        call = await self._call(work, form=lambda message, _: setattr(self, "error", message))
        if not call.ok:
            return call.answer
        self.error = ""
        self._show(*call.value)
        self.user_name = call.value[0].full_name or self.user_email
        return rx.toast.success("Settings saved.")

    @rx.event
    def subscribe_browser(self):
        """Ask the browser for a Web Push subscription (service worker /push-sw.js, our VAPID key); the
        script hands it to `subscribed`."""
        if not self.push_key:
            self.push_notice = "Web Push is not configured on this server."
            return None
        return rx.call_script(f"window.voltdeskSubscribe({self.push_key!r})", callback=SettingsState.subscribed)

    @rx.event
    async def subscribed(self, sub: dict | str | None):
        """Save the browser's subscription for the logged-in user (the script answers an error text instead
        when the browser refused or cannot push)."""
        if not isinstance(sub, dict):
            self.push_notice = str(sub or "This browser gave no subscription.")[:300]
            return None
        keys = sub.get("keys") if isinstance(sub.get("keys"), dict) else {}
        endpoint, p256dh, auth = (str(sub.get("endpoint") or "")[:2000], str(keys.get("p256dh") or "")[:300],
                                  str(keys.get("auth") or "")[:300])

        def work(s, user, scope):
            devices.register_device(session=s, user_id=user.id, kind="web_push", token=endpoint, p256dh=p256dh,
                                    auth=auth, label="Browser", now=utcnow())
            return len(devices.list_devices(session=s, user_id=user.id))

        call = await self._call(work, form=lambda message, _: setattr(self, "push_notice", message))
        if not call.ok:
            return call.answer
        self.push_devices = call.value
        self.push_notice = "This browser receives your alerts sent by Web Push."
        return None

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
