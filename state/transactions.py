"""The transactions page: a date range in the organizations' timezones, filters, sort and pages in SQL,
per-currency totals, the per-charger breakdown, energy analytics and the CSV link."""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import reflex as rx

from core.clock import utcnow
from core.errors import ValidationError
from core.fmt import chart_label, duration, kwh, page_range, pages, when
from core.money import format_money
from services.access.permissions import Cap
from services.charging import transactions as svc
from state.base import ALL_ORGS, AppState, Filters, PagedTable

PRESETS = list(svc.PRESETS)  # 24h, 7d, 30d, 365d
CUSTOM = "custom"
ANY = "any"
PAGE_SIZE = 25
BREAKDOWN_PAGE_SIZE = 20  # the breakdown shows one page of chargers; the CSV keeps every session
MAX_FILLED_BUCKETS = 2000  # a chart longer than this shows only the buckets that have sessions
CSV_PATH = "/api/v1/transactions.csv"
# Filter fields that show their own error under the input; others show one callout.
FIELDS = ("preset", "date_from", "date_to", "charger", "connector_id", "id_tag", "status")


def status_label(status: str, flags: list[str]) -> str:
    return "Flagged" if flags else status.capitalize()


def _buckets(start: datetime, end: datetime, granularity: str) -> list[datetime]:
    step = timedelta(hours=1) if granularity == "hour" else timedelta(days=1)
    out, cur = [], start
    while cur <= end and len(out) <= MAX_FILLED_BUCKETS:
        out.append(cur)
        cur += step
    return out


def _truncate(value: datetime, granularity: str) -> datetime:
    value = value.replace(minute=0, second=0, microsecond=0, tzinfo=None)
    return value if granularity == "hour" else value.replace(hour=0)


def chart_rows(points: list[svc.AnalyticsPoint], *, granularity: str, start: datetime | None,
               end: datetime | None) -> tuple[list[dict[str, Any]], list[str]]:
    """One row per local day or hour: kWh (all currencies) and revenue per currency (`rev_EUR`).

    Days or hours without sessions are zero rows, so the chart shows the whole range."""
    currencies = sorted({p.currency for p in points})
    by_bucket: dict[datetime, dict[str, Any]] = {}
    keys = [b.replace(tzinfo=None) for b in (p.bucket for p in points)]
    if start is not None and end is not None:
        first, last = _truncate(start, granularity), _truncate(end, granularity)
        if keys:
            first, last = min(first, min(keys)), max(last, max(keys))
        filled = _buckets(first, last, granularity)
        if len(filled) <= MAX_FILLED_BUCKETS:
            keys = filled + keys
    for key in sorted(set(keys)):
        by_bucket[key] = {"kwh": 0.0, "sessions": 0, **{f"rev_{c}": 0.0 for c in currencies}}
    for p in points:
        row = by_bucket[p.bucket.replace(tzinfo=None)]
        row["kwh"] = round(row["kwh"] + float(p.energy_kwh), 3)
        row["sessions"] += p.sessions
        row[f"rev_{p.currency}"] = float(p.revenue)
    return [{"label": chart_label(key, hourly=granularity == "hour"), **row} for key, row in by_bucket.items()], \
        currencies


def _with_charger(session, scope, filters: svc.TxFilter, charger: str) -> svc.TxFilter:
    """The filters with the typed charger resolved among the scope's chargers."""
    if not charger:
        return filters
    return replace(filters, charger_id=svc.resolve_charger(session=session, scope=scope, ocpp_id=charger))


