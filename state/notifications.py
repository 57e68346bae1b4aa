"""The bell in the header (live), the Notifications page (history, filters, acknowledging, delivery log)
and the composer (preview, recipient count, send or schedule)."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import ClassVar

import reflex as rx

from core.clock import utcnow
from core.events import EventType
from core.fmt import when
from services.access.permissions import Cap
from services.notifications import alerts, composer
from services.notifications import inbox as svc
from services.notifications.composer import Audience
from state import live
from state.base import AppState, PagedTable, record_id

BELL_ITEMS = 6
KIND_LABELS = {"alert_opened": "Alert", "alert_update": "Alert update", "alert_resolved": "Resolved",
               "alert_escalated": "Escalated", "charger_event": "Charger event"}


def _row(r: svc.InboxRow) -> dict[str, str]:
    return {"id": str(r.notification_id), "kind": KIND_LABELS.get(r.kind, r.kind.replace("_", " ").title()),
            "raw_kind": r.kind, "title": r.title, "body": r.body, "when": when(r.created_at, "UTC"),
            "read": "1" if r.read else "", "critical": "1" if r.critical else "",
            "alert_id": str(r.alert_id or ""),
            "ackable": "1" if r.alert_id and not r.acknowledged and r.kind != "alert_resolved" else "",
            "acked": "1" if r.acknowledged and r.kind != "alert_resolved" else ""}


class BellState(AppState):
    unread: int = 0
    items: list[dict[str, str]] = []
    _bell_generation: int = 0

    async def _reload(self) -> None:
        def work(session, user, scope):
            return svc.unread_count(session=session, scope=scope), \
                svc.list_inbox(session=session, scope=scope, limit=BELL_ITEMS)

        count, rows = await self._run(work)
        self.unread, self.items = count, [_row(r) for r in rows]

    @rx.event
    async def start(self):
        """Every page's on_load (after the guard): the count now, then live."""
        if not self.ready or not self.user_name:
            return
        call = await self._call(lambda s, u, scope: (svc.unread_count(session=s, scope=scope),
                                                      svc.list_inbox(session=s, scope=scope, limit=BELL_ITEMS)))
        if not call.ok:
            return
        self.unread, rows = call.value
        self.items = [_row(r) for r in rows]
        yield BellState.follow_bell

    @rx.event(background=True)
    async def follow_bell(self):
        async with self:
            self._bell_generation += 1
            generation, token, me = self._bell_generation, self.router.session.client_token, self._user_id

        def accept(event: dict) -> bool:
            return event.get("type") == EventType.NOTIFICATION and me in (event.get("user_ids") or [])

        async def still_wanted() -> bool:
            async with self:
                return self._bell_generation == generation and live.client_connected(token)

        async def apply(batch: list[dict]) -> None:
            async with self:
                await self._reload()

        await live.follow(accept=accept, still_wanted=still_wanted, apply=apply)

    @rx.event
    async def mark_all_read(self):
        call = await self._call(lambda s, u, scope: svc.mark_read(session=s, scope=scope, now=utcnow()))
        if not call.ok:
            yield call.answer
            return
        await self._reload()
        yield NotificationsState.refresh

    @rx.event
    async def acknowledge(self, alert_id: str):
        call = await self._call(lambda s, u, scope: alerts.acknowledge(session=s, scope=scope,
                                                                       alert_id=record_id(alert_id, "Alert"),
                                                                       now=utcnow()))
        if not call.ok:
            yield call.answer
            return
        yield rx.toast.success("Alert acknowledged: it will not be escalated.")
        await self._reload()
        yield NotificationsState.refresh


