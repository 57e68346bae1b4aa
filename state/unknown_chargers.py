"""Unknown chargers: ids that tried to connect without being registered."""
from __future__ import annotations

import reflex as rx

from core.fmt import pages, when
from services.access.permissions import Cap
from services.network import unknown_chargers as svc
from state.base import AppState

PER_PAGE = 20


class UnknownChargersState(AppState):
    rows: list[dict[str, str]] = []
    total: int = 0
    page: int = 1
    can_manage: bool = False
    loading: bool = False

    @rx.var
    def page_count(self) -> int:
        return pages(self.total, PER_PAGE)

    async def _fetch(self):
        offset = (self.page - 1) * PER_PAGE

        def work(session, user, scope):
            return svc.list_unknown(session=session, scope=scope, limit=PER_PAGE, offset=offset), \
                scope.can(Cap.MANAGE_CHARGERS)

        call = await self._call(work, cap=Cap.VIEW_UNKNOWN_CHARGERS)
        if not call.ok:
            return call.answer
        (rows, self.total), self.can_manage = call.value
        self.rows = [{"id": str(r.id), "ocpp_id": r.ocpp_id, "address": r.remote_address or "—",
                      "attempts": str(r.attempts), "first": when(r.first_seen_at, "UTC"),
                      "last": when(r.last_seen_at or r.first_seen_at, "UTC")} for r in rows]
        return None

    @rx.event
    async def load(self):
        self.loading = True
        yield
        try:
            answer = await self._fetch()
        finally:
            self.loading = False
        if answer is not None:
            yield answer

    @rx.event
    async def refresh(self):
        yield await self._fetch()

    @rx.event
    async def go_page(self, page: int):
        self.page = min(max(1, page), self.page_count)
        yield await self._fetch()

    @rx.event
    async def dismiss(self, unknown_id: str):
        call = await self._call(lambda s, u, scope: svc.dismiss(session=s, scope=scope, unknown_id=int(unknown_id)),
                                cap=Cap.VIEW_UNKNOWN_CHARGERS)
        yield call.answer if not call.ok else await self._fetch()
