"""One invoice or credit note: header, parties, lines per charger, the settlement (gross, taxes, charges,
commissions, net payable), status history and, for Cap.MANAGE_INVOICES, its actions.

The content of an issued document never changes; the actions only move its status, send it, or issue a
correction (credit note plus new invoice). The services check the capability and the scope again."""
from __future__ import annotations

import reflex as rx

from core.errors import NotFound
from core.fmt import day, kwh, period, when
from core.mail import MailError
from core.money import format_money
from models.invoice import InvoiceKind, InvoiceStatus
from services.access.permissions import Cap
from services.billing import invoice_mail as mail
from services.billing import invoicing
from services.billing.invoice_view import InvoiceView, invoice_view
from state.base import AppState

PDF_PATH = "/api/v1/invoices/{id}/pdf"


def statement(view: InvoiceView, currency: str) -> list[dict[str, str]]:
    """The invoice view's charges, taxes and settlement as table rows, amounts formatted."""
    return [{"key": ln.key, "label": ln.label, "note": ln.note, "amount": format_money(ln.amount, currency),
             "kind": ln.kind} for ln in (*view.charges, *view.taxes, *view.settlement)]


def line_row(ln: invoicing.LineRow, currency: str) -> dict[str, str]:
    a = ln.amounts

    def money(key: str) -> str:
        return format_money(a[key], currency)

    return {"position": str(ln.position), "charger_id": str(ln.charger_id or ""), "description": ln.description,
            "sessions": f"{ln.session_count:,}", "kwh": kwh(ln.energy_kwh, 3, unit=False),
            "energy": money("amount_energy"),
            "time": money("amount_time"), "fees": money("amount_session_fee"), "idle": money("amount_idle"),
            "subtotal": money("amount_subtotal"), "gross": money("amount_gross"), "net": money("amount_net_payable")}


def history_row(h: invoicing.StatusChangeRow, tz: str) -> dict[str, str]:
    label = invoicing.STATUS_LABELS
    return {"when": when(h.changed_at, tz), "from": label.get(h.from_status or "", ""),
            "to": label.get(h.to_status, h.to_status), "by": h.changed_by, "reason": h.reason or ""}