class NotificationsState(PagedTable, AppState):
    FILTERS: ClassVar = {"kind": lambda v: str(v or "")[:32], "unread_only": bool}
    rows: list[dict[str, str]] = []
    kind: str = ""
    unread_only: bool = False
    can_log: bool = False
    log_rows: list[dict[str, str]] = []
    loading: bool = False

    async def _fetch(self):
        limit, offset, kind, unread = self.per_page, (self.page - 1) * self.per_page, self.kind, self.unread_only

        def work(session, user, scope):
            rows = svc.list_inbox(session=session, scope=scope, kind=kind or None, unread_only=unread,
                                  limit=limit, offset=offset)
            total = svc.count_inbox(session=session, scope=scope, kind=kind or None, unread_only=unread)
            log = svc.delivery_log(session=session, scope=scope, limit=50) if scope.can(Cap.VIEW_DELIVERY_LOG) \
                else None
            return rows, total, log

        call = await self._call(work)
        if not call.ok:
            yield call.answer
            return
        rows, self.total, log = call.value
        self.rows = [_row(r) for r in rows]
        self.can_log = log is not None
        self.log_rows = [{"id": str(d.id), "title": d.title, "channel": d.channel.replace("_", " "),
                          "recipient": d.recipient, "status": d.status, "attempts": str(d.attempts),
                          "error": d.error or "", "when": when(d.sent_at or d.created_at, "UTC")}
                         for d in (log or [])]

    @rx.event
    async def load(self):
        self.loading = True
        yield
        try:
            async for update in self._fetch():
                yield update
        finally:
            self.loading = False

    @rx.event
    async def set_kind(self, value: str):
        self._filtered(self.FILTERS, "kind", "" if value == "all" else value)
        async for update in self._fetch():
            yield update

    @rx.event
    async def set_unread(self, value: bool):
        self._filtered(self.FILTERS, "unread_only", bool(value))
        async for update in self._fetch():
            yield update


class ComposerState(AppState):
    mode: str = "users"
    emails: str = ""
    organization_id: str = ""
    charger_id: str = ""
    days: str = "30"
    title: str = ""
    body: str = ""
    send_at: str = ""  # datetime-local, UTC
    confirm: bool = False
    previewed: bool = False
    preview_title: str = ""
    preview_body: str = ""
    recipients: int = 0
    devices: int = 0
    needs_confirmation: bool = False
    error: str = ""
    sent_message: str = ""

    @rx.event
    def set_value(self, name: str, value: str):
        if name in ("mode", "emails", "organization_id", "charger_id", "days", "title", "body", "send_at"):
            setattr(self, name, str(value)[:20_000])
            self.previewed, self.sent_message = False, ""

    @rx.event
    def set_confirm(self, value: bool):
        self.confirm = bool(value)

    def _audience(self) -> Audience:
        def num(v: str) -> int | None:
            return int(v) if v.strip().isdigit() and len(v.strip()) < 10 else None
        return Audience(mode=self.mode, emails=[e.strip() for e in self.emails.replace(";", ",").replace(
            "\n", ",").split(",") if e.strip()], organization_id=num(self.organization_id),
            charger_id=num(self.charger_id), days=num(self.days))

    def _form(self, message: str, field: str) -> None:
        self.error = message

    @rx.event
    async def load(self):
        self.error = self.sent_message = ""
        self.previewed = False

    @rx.event
    async def preview(self):
        self.error = ""
        audience, title, body = self._audience(), self.title, self.body
        call = await self._call(lambda s, u, scope: composer.preview(session=s, scope=scope, audience=audience,
                                                                     title=title, body=body, now=utcnow()),
                                cap=Cap.SEND_CUSTOMER_MESSAGES, form=self._form)
        if not call.ok:
            self.previewed = False
            yield call.answer
            return
        p = call.value
        self.preview_title, self.preview_body = p.title, p.body
        self.recipients, self.devices, self.needs_confirmation = p.recipients, p.devices, p.needs_confirmation
        self.previewed = True

    @rx.event
    async def send(self):
        self.error = ""
        audience, title, body, confirm = self._audience(), self.title, self.body, self.confirm
        try:
            at = datetime.fromisoformat(self.send_at).replace(tzinfo=UTC) if self.send_at else None
        except ValueError:
            self.error = "The send time is not a date and time."
            return
        call = await self._call(lambda s, u, scope: composer.send(session=s, scope=scope, audience=audience,
                                                                  title=title, body=body, now=utcnow(),
                                                                  send_at=at, confirm=confirm),
                                cap=Cap.SEND_CUSTOMER_MESSAGES, form=self._form)
        if not call.ok:
            yield call.answer
            return
        sent = call.value
        scheduled = sent.send_at > utcnow()
        self.sent_message = (f"Scheduled for {when(sent.send_at, 'UTC')} UTC to {sent.recipients} app users."
                             if scheduled else f"Sending to {sent.recipients} app users.")
        self.previewed = False
        self.title = self.body = self.emails = ""
        self.confirm = False
        yield rx.toast.success(self.sent_message)
