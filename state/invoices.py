"""The invoices list and the bulk "Generate invoices" action.

The bulk run is a background event: one service call (services.billing.invoicing.generate_bulk) invoices the
organizations one by one, each in its own transaction, and reports every outcome through a callback;
the event turns those into the progress bar and the report as they arrive. The service makes each
period once (database uniqueness), so a second run reports "skipped: already invoiced"."""
from __future__ import annotations

import asyncio
import logging
from datetime import date, timedelta
from typing import ClassVar

import reflex as rx

from core.clock import utcnow
from core.errors import ValidationError
from core.fmt import day, page_range, period
from core.money import format_money
from models.invoice import InvoiceKind
from models.organization import OrganizationKind
from services.access import organizations as org_svc
from services.access.permissions import Cap
from services.billing import invoicing
from state.base import REFUSALS, AppState, Filters, PagedTable

log = logging.getLogger(__name__)

PAGE_SIZE = 25
ANY = "any"
STATUSES = list(invoicing.STATUS_LABELS)
KINDS = {InvoiceKind.INVOICE: "Invoices", InvoiceKind.CREDIT_NOTE: "Credit notes"}
OUTCOME_LABELS = {"made": "Made", "skipped": "Skipped", "failed": "Failed"}


def invoice_row(r: invoicing.InvoiceRow) -> dict[str, str]:
    return {"id": str(r.id), "number": r.number, "credit": "yes" if r.kind == InvoiceKind.CREDIT_NOTE else "",
            "organization": r.organization, "period": period(r.period_start, r.period_end),
            "issued": day(r.issue_date), "due": day(r.due_date), "status": invoicing.STATUS_LABELS[r.status],
            "gross": format_money(r.amount_gross, r.currency), "net": format_money(r.amount_net_payable, r.currency),
            "currency": r.currency}


def outcome_row(o: invoicing.Outcome) -> dict[str, str]:
    return {"organization": o.organization, "outcome": OUTCOME_LABELS.get(o.outcome, o.outcome), "reason": o.reason,
            "invoice_id": str(o.invoice_id or ""), "number": o.number or ""}


def last_month(today: date) -> tuple[date, date]:
    """The calendar month before `today`: the period a finance team usually closes."""
    end = today.replace(day=1) - timedelta(days=1)
    return end.replace(day=1), end


def parse_day(value: str, field: str, label: str) -> date:
    if not value.strip():
        raise ValidationError(f"Enter the period {label}.", field)
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValidationError("Enter a date like 2026-10-31.", field) from None


