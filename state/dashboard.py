"""The dashboard: status counts, live charger cards, revenue tiles and charts, per-charger performance.

Only the current page of cards and of the performance table lives in the state; counts and sums
come from SQL. A background follower (state/live.py) refreshes the cards it shows when a charger
in the user's scope reports a change, without a reload.
"""
from __future__ import annotations

import asyncio
from datetime import UTC
from decimal import Decimal
from typing import ClassVar

import reflex as rx

from core.clock import utcnow
from core.events import EventType
from core.fmt import chart_label, kwh, pages, when
from core.money import format_money
from models.charger import ChargerStatus
from services.access.permissions import Cap
from services.network import dashboard as svc
from state import live
from state.base import AppState, Filters, PagedTable

ROUTE = "/dashboard"
CARDS_PER_PAGE = 24
PERFORMANCE_PER_PAGE = 10
# Session starts and stops refresh the revenue, energy and session tiles at most this often per browser.
SUMMARY_SECONDS = 3.0
PERIOD_LABELS = {"today": "Today", "week": "This week", "month": "This month", "year": "This year"}


def _one(value: str | list[str]) -> str:
    """A segmented control's value (a string, or a list of one)."""
    return value if isinstance(value, str) else (value[0] if value else "")


# The performance table's filters, and how each value is cleaned.
PERFORMANCE_FILTERS: Filters = {
    "perf_period": lambda v: _one(v) if _one(v) in svc.PERFORMANCE_PERIODS else "7d",
    "perf_sort": lambda v: v if v in svc.PERFORMANCE_SORTS else "energy",
}


def _card(c: svc.ChargerCard) -> dict[str, str]:
    return {"id": str(c.id), "ocpp_id": c.ocpp_id, "name": c.name, "organization": c.organization_name,
            "status": c.status, "lifecycle": c.lifecycle_status, "heartbeat": when(c.last_heartbeat_at, c.timezone),
            "connected": "yes" if c.connected else ""}


