"""The dashboard: status counts and charger cards inside the user's (narrowed) scope."""
from __future__ import annotations

import reflex as rx

from services import dashboard as svc
from services.auth import AuthError
from services.permissions import Cap
from state.base import SERVICE_ERRORS, AppState
from state.fmt import pages, when

CARDS_PER_PAGE = 24


class DashboardState(AppState):
    status_counts: list[dict[str, str]] = []
    organizations: int = 0
    chargers: int = 0
    cards: list[dict[str, str]] = []
    matching: int = 0
    status_filter: str = ""
    search: str = ""
    page: int = 1
    loading: bool = False

    @rx.var
    def page_count(self) -> int:
        return pages(self.matching, CARDS_PER_PAGE)

    @rx.var
    def charging(self) -> int:
        return sum(int(c["count"]) for c in self.status_counts if c["status"] == "Charging")

    @rx.var
    def attention(self) -> int:
        """Chargers that need someone: faulted or unavailable."""
        return sum(int(c["count"]) for c in self.status_counts if c["status"] in ("Faulted", "Unavailable"))

    async def _fetch(self):
        self.loading = True
        yield
        status, search, offset = self.status_filter, self.search, (self.page - 1) * CARDS_PER_PAGE

        def work(session, user, scope):
            return svc.overview(session=session, scope=scope, status=status or None, search=search,
                                limit=CARDS_PER_PAGE, offset=offset)

        try:
            o = await self._run(work, cap=Cap.VIEW_DASHBOARD)
        except AuthError as exc:
            yield self._failed(exc)
            return
        except SERVICE_ERRORS as exc:
            if not self.denied:
                yield self._failed(exc)
            return
        finally:
            self.loading = False
        self.status_counts = [{"status": s, "count": str(n)} for s, n in o.status_counts.items()]
        self.organizations, self.chargers, self.matching = o.organizations, o.chargers, o.matching
        self.cards = [{
            "id": str(c.id), "ocpp_id": c.ocpp_id, "name": c.name, "organization": c.organization_name,
            "status": c.status, "lifecycle": c.lifecycle_status, "heartbeat": when(c.last_heartbeat_at),
        } for c in o.cards]

    @rx.event
    async def load(self):
        async for update in self._fetch():
            yield update

    @rx.event
    async def filter_status(self, status: str):
        # Clicking the active filter again clears it.
        self.status_filter = "" if status == self.status_filter else status
        self.page = 1
        async for update in self._fetch():
            yield update

    @rx.event
    async def set_search(self, value: str):
        self.search, self.page = value, 1
        async for update in self._fetch():
            yield update

    @rx.event
    async def go_page(self, page: int):
        self.page = min(max(1, page), self.page_count)
        async for update in self._fetch():
            yield update