class InvoicesState(PagedTable, AppState):
    FILTERS: ClassVar[Filters] = {"status": lambda v: v if v in STATUSES else ANY,
                                  "organization": lambda v: v if v.isdigit() else ANY,
                                  "kind": lambda v: v if v in KINDS else ANY}

    status: str = ANY
    organization: str = ANY
    kind: str = ANY
    per_page: int = PAGE_SIZE
    rows: list[dict[str, str]] = []
    org_choices: list[dict[str, str]] = []  # client organizations in scope (filter and bulk run)
    can_manage: bool = False
    loading: bool = False
    loaded: bool = False

    # The bulk run: the dialog's fields, its progress and its report.
    bulk_open: bool = False
    bulk_start: str = ""
    bulk_end: str = ""
    bulk_all: bool = True
    bulk_selected: list[str] = []
    bulk_error: str = ""
    bulk_field: str = ""
    running: bool = False
    finished: bool = False
    done: int = 0
    expected: int = 0
    current: str = ""
    report: list[dict[str, str]] = []
    summary: str = ""

    @rx.var
    def range_label(self) -> str:
        return page_range(self.total, self.page, self.per_page, "documents", "No invoices")

    @rx.var
    def general_error(self) -> str:
        """An error that belongs to no single field of the bulk form."""
        return "" if self.bulk_field in ("bulk_start", "bulk_end", "bulk_orgs") else self.bulk_error

    @rx.var
    def progress(self) -> int:
        return round(100 * self.done / self.expected) if self.expected else 0

    @rx.var
    def made(self) -> int:
        return sum(1 for r in self.report if r["outcome"] == "Made")

    @rx.var
    def skipped(self) -> int:
        return sum(1 for r in self.report if r["outcome"] == "Skipped")

    @rx.var
    def failed(self) -> int:
        return sum(1 for r in self.report if r["outcome"] == "Failed")

    async def _fetch(self):
        status, organization, kind = self.status, self.organization, self.kind
        limit, offset = self.per_page, (self.page - 1) * self.per_page

        def work(session, user, scope):
            rows, total = invoicing.list_invoices(
                session=session, scope=scope, status=None if status == ANY else status,
                organization_id=None if organization == ANY else int(organization),
                kind=None if kind == ANY else kind, limit=limit, offset=offset)
            orgs = [{"id": str(o.id), "name": o.name} for o in org_svc.list_organizations(session=session, scope=scope)
                    if o.kind != OrganizationKind.OPERATOR]
            return [invoice_row(r) for r in rows], total, orgs, scope.can(Cap.MANAGE_INVOICES)

        self.loading = True
        call = await self._call(work, cap=Cap.VIEW_INVOICES)
        self.loading = False
        if not call.ok:
            yield call.answer
            return
        out = call.value
        self.rows, self.total, self.org_choices, self.can_manage = out
        if self.organization != ANY and self.organization not in {o["id"] for o in self.org_choices}:
            self.organization = ANY
        self.loaded = True

    @rx.event
    async def load(self):
        self.page = 1
        if not self.running:
            self.bulk_open = False
        async for update in self._fetch():
            yield update

    # --- bulk run -------------------------------------------------------------------------------------

    @rx.event
    def open_bulk(self):
        if not self.running:
            start, end = last_month(utcnow().date())
            self.bulk_start, self.bulk_end = self.bulk_start or start.isoformat(), self.bulk_end or end.isoformat()
            self.bulk_error = self.bulk_field = ""
        self.bulk_open = True

    @rx.event
    def set_bulk_open(self, value: bool):
        self.bulk_open = value

    @rx.event
    def set_bulk_start(self, value: str):
        self.bulk_start = value

    @rx.event
    def set_bulk_end(self, value: str):
        self.bulk_end = value

    @rx.event
    def set_bulk_all(self, value: str):
        self.bulk_all = value == "all"

    @rx.event
    def toggle_org(self, org_id: str, checked: bool):
        chosen = [i for i in self.bulk_selected if i != org_id]
        self.bulk_selected = chosen + [org_id] if checked else chosen

    def _bulk_refused(self, message: str, field: str) -> None:
        self.bulk_error, self.bulk_field = message, field

    @rx.event
    def new_run(self):
        """Back from the report to the form, for another period."""
        if not self.running:
            self.finished, self.report, self.summary = False, [], ""

    @rx.event(background=True)
    async def generate(self):
        async with self:
            if self.running:
                return
            try:
                start = parse_day(self.bulk_start, "bulk_start", "start")
                end = parse_day(self.bulk_end, "bulk_end", "end")
                invoicing.validate_period(start, end)
                ids = None if self.bulk_all else sorted(int(i) for i in self.bulk_selected)
                if ids == []:
                    raise ValidationError("Select at least one organization, or choose all.", "bulk_orgs")
            except ValidationError as exc:
                return self._refused(exc, self._bulk_refused)
            self.bulk_error = self.bulk_field = ""
            self.running, self.finished, self.report, self.summary, self.done = True, False, [], "", 0
            self.expected = len(ids) if ids is not None else len(self.org_choices)
            self.current = ""

        loop = asyncio.get_running_loop()
        updates: asyncio.Queue = asyncio.Queue()

        def push(item) -> None:  # called from the worker thread
            loop.call_soon_threadsafe(updates.put_nowait, item)

        def work(session, user, scope):
            return invoicing.generate_bulk(
                session=session, scope=scope, period_start=start, period_end=end, organization_ids=ids,
                trigger="bulk", on_outcome=lambda o: push(("outcome", o)),
                on_progress=lambda i, n: push(("progress", i, n)))

        task = asyncio.ensure_future(self._run(work, cap=Cap.MANAGE_INVOICES))
        while not task.done() or not updates.empty():
            if updates.empty():
                waiter = asyncio.ensure_future(updates.get())
                await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
                if not waiter.done():
                    waiter.cancel()
                    continue
                item = waiter.result()
            else:
                item = updates.get_nowait()
            async with self:
                if item[0] == "outcome":
                    self.report = [*self.report, outcome_row(item[1])]
                    self.current = item[1].organization
                else:
                    self.done, self.expected = item[1], item[2]

        try:
            result = task.result()
        except REFUSALS as exc:
            async with self:
                self.running = False
                return self._refused(exc, self._bulk_refused)
        except Exception:  # the organizations done so far are committed; say so rather than spin forever
            log.exception("bulk invoicing stopped")
            async with self:
                self.running, self.finished = False, True
                self.summary = (f"The run stopped after {self.done} of {self.expected} organizations. "
                                "The invoices listed were made; run it again to continue.")
            return InvoicesState.refresh
        async with self:
            self.running, self.finished, self.current = False, True, ""
            self.done = self.expected = len(result.outcomes)
            self.report = [outcome_row(o) for o in result.outcomes]
            self.summary = result.summary
        return InvoicesState.refresh
