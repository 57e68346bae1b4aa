"""Unknown chargers: ids that tried to connect without being registered."""
from __future__ import annotations

import reflex as rx

from core.fmt import MISSING, when
from services.access.permissions import Cap
from services.network import unknown_chargers as svc
from state.base import AppState, PagedTable


class UnknownChargersState(PagedTable, AppState):
    rows: list[dict[str, str]] = []
    can_manage: bool = False
    loading: bool = False

    async def _fetch(self):
        limit, offset = self.per_page, (self.page - 1) * self.per_page

        def work(session, user, scope):
            return svc.list_unknown(session=session, scope=scope, limit=limit, offset=offset), \
                scope.can(Cap.MANAGE_CHARGERS)

        call = await self._call(work, cap=Cap.VIEW_UNKNOWN_CHARGERS)
        if not call.ok:
            yield call.answer
            return
        (rows, self.total), self.can_manage = call.value
        self.rows = [{"id": str(r.id), "ocpp_id": r.ocpp_id, "address": r.remote_address or MISSING,
                      "attempts": str(r.attempts), "first": when(r.first_seen_at, "UTC"),
                      "last": when(r.last_seen_at or r.first_seen_at, "UTC")} for r in rows]

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
    async def dismiss(self, unknown_id: str):
        call = await self._call(lambda s, u, scope: svc.dismiss(session=s, scope=scope, unknown_id=int(unknown_id)),
                                cap=Cap.VIEW_UNKNOWN_CHARGERS)
        if not call.ok:
            yield call.answer
            return
        async for update in self._fetch():
            yield update
