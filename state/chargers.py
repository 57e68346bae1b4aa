"""The charger table: search, sort, filters and pages, all in SQL through the user's scope."""
from __future__ import annotations

from typing import ClassVar

import reflex as rx

from core.fmt import MISSING, page_range, when
from services.access.permissions import Cap
from services.network import chargers as svc
from state.base import AppState, Filters, PagedTable

PAGE_SIZES = ["10", "20", "50"]
ANY = "any"  # a select's "no filter" value (radix selects refuse empty values)


class ChargersState(PagedTable, AppState):
    # Each filter and how its value is cleaned (a select's value arrives as the browser sent it).
    FILTERS: ClassVar[Filters] = {"search": str, "status_filter": str, "lifecycle_filter": str, "visible_filter": str,
               "org_filter": lambda v: v if v.isdigit() else ANY,
               "per_page": lambda v: int(v) if v in PAGE_SIZES else int(PAGE_SIZES[0])}

    rows: list[dict[str, str]] = []
    search: str = ""
    status_filter: str = ANY
    lifecycle_filter: str = ANY
    org_filter: str = ANY
    visible_filter: str = ANY
    can_manage: bool = False
    sort: str = "ocpp_id"
    descending: bool = False
    per_page: int = 10
    loading: bool = False

    @rx.var
    def range_label(self) -> str:
        return page_range(self.total, self.page, self.per_page, "", "No chargers")

    async def _fetch(self):
        self.loading = True
        yield
        args = dict(search=self.search, status=None if self.status_filter == ANY else self.status_filter,
                    lifecycle_status=None if self.lifecycle_filter == ANY else self.lifecycle_filter,
                    organization_id=None if self.org_filter == ANY else int(self.org_filter),
                    visible=None if self.visible_filter == ANY else self.visible_filter == "visible",
                    sort=self.sort, descending=self.descending, limit=self.per_page,
                    offset=(self.page - 1) * self.per_page)

        def work(session, user, scope):
            return svc.list_chargers(session=session, scope=scope, **args), scope.can(Cap.MANAGE_CHARGERS)

        call = await self._call(work, cap=Cap.VIEW_CHARGERS)
        self.loading = False
        if not call.ok:
            yield call.answer
            return
        (rows, total), self.can_manage = call.value
        self.total = total
        self.rows = [{
            "id": str(r.id), "ocpp_id": r.ocpp_id, "name": r.name, "organization": r.organization_name,
            "address": r.address or MISSING, "status": r.status, "lifecycle": r.lifecycle_status,
            "visible": "Visible" if r.visible else "Hidden", "heartbeat": when(r.last_heartbeat_at, r.timezone),
            "organization_id": str(r.organization_id), "owner": r.location_owner or MISSING,
            "owner_id": str(r.location_owner_id or ""),
        } for r in rows]

    @rx.event
    async def load(self):
        self.page = 1
        if self.org_filter != ANY and not any(o["id"] == self.org_filter for o in self.org_options):
            self.org_filter = ANY
        async for update in self._fetch():
            yield update

    @rx.event
    async def sort_by(self, column: str):
        # A second click on the same column flips the direction.
        if column not in svc.SORT_COLUMNS:
            return
        self.descending = not self.descending if column == self.sort else False
        self.sort, self.page = column, 1
        async for update in self._fetch():
            yield update