class InvoiceDetailState(AppState):
    invoice_id: int = 0
    not_found: bool = False
    info: dict[str, str] = {}
    platform: list[str] = []
    customer: list[str] = []
    lines: list[dict[str, str]] = []
    summary: list[dict[str, str]] = []
    history: list[dict[str, str]] = []
    credit_notes: list[dict[str, str]] = []  # an invoice's partial credit notes, one per refund
    can_manage: bool = False
    busy: str = ""

    # The last action's answer (sending, correcting), shown on the page.
    notice: str = ""
    notice_kind: str = ""  # sent | outbox | error
    correction: dict[str, str] = {}

    void_open: bool = False
    void_reason: str = ""
    void_error: str = ""
    correct_open: bool = False
    correct_reason: str = ""
    correct_error: str = ""

    @rx.var
    def status(self) -> str:
        return self.info.get("status", "")

    @rx.var
    def can_send(self) -> bool:
        return self.can_manage and self.status == "Draft"

    @rx.var
    def can_pay(self) -> bool:
        return self.can_manage and self.status in ("Sent", "Overdue")

    @rx.var
    def can_void(self) -> bool:
        return self.can_manage and self.status in ("Draft", "Sent", "Overdue")

    @rx.var
    def can_email(self) -> bool:
        return self.can_manage and self.status not in ("Void", "")

    @rx.var
    def can_correct(self) -> bool:
        return (self.can_manage and self.info.get("kind") == InvoiceKind.INVOICE
                and self.info.get("credited_by_number", "") == "" and not self.credit_notes)

    @rx.var
    def pdf_url(self) -> str:
        return PDF_PATH.format(id=self.invoice_id)

    @rx.var
    def pdf_name(self) -> str:
        return f"{self.info.get('number', 'invoice')}.pdf"

    def _show(self, d: invoicing.InvoiceDetail) -> None:
        view = invoice_view(d)
        self.info = {
            "id": str(d.id), "number": d.number, "kind": d.kind, "title": view.title, "net_heading": view.net_heading,
            "status": invoicing.STATUS_LABELS[d.status], "organization": d.customer_party.get("name", ""),
            "period": period(d.period_start, d.period_end), "issued": day(d.issue_date), "due": day(d.due_date),
            "terms": f"{d.payment_terms_days} days", "currency": d.currency, "timezone": d.timezone,
            "revision": str(d.revision), "void_reason": d.void_reason or "",
            "correction_reason": d.correction_reason or "",
            "credits_id": str(d.credits_invoice_id or ""), "credits_number": d.credits_number or "",
            "credited_by_id": str(d.credited_by_id or ""), "credited_by_number": d.credited_by_number or "",
            "refund_reference": d.refund_reference or "", "refund_payment_id": str(d.refund_payment_id or ""),
            "net": format_money(d.amounts["amount_net_payable"], d.currency),
            "gross": format_money(d.amounts["amount_gross"], d.currency),
            "sessions": f"{d.session_count:,}", "energy": kwh(d.energy_kwh, 3),
        }
        self.platform, self.customer = view.platform, view.customer
        self.lines = [line_row(ln, d.currency) for ln in d.lines]
        self.summary = statement(view, d.currency)
        self.history = [history_row(h, d.timezone) for h in d.history]
        self.credit_notes = [{"id": str(c.id), "number": c.number, "status": invoicing.STATUS_LABELS[c.status],
                              "issued": day(c.issue_date), "amount": format_money(c.amount_gross, d.currency),
                              "refund": c.refund_reference, "payment_id": str(c.payment_id)} for c in d.credit_notes]

    @rx.event
    async def load(self):
        try:
            self.invoice_id = int(self.router.url.path.rstrip("/").rsplit("/", 1)[-1])
        except (TypeError, ValueError):
            self.invoice_id = 0
        self.info, self.not_found, self.notice, self.correction = {}, False, "", {}
        self.void_open = self.correct_open = False
        yield
        invoice_id = self.invoice_id

        def work(session, user, scope):
            if not invoice_id:
                raise NotFound("Invoice not found.")
            return invoicing.get_invoice(session=session, scope=scope, invoice_id=invoice_id), \
                scope.can(Cap.MANAGE_INVOICES)

        # A document outside the scope is simply not found.
        call = await self._call(work, cap=Cap.VIEW_INVOICES)
        if not call.ok:
            yield call.answer
            return
        d, self.can_manage = call.value
        self._show(d)

    async def _change(self, status: str, reason: str | None = None):
        invoice_id = self.invoice_id

        def work(session, user, scope):
            return invoicing.change_status(session=session, scope=scope, invoice_id=invoice_id, status=status,
                                           reason=reason)

        self.busy = status
        call = await self._call(work, cap=Cap.MANAGE_INVOICES)
        self.busy = ""
        if not call.ok:
            return False, call.answer
        self._show(call.value)
        return True, rx.toast.success(f"{call.value.number} is now {invoicing.STATUS_LABELS[call.value.status]}.")

    @rx.event
    async def mark_sent(self):
        _, answer = await self._change(InvoiceStatus.SENT)
        yield answer

    @rx.event
    async def mark_paid(self):
        _, answer = await self._change(InvoiceStatus.PAID)
        yield answer

    @rx.event
    def open_void(self):
        self.void_open, self.void_reason, self.void_error = True, "", ""

    @rx.event
    def set_void_open(self, value: bool):
        self.void_open = value

    @rx.event
    def set_void_reason(self, value: str):
        self.void_reason = value

    @rx.event
    async def void(self):
        if not self.void_reason.strip():
            self.void_error = "Give a reason to void an invoice."
            return
        ok, answer = await self._change(InvoiceStatus.VOID, self.void_reason)
        if ok:
            self.void_open = False
        elif answer is not None:
            self.void_error = "The invoice was not voided; see the message."
        yield answer

    @rx.event
    async def send_email(self):
        invoice_id = self.invoice_id

        def work(session, user, scope):
            try:
                result = mail.send_invoice(session=session, scope=scope, invoice_id=invoice_id)
            except MailError as exc:
                return "error", str(exc), None
            return ("sent" if result.delivered else "outbox", result.message,
                    invoicing.get_invoice(session=session, scope=scope, invoice_id=invoice_id))

        self.busy = "email"
        yield
        call = await self._call(work, cap=Cap.MANAGE_INVOICES)
        self.busy = ""
        if not call.ok:
            yield call.answer
            return
        self.notice_kind, self.notice, fresh = call.value
        if fresh is not None:
            self._show(fresh)

    @rx.event
    def open_correct(self):
        self.correct_open, self.correct_reason, self.correct_error = True, "", ""

    @rx.event
    def set_correct_open(self, value: bool):
        self.correct_open = value

    @rx.event
    def set_correct_reason(self, value: str):
        self.correct_reason = value

    @rx.event
    async def correct(self):
        reason = self.correct_reason
        if not reason.strip():
            self.correct_error = "Give a reason for the correction; it is printed on the credit note."
            return
        invoice_id = self.invoice_id

        def work(session, user, scope):
            fix = invoicing.correct_invoice(session=session, scope=scope, invoice_id=invoice_id, reason=reason)
            return fix, invoicing.get_invoice(session=session, scope=scope, invoice_id=invoice_id)

        self.busy = "correct"
        yield
        call = await self._call(work, cap=Cap.MANAGE_INVOICES)
        self.busy = ""
        if not call.ok:
            if call.answer is not None:
                self.correct_error = "Nothing was issued; see the message."
            yield call.answer
            return
        fix, fresh = call.value
        self._show(fresh)
        self.correct_open = False
        cn, new = fix.credit_note, fix.new_invoice
        self.correction = {
            "credit_id": str(cn.id) if cn else "", "credit_number": cn.number if cn else "",
            "new_id": str(new.id) if new else "", "new_number": new.number if new else "",
            "text": (("Credit note " + cn.number + " issued. ") if cn else "")
            + (f"New invoice {new.number} issued for the period." if new
               else "The period has nothing left to bill, so no new invoice was made."),
        }

    @rx.event
    def dismiss_notice(self):
        self.notice = ""