class TransactionsState(PagedTable, AppState):
    # The typed filters and how each value is cleaned; a date typed in switches to a custom range.
    FILTERS: ClassVar[Filters] = {"date_from": str, "date_to": str, "charger": str, "connector": str, "id_tag": str,
                                  "status": lambda v: v if v in (*svc.STATUSES, ANY) else ANY,
                                  "granularity": lambda v: v if v in svc.GRANULARITIES else "day"}

    preset: str = "30d"
    date_from: str = ""
    date_to: str = ""
    charger: str = ""    # an OCPP id, as typed
    connector: str = ""
    id_tag: str = ""
    status: str = ANY
    sort: str = "started_at"
    descending: bool = True
    per_page: int = PAGE_SIZE
    granularity: str = "day"
    revenue_currency: str = ""

    rows: list[dict[str, str]] = []
    totals: list[dict[str, str]] = []
    # A location owner's list: its commission instead of the CPO's net.
    commission_view: bool = False
    breakdown: list[dict[str, str]] = []
    breakdown_page: int = 1
    breakdown_total: int = 0
    chart: list[dict[str, Any]] = []
    currencies: list[str] = []
    timezone_note: str = ""
    filter_error: str = ""
    error_field: str = ""
    charger_id: str = ""  # the resolved filter, for the CSV link (the server scopes it again)
    loading: bool = False

    @rx.var
    def range_label(self) -> str:
        return page_range(self.total, self.page, self.per_page, "sessions", "No sessions")

    @rx.var
    def breakdown_page_count(self) -> int:
        return pages(self.breakdown_total, BREAKDOWN_PAGE_SIZE)

    @rx.var
    def breakdown_label(self) -> str:
        return page_range(self.breakdown_total, self.breakdown_page, BREAKDOWN_PAGE_SIZE, "chargers", "")

    @rx.var
    def revenue_key(self) -> str:
        return f"rev_{self.revenue_currency}"

    @rx.var
    def total_sessions(self) -> str:
        return f"{sum(int(t['sessions']) for t in self.totals):,}"

    @rx.var
    def total_energy(self) -> str:
        # kWh add up across currencies; money never does.
        return kwh(sum(Decimal(t["energy"]) for t in self.totals))

    @rx.var
    def csv_url(self) -> str:
        params: dict[str, str] = {"sort": self.sort, "order": "desc" if self.descending else "asc"}
        if self.preset != CUSTOM:
            params["preset"] = self.preset
        else:
            params.update({k: v for k, v in (("date_from", self.date_from), ("date_to", self.date_to)) if v})
        if self.org_choice != ALL_ORGS:
            params["organization_id"] = self.org_choice
        if self.charger_id:
            params["charger_id"] = self.charger_id
        if self.connector.strip():
            params["connector_id"] = self.connector.strip()
        if self.id_tag.strip():
            params["id_tag"] = self.id_tag.strip()
        if self.status != ANY:
            params["status"] = self.status
        return f"{CSV_PATH}?{urlencode(params)}"

    def _filters(self) -> tuple[svc.TxFilter, str, str]:
        """The typed filters as the service's TxFilter (ValidationError names the bad field)."""
        def day(value: str, field: str) -> date | None:
            if not value:
                return None
            try:
                return date.fromisoformat(value)
            except ValueError:
                raise ValidationError("Enter a date like 2026-03-31.", field) from None

        connector = self.connector.strip()
        if connector and not connector.isdigit():
            raise ValidationError("Connector must be a number (1 or more).", "connector_id")
        custom = self.preset == CUSTOM
        f = svc.TxFilter(
            preset=None if custom else self.preset,
            date_from=day(self.date_from, "date_from") if custom else None,
            date_to=day(self.date_to, "date_to") if custom else None,
            connector_id=int(connector) if connector else None,
            id_tag=self.id_tag.strip() or None, status=None if self.status == ANY else self.status)
        return f, self.charger.strip(), self.granularity

    async def _fetch(self):
        self.loading = True
        yield
        try:
            filters, charger, granularity = self._filters()
        except ValidationError as exc:
            self.loading = False
            self._refused(exc, self._filter_refused)
            return
        sort, descending = self.sort, self.descending
        limit, offset = self.per_page, (self.page - 1) * self.per_page
        breakdown_offset = (self.breakdown_page - 1) * BREAKDOWN_PAGE_SIZE

        def work(session, user, scope):
            f = _with_charger(session, scope, filters, charger)
            return dict(
                filters=f,
                page=svc.list_transactions(session=session, scope=scope, filters=f, sort=sort,
                                           descending=descending, limit=limit, offset=offset),
                breakdown=svc.charger_breakdown_page(session=session, scope=scope, filters=f,
                                                     limit=BREAKDOWN_PAGE_SIZE, offset=breakdown_offset),
                points=svc.energy_analytics(session=session, scope=scope, filters=f, granularity=granularity),
                tz=svc.display_timezone(session=session, scope=scope),
                owner=scope.for_location_owner,
            )

        call = await self._call(work, cap=Cap.VIEW_TRANSACTIONS, form=self._filter_refused)
        self.loading = False
        if not call.ok:
            yield call.answer
            return
        self.filter_error = self.error_field = ""
        self._show(call.value, granularity)

    def _filter_refused(self, message: str, field: str) -> None:
        self.filter_error, self.error_field = message, field if field in FIELDS else ""

    def _show(self, out: dict[str, Any], granularity: str) -> None:
        f, page, tz = out["filters"], out["page"], out["tz"]
        self.commission_view = out["owner"]
        self.charger_id = "" if f.charger_id is None else str(f.charger_id)
        self.total = page.total
        self.rows = [{
            "id": str(r.id), "organization": r.organization_name, "charger": r.charger_ocpp_id,
            "charger_name": r.charger_name, "connector": str(r.connector_id), "id_tag": r.id_tag,
            "started": when(r.started_at, tz), "duration": duration(r.duration_seconds),
            "energy": kwh(r.energy_kwh, unit=False), "amount": format_money(r.amount_gross, r.currency),
            "status": status_label(r.status, r.flags), "flags": ", ".join(r.flags),
        } for r in page.items]
        self.totals = [{
            "currency": t.currency, "sessions": str(t.sessions), "energy": str(t.energy_kwh),
            "gross": format_money(t.amount_gross, t.currency), "net": format_money(t.amount_net_cpo, t.currency),
            "commission": format_money(t.amount_location_owner, t.currency),
        } for t in page.totals]
        self._show_breakdown(out["breakdown"])
        start, end = self._chart_range(tz)
        self.chart, self.currencies = chart_rows(out["points"], granularity=granularity, start=start, end=end)
        if self.revenue_currency not in self.currencies:
            self.revenue_currency = self.currencies[0] if self.currencies else ""
        self.timezone_note = (f"Times are in {tz} (your settings choose it when you see several "
                              "organizations); date filters use each organization's local days.")

    def _show_breakdown(self, found: svc.BreakdownPage) -> None:
        self.breakdown_total = found.total
        self.breakdown = [{
            "charger_id": str(b.charger_id), "charger": b.charger_ocpp_id, "name": b.charger_name,
            "sessions": f"{b.sessions:,}", "energy": kwh(b.energy_kwh, unit=False),
            "revenue": format_money(b.revenue, b.currency), "average": duration(b.avg_duration_seconds),
        } for b in found.items]

    def _chart_range(self, tz: str) -> tuple[datetime | None, datetime | None]:
        """The chart's first and last bucket (local, naive) so empty days or hours still show."""
        if self.preset == CUSTOM:
            try:
                first = date.fromisoformat(self.date_from) if self.date_from else None
                last = date.fromisoformat(self.date_to) if self.date_to else None
            except ValueError:
                return None, None
            if first is None or last is None:
                return None, None
            return datetime.combine(first, datetime.min.time()), datetime.combine(last, datetime.max.time())
        now = utcnow().astimezone(ZoneInfo(tz)).replace(tzinfo=None)
        return now - svc.PRESETS[self.preset], now

    async def _refetch(self):
        self.page = self.breakdown_page = 1
        async for update in self._fetch():
            yield update

    @rx.event
    async def load(self):
        async for update in self._refetch():
            yield update

    @rx.event
    async def set_preset(self, value: str | list[str]):
        if value not in (*PRESETS, CUSTOM):
            return
        self.preset = value
        if value == CUSTOM and not (self.date_from and self.date_to):
            today = utcnow().date()
            self.date_from, self.date_to = (today - timedelta(days=6)).isoformat(), today.isoformat()
        self.granularity = "hour" if value == "24h" else "day"
        async for update in self._refetch():
            yield update

    def _on_filter(self, name: str) -> None:
        self.breakdown_page = 1
        if name in ("date_from", "date_to"):
            self.preset = CUSTOM

    @rx.event
    async def go_breakdown_page(self, page: int):
        """Another page of the breakdown; the list, totals and chart stay as they are."""
        try:
            filters, charger, _ = self._filters()
        except ValidationError:
            return
        self.breakdown_page = min(max(1, page), self.breakdown_page_count)
        offset = (self.breakdown_page - 1) * BREAKDOWN_PAGE_SIZE

        def work(session, user, scope):
            return svc.charger_breakdown_page(session=session, scope=scope, limit=BREAKDOWN_PAGE_SIZE, offset=offset,
                                              filters=_with_charger(session, scope, filters, charger))

        call = await self._call(work, cap=Cap.VIEW_TRANSACTIONS, form=self._filter_refused)
        if not call.ok:
            yield call.answer
            return
        self._show_breakdown(call.value)

    @rx.event
    async def clear_filters(self):
        self.charger = self.connector = self.id_tag = ""
        self.status = ANY
        async for update in self._refetch():
            yield update

    @rx.event
    def set_revenue_currency(self, value: str):
        if value in self.currencies:
            self.revenue_currency = value

    @rx.event
    async def sort_by(self, column: str):
        if column not in svc.SORTS:
            return
        # A second click on the same column flips the direction; new columns start high to low.
        self.descending = not self.descending if column == self.sort else True
        self.sort = column
        async for update in self._refetch():
            yield update