class DashboardState(PagedTable, AppState):
    """The charger cards are the paged table (`total` cards match the filters); the performance table
    pages on its own (`perf_page`, `set_perf_filter`)."""

    FILTERS: ClassVar[Filters] = {"search": str, "status_filter": str}

    status_counts: list[dict[str, str]] = []
    organizations: int = 0
    chargers: int = 0
    cards: list[dict[str, str]] = []
    status_filter: str = ""
    search: str = ""
    per_page: int = CARDS_PER_PAGE
    loading: bool = False

    # Money, energy and sessions.
    revenue_rows: list[dict[str, str]] = []   # one per currency: today/week/month/year
    org_rows: list[dict[str, str]] = []       # one per organization and currency
    charts: list[dict] = []                   # one per currency: {"currency", "points": [{"day", "revenue"}]}
    energy_points: list[dict] = []            # kWh per day this month (all currencies)
    energy_month: str = "0 kWh"
    energy_year: str = "0 kWh"
    sessions_month: int = 0
    sessions_today: int = 0

    perf_rows: list[dict[str, str]] = []
    perf_total: int = 0
    perf_period: str = "7d"
    perf_sort: str = "energy"
    perf_page: int = 1

    # Bumped by every load: an older live follower sees it changed and stops.
    _generation: int = 0
    live_updates: int = 0

    @rx.var
    def perf_page_count(self) -> int:
        return pages(self.perf_total, PERFORMANCE_PER_PAGE)

    @rx.var
    def charging(self) -> int:
        return sum(int(c["count"]) for c in self.status_counts if c["status"] == ChargerStatus.CHARGING)

    @rx.var
    def attention(self) -> int:
        """Chargers that need someone: faulted or unavailable."""
        return sum(int(c["count"]) for c in self.status_counts
                   if c["status"] in (ChargerStatus.FAULTED, ChargerStatus.UNAVAILABLE))

    async def _fetch(self):
        """The status counts and one page of charger cards."""
        status, search = self.status_filter, self.search
        limit, offset = self.per_page, (self.page - 1) * self.per_page

        def work(session, user, scope):
            return svc.overview(session=session, scope=scope, status=status or None, search=search,
                                limit=limit, offset=offset)

        call = await self._call(work, cap=Cap.VIEW_DASHBOARD)
        if not call.ok:
            yield call.answer
            return
        o = call.value
        self._set_counts(o.status_counts)
        self.organizations, self.chargers, self.total = o.organizations, o.chargers, o.matching
        self.cards = [_card(c) for c in o.cards]

    def _set_counts(self, counts: dict[str, int]) -> None:
        self.status_counts = [{"status": s, "count": str(n)} for s, n in counts.items()]

    async def _fetch_summary(self):
        def work(session, user, scope):
            return svc.summary(session=session, scope=scope)

        call = await self._call(work, cap=Cap.VIEW_DASHBOARD)
        if not call.ok:
            return call.answer
        s = call.value
        self.revenue_rows = [
            {"currency": c.currency, **{p: format_money(c.periods[p].revenue, c.currency) for p in svc.PERIODS}}
            for c in s.currencies]
        self.org_rows = [
            {"name": o.name, "currency": o.currency,
             **{p: format_money(o.periods[p].revenue, o.currency) for p in svc.PERIODS},
             "kwh": kwh(o.periods["month"].energy_kwh, 1), "sessions": str(o.periods["month"].sessions)}
            for o in s.organizations]
        month = sum((c.periods["month"] for c in s.currencies), svc.Totals())
        year = sum((c.periods["year"] for c in s.currencies), svc.Totals())
        today = sum((c.periods["today"] for c in s.currencies), svc.Totals())
        # kWh and session counts add up across currencies; money never does.
        self.energy_month, self.energy_year = kwh(month.energy_kwh, 0), kwh(year.energy_kwh, 0)
        self.sessions_month, self.sessions_today = month.sessions, today.sessions
        days = svc.month_days(s, utcnow().astimezone(UTC).date())
        charts = []
        for c in s.currencies:
            by_day = {p.day: p.revenue for p in s.days if p.currency == c.currency}
            charts.append({"currency": c.currency, "total": format_money(c.periods["month"].revenue, c.currency),
                           "points": [{"day": chart_label(d), "revenue": float(by_day.get(d, 0))}
                                      for d in days]})
        self.charts = charts
        energy: dict = {}
        for p in s.days:
            energy[p.day] = energy.get(p.day, Decimal(0)) + p.energy_kwh
        self.energy_points = [{"day": chart_label(d), "kwh": float(energy.get(d, 0))} for d in days]
        return None

    async def _fetch_performance(self):
        period, sort = self.perf_period, self.perf_sort
        offset = (self.perf_page - 1) * PERFORMANCE_PER_PAGE

        def work(session, user, scope):
            return svc.performance(session=session, scope=scope, period=period, sort=sort,
                                   limit=PERFORMANCE_PER_PAGE, offset=offset)

        call = await self._call(work, cap=Cap.VIEW_DASHBOARD)
        if not call.ok:
            return call.answer
        rows, self.perf_total = call.value
        self.perf_rows = [{"id": str(r.charger_id), "ocpp_id": r.ocpp_id, "name": r.name,
                           "organization": r.organization_name, "revenue": format_money(r.revenue, r.currency),
                           "kwh": kwh(r.energy_kwh, 1), "sessions": str(r.sessions)} for r in rows]
        return None

    @rx.event
    async def load(self):
        self.loading = True
        yield
        try:
            refused = False
            async for answer in self._fetch():
                refused = True
                yield answer
            for step in (self._fetch_summary, self._fetch_performance):
                if refused or self.denied:
                    return
                answer = await step()
                if answer is not None:
                    yield answer
                    return
        finally:
            self.loading = False
        if not self.denied:
            yield DashboardState.follow_live

    @rx.event
    async def filter_status(self, status: str):
        # Clicking the active filter again clears it.
        self._filtered(self.FILTERS, "status_filter", "" if status == self.status_filter else status)
        async for update in self._fetch():
            yield update

    @rx.event
    async def set_perf_filter(self, name: str, value: str | list[str]):
        if self._filtered(PERFORMANCE_FILTERS, name, value, page="perf_page"):
            yield await self._fetch_performance()

    @rx.event
    async def go_perf_page(self, page: int):
        self.perf_page = min(max(1, page), self.perf_page_count)
        yield await self._fetch_performance()

    # --- live -------------------------------------------------------------------------------------------

    @rx.event(background=True)
    async def follow_live(self):
        async with self:
            self._generation += 1
            generation = self._generation
            token = self.router.session.client_token
        try:
            accept = await self._run(lambda session, user, scope: svc.event_filter(session=session, scope=scope),
                                     cap=Cap.VIEW_DASHBOARD)
        except Exception:  # noqa: BLE001 - logged out or refused: the page itself says so
            return

        async def still_wanted() -> bool:
            async with self:
                return (self._generation == generation and self.router.route_id in ("", ROUTE)
                        and live.client_connected(token))

        summarised = [0.0]  # when this follower last refreshed the tiles (event-loop time)

        async def apply(batch: list[dict]) -> None:
            if any(e.get("type") == EventType.TRANSACTION for e in batch):
                # Sessions started or stopped: the tiles move too, at most every SUMMARY_SECONDS per browser.
                # Waiting here lets a busy network's events pile up into the next batch instead of flooding.
                loop = asyncio.get_running_loop()
                if (wait := summarised[0] + SUMMARY_SECONDS - loop.time()) > 0:
                    await asyncio.sleep(wait)
                summarised[0] = loop.time()
                async with self:
                    await self._fetch_summary()
            ids = {int(e["charger_id"]) for e in batch if e.get("charger_id") is not None}
            async with self:
                shown = [int(c["id"]) for c in self.cards]
            wanted = [i for i in shown if i in ids]

            def work(session, user, scope):
                counts = svc.status_counts(session=session, scope=scope)
                return counts, svc.cards_by_id(session=session, scope=scope, charger_ids=wanted)

            counts, fresh = await self._run(work, cap=Cap.VIEW_DASHBOARD)
            async with self:
                self._set_counts(counts)
                self.chargers = sum(counts.values())
                # Replace only the cards that changed; a card hidden since then drops out.
                self.cards = [_card(fresh[int(c["id"])]) if int(c["id"]) in fresh and fresh[int(c["id"])]
                              else c for c in self.cards if int(c["id"]) not in wanted or int(c["id"]) in fresh]
                self.live_updates += 1

        await live.follow(accept=accept, still_wanted=still_wanted, apply=apply)
