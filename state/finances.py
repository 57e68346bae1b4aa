"""The Finances page: revenue, kWh and sessions per charger for four periods, totals per organization
with roll-ups up the tree, the next billing run per organization and the history of runs.

Money is shown per currency and never added across currencies. Only the current page of chargers
lives in the state: the totals read the organizations' roll-ups on load; pages and searches read only
their own chargers' figures."""
from __future__ import annotations

from typing import ClassVar

import reflex as rx

from core.fmt import count, kwh, page_range, when
from core.money import format_money
from services.access.permissions import Cap
from services.billing import cycles as billing_cycle
from services.billing import finance, invoicing
from state.base import AppState, Filters, PagedTable

PERIODS = list(finance.PERIODS)  # 24h, 7d, 30d, 365d
PAGE_SIZE = 20
RUN_HISTORY = 50
CYCLES = {"weekly": "Weekly", "monthly": "Monthly", "quarterly": "Quarterly"}
WEEKDAYS = ("", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
TRIGGERS = {"worker": "Scheduled", "bulk": "Bulk (web)", "cli": "Command line", "api": "API"}
OUTCOMES = {"made": "Made", "skipped": "Skipped", "failed": "Failed"}


def figure_cells(periods: dict[str, finance.Figures], currency: str, commission: bool = False) -> dict[str, str]:
    """`rev_7d` (money in its currency) and `sub_7d` (kWh · sessions) for each period. With `commission` (a
    location owner's page) the money is the owner's commission and the revenue it came from goes in `sub_7d`."""
    out: dict[str, str] = {}
    for p in PERIODS:
        f = periods[p]
        out[f"rev_{p}"] = format_money(f.commission if commission else f.revenue, currency)
        out[f"sub_{p}"] = f"{kwh(f.energy_kwh)} · {count(f.sessions, 'session')}"
        if commission:
            out[f"sub_{p}"] = f"of {format_money(f.revenue, currency)} · " + out[f"sub_{p}"]
    return out


def charger_row(r: finance.ChargerRevenue, commission: bool = False) -> dict[str, str]:
    return {"id": str(r.charger_id), "ocpp_id": r.ocpp_id, "name": r.name or "", "organization": r.organization,
            "currency": r.currency, **figure_cells(r.periods, r.currency, commission)}


def currency_totals(rows: list[finance.ChargerRevenue] | list[finance.CurrencyFigures],
                    commission: bool = False) -> list[dict[str, str]]:
    """One entry per currency with every period's revenue (a location owner's: its commission), kWh and
    sessions: sums of the chargers' (or the organizations') figures, each currency on its own."""
    by_currency: dict[str, dict[str, finance.Figures]] = {}
    for r in rows:
        target = by_currency.setdefault(r.currency, {p: finance.Figures() for p in PERIODS})
        for p in PERIODS:
            target[p] = target[p] + r.periods[p]
    return [{"currency": cur, **figure_cells(periods, cur, commission),
             **{f"gross_{p}": format_money(periods[p].revenue, cur) for p in PERIODS},
             **{f"kwh_{p}": kwh(periods[p].energy_kwh) for p in PERIODS},
             **{f"n_{p}": count(periods[p].sessions, "session") for p in PERIODS}}
            for cur, periods in sorted(by_currency.items())]


def tree_rows(totals: list[finance.OrgTotals], rollup: bool, commission: bool = False) -> list[dict[str, str]]:
    """Organizations in tree order (parents before children, by name), one row per currency.

    `rollup` picks the figures including every sub-organization in scope; otherwise the organization's
    own chargers only. An organization's own currency comes first; every further line is named too, so no row
    is only a currency badge."""
    by_id = {t.organization_id: t for t in totals}
    children: dict[int | None, list[finance.OrgTotals]] = {}
    for t in totals:
        parent = t.parent_id if t.parent_id in by_id else None  # the top of what this user sees
        children.setdefault(parent, []).append(t)
    out: list[dict[str, str]] = []

    def walk(parent: int | None, depth: int) -> None:
        for t in sorted(children.get(parent, []), key=lambda t: t.organization.lower()):
            figures = t.rollup if rollup else t.own
            currencies = sorted(figures, key=lambda c: (c != t.currency, c))
            for i, cur in enumerate(currencies):
                label = t.organization if i == 0 else f"{t.organization} · in {cur}"
                out.append({"id": str(t.organization_id), "organization": label,
                            "indent": f"{depth * 20}px", "currency": cur,
                            "has_children": "yes" if children.get(t.organization_id) else "",
                            **figure_cells(figures[cur], cur, commission)})
            walk(t.organization_id, depth + 1)

    walk(None, 0)
    return out


def cycle_label(cycle: str, day: int) -> str:
    if cycle == "weekly":
        return f"Weekly, on {WEEKDAYS[day]}" if 1 <= day <= 7 else "Weekly"
    return f"{CYCLES.get(cycle, cycle.capitalize())}, on day {day}"


def schedule_row(n: billing_cycle.NextRun) -> dict[str, str]:
    return {"organization": n.organization, "cycle": cycle_label(n.billing_cycle, n.billing_day),
            "period": f"{n.period_start} – {n.period_end}", "run_at": when(n.run_at, n.timezone),
            "timezone": n.timezone, "due": "yes" if n.overdue_catch_up else ""}


def run_row(r: dict) -> dict[str, str]:
    return {"id": str(r["id"]), "when": when(r["finished_at"] or r["started_at"]), "organization": r["organization"],
            "period": f"{r['period_start']} – {r['period_end']}", "trigger": TRIGGERS.get(r["trigger"], r["trigger"]),
            "outcome": OUTCOMES.get(r["outcome"], r["outcome"]), "reason": r["reason"],
            "invoice_id": str(r["invoice_id"] or ""), "invoice_number": r["invoice_number"] or ""}


class FinancesState(PagedTable, AppState):
    FILTERS: ClassVar[Filters] = {"search": str}

    period: str = "30d"
    search: str = ""
    per_page: int = PAGE_SIZE
    rollup: bool = True

    currency_rows: list[dict[str, str]] = []
    charger_rows: list[dict[str, str]] = []
    org_rollup_rows: list[dict[str, str]] = []
    org_own_rows: list[dict[str, str]] = []
    schedule: list[dict[str, str]] = []
    runs: list[dict[str, str]] = []
    show_billing: bool = False
    # A location owner's page: the money shown is its commission.
    commission_view: bool = False
    loaded: bool = False
    loading: bool = False

    @rx.var
    def range_label(self) -> str:
        return page_range(self.total, self.page, self.per_page, "chargers", "No chargers")

    @rx.var
    def org_rows(self) -> list[dict[str, str]]:
        return self.org_rollup_rows if self.rollup else self.org_own_rows

    @rx.var
    def period_cards(self) -> list[dict[str, str]]:
        """One card per currency for the chosen period."""
        p = self.period
        return [{"currency": c["currency"], "revenue": c[f"rev_{p}"], "gross": c[f"gross_{p}"], "kwh": c[f"kwh_{p}"],
                 "sessions": c[f"n_{p}"]} for c in self.currency_rows]

    @rx.var
    def period_label(self) -> str:
        return finance.PERIOD_LABELS.get(self.period, "")

    @rx.event
    async def load(self):
        self.loading, self.page = True, 1
        yield
        search, limit = self.search, self.per_page

        def work(session, user, scope):
            totals = finance.organization_totals(session=session, scope=scope)
            billing, owner = scope.can(Cap.VIEW_INVOICES), scope.for_location_owner
            return dict(
                currencies=currency_totals(finance.currency_figures(totals), owner),
                total=finance.count_chargers(session=session, scope=scope, search=search),
                chargers=[charger_row(r, owner) for r in finance.revenue_by_charger(
                    session=session, scope=scope, search=search, limit=limit, offset=0)],
                rollup=tree_rows(totals, True, owner), own=tree_rows(totals, False, owner), billing=billing,
                owner=owner,
                schedule=[schedule_row(n) for n in billing_cycle.next_runs(session=session, scope=scope)]
                if billing else [],
                runs=[run_row(r) for r in invoicing.billing_runs(session=session, scope=scope, limit=RUN_HISTORY)]
                if billing else [],
            )

        call = await self._call(work, cap=Cap.VIEW_FINANCE)
        self.loading = False
        if not call.ok:
            yield call.answer
            return
        out = call.value
        self.currency_rows, self.total, self.charger_rows = out["currencies"], out["total"], out["chargers"]
        self.org_rollup_rows, self.org_own_rows = out["rollup"], out["own"]
        self.show_billing, self.schedule, self.runs = out["billing"], out["schedule"], out["runs"]
        self.commission_view = out["owner"]
        self.loaded = True

    async def _fetch(self):
        """One page of chargers (the totals and the tree stay as loaded)."""
        search, limit, offset = self.search, self.per_page, (self.page - 1) * self.per_page

        def work(session, user, scope):
            return (finance.count_chargers(session=session, scope=scope, search=search),
                    [charger_row(r, scope.for_location_owner) for r in finance.revenue_by_charger(
                        session=session, scope=scope, search=search, limit=limit, offset=offset)])

        call = await self._call(work, cap=Cap.VIEW_FINANCE)
        if not call.ok:
            yield call.answer
            return
        self.total, self.charger_rows = call.value

    @rx.event
    def set_period(self, value: str | list[str]):
        value = value if isinstance(value, str) else (value[0] if value else "")
        if value in PERIODS:
            self.period = value

    @rx.event
    def set_rollup(self, value: str | list[str]):
        self.rollup = value == "rollup"
