"""The payments pages' states: the dashboard (every payment across gateways, totals, gateway health), one
payment (timeline, ledger entries, refunds), wallets and one wallet, gateway configuration. Thin: each handler
calls a service through `_call`."""
from __future__ import annotations

from datetime import date
from typing import Any, ClassVar
from urllib.parse import urlencode

import reflex as rx

from core.errors import NotFound
from core.fmt import page_range, when
from core.money import format_money
from services.access import organizations as org_svc
from services.access.permissions import Cap
from services.payments import gateway_config, manual, queries, reconciliation, refunds
from state.base import AppState, Filters, PagedTable

ANY = "any"
GATEWAYS = ("cybersource", "amex", "dialog", "wallet", "manual")
STATUSES = ("pending", "awaiting_approval", "authorized", "captured", "partially_refunded", "refunded", "voided",
            "declined", "failed")
METHODS = ("wallet", "card", "fuel_card", "manual")
GATEWAY_LABELS = {"cybersource": "CyberSource", "amex": "Amex (NTB)", "dialog": "Dialog fuel card",
                  "wallet": "Wallet", "manual": "Manual", "pending": "Routing…", "fuel_card": "Fuel card"}


def label(value: str) -> str:
    return GATEWAY_LABELS.get(value, value.replace("_", " ").capitalize())


def payment_row(r: queries.PaymentRow) -> dict[str, str]:
    return {"id": str(r.id), "created": when(r.created_at), "organization": r.organization, "customer": r.customer,
            "session": str(r.transaction_id or ""), "purpose": label(r.purpose), "method": label(r.method),
            "gateway": label(r.gateway), "status": label(r.status), "reference": r.reference,
            "gateway_reference": r.gateway_reference or "", "card": f"•••• {r.card_last4}" if r.card_last4 else "",
            "authorized": format_money(r.amount_authorized, r.currency),
            "captured": format_money(r.amount_captured, r.currency),
            "refunded": format_money(r.amount_refunded, r.currency) if r.amount_refunded else ""}


def _day(value: object) -> str:
    """A date input's value (YYYY-MM-DD) or empty; anything else is dropped."""
    text = str(value or "")[:10]
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        return ""


KIND_LABELS = {"missing_in_ledger": "Not in our ledger", "missing_at_gateway": "Not at the gateway",
               "amount_differs": "Amounts differ"}


class PaymentsState(PagedTable, AppState):
    FILTERS: ClassVar[Filters] = {"gateway": lambda v: v if v in GATEWAYS else ANY,
                                  "status": lambda v: v if v in STATUSES else ANY,
                                  "method": lambda v: v if v in METHODS else ANY,
                                  "organization": lambda v: str(v) if str(v).isdigit() else ANY,
                                  "date_from": _day, "date_to": _day,
                                  "search": lambda v: str(v)[:64]}
    gateway: str = ANY
    status: str = ANY
    method: str = ANY
    organization: str = ANY
    date_from: str = ""
    date_to: str = ""
    search: str = ""
    per_page: int = 25
    rows: list[dict[str, str]] = []
    totals: list[dict[str, str]] = []
    health: list[dict[str, str]] = []
    org_choices: list[dict[str, str]] = []
    range_note: str = ""
    range_error: str = ""
    range_start: str = ""
    range_end: str = ""
    runs: list[dict[str, str]] = []
    mismatches: list[dict[str, str]] = []
    can_manage: bool = False
    reconciling: bool = False
    loaded: bool = False

    @rx.var
    def range_label(self) -> str:
        return page_range(self.total, self.page, self.per_page, "payments", "No payments")

    @rx.var
    def csv_href(self) -> str:
        params = {k: v for k, v in (("gateway", self.gateway), ("status", self.status), ("method", self.method),
                                    ("organization_id", self.organization)) if v != ANY}
        params.update({k: v for k, v in (("start", self.range_start), ("end", self.range_end)) if v})
        if self.search:
            params["search"] = self.search
        return "/api/v1/payments?" + urlencode({**params, "format": "csv", "limit": "10000"})

    async def _fetch(self):
        f = {k: (None if getattr(self, k) == ANY else getattr(self, k)) for k in ("gateway", "status", "method")}
        org_id = int(self.organization) if self.organization != ANY else None
        first = date.fromisoformat(self.date_from) if self.date_from else None
        last = date.fromisoformat(self.date_to) if self.date_to else None
        search, limit, offset = self.search or None, self.per_page, (self.page - 1) * self.per_page
        self.range_error = ""

        def work(session, user, scope):
            span = queries.day_range(session=session, scope=scope, organization_id=org_id, date_from=first,
                                     date_to=last)
            page = queries.list_payments(session=session, scope=scope, search=search, limit=limit, offset=offset,
                                         start=span.start, end=span.end, organization_id=org_id, **f)
            health = queries.gateway_health(session=session, scope=scope)
            panel = reconciliation.panel(session=session, scope=scope, organization_id=org_id)
            orgs = [{"id": str(o.id), "name": o.name}
                    for o in org_svc.list_organizations(session=session, scope=scope)]
            return span, page, health, panel, orgs, scope.can(Cap.MANAGE_PAYMENTS)

        call = await self._call(work, cap=Cap.VIEW_PAYMENTS, form=self._range_error)
        if not call.ok:
            yield call.answer
            return
        span, page, health, panel, self.org_choices, self.can_manage = call.value
        self.range_start = span.start.isoformat() if span.start else ""
        self.range_end = span.end.isoformat() if span.end else ""
        self.range_note = f"Days in {span.timezone}" if (first or last) else ""
        self.rows, self.total = [payment_row(r) for r in page.rows], page.total
        self.totals = [{"currency": c, "amount": format_money(a, c)} for c, a in sorted(page.totals.items())]
        self.health = [{"gateway": label(h.gateway), "organization": h.organization,
                        "calls": str(h.calls), "success": "—" if h.success_rate is None
                        else f"{h.success_rate:.0%}", "latency": "—" if h.p95_latency_ms is None
                        else f"{h.p95_latency_ms} ms", "circuit": h.circuit.replace("_", "-"),
                        "enabled": "yes" if h.enabled else ""} for h in health]
        self._show_panel(panel)
        self.loaded = True

    def _range_error(self, message: str, field: str) -> None:
        self.range_error = message

    def _show_panel(self, panel: reconciliation.Panel) -> None:
        self.runs = [{"day": r.day.isoformat(), "gateway": label(r.gateway), "organization": r.organization,
                      "status": label(r.status), "lines": str(r.gateway_lines), "payments": str(r.ledger_payments),
                      "mismatches": str(r.mismatches), "message": r.message or "", "ran": when(r.ran_at)}
                     for r in panel.runs]
        self.mismatches = [{"day": m.day.isoformat(), "gateway": label(m.gateway), "organization": m.organization,
                            "reference": m.payment_reference, "payment": str(m.payment_id or ""),
                            "kind": KIND_LABELS.get(m.kind, m.kind),
                            "gateway_amount": "—" if m.gateway_amount is None
                            else format_money(m.gateway_amount, m.currency),
                            "ledger_amount": "—" if m.ledger_amount is None
                            else format_money(m.ledger_amount, m.currency)} for m in panel.mismatches]

    @rx.event
    async def load(self):
        self.page = 1
        async for update in self._fetch():
            yield update

    @rx.event
    async def set_search(self, value: str):
        if self._filtered(self.FILTERS, "search", value):
            async for update in self._fetch():
                yield update

    @rx.event
    async def clear_range(self):
        self.date_from = self.date_to = ""
        self.page = 1
        async for update in self._fetch():
            yield update

    @rx.event
    async def reconcile(self):
        """Reconcile today so far, for every enabled gateway in scope (the worker does each closed day)."""
        self.reconciling = True
        yield

        def work(session, user, scope):
            runs = reconciliation.reconcile_now(session=session, scope=scope)
            session.commit()
            return runs

        call = await self._call(work, cap=Cap.MANAGE_PAYMENTS)
        self.reconciling = False
        if not call.ok:
            yield call.answer
            return
        found = sum(r.mismatches for r in call.value)
        yield (rx.toast.warning if found else rx.toast.success)(
            f"Reconciled {len(call.value)} gateway(s) for today: {found} mismatch(es).")
        async for update in self._fetch():
            yield update


class PaymentDetailState(AppState):
    info: dict[str, str] = {}
    timeline: list[dict[str, str]] = []
    ledger: list[dict[str, str]] = []
    refund_rows: list[dict[str, str]] = []
    not_found: bool = False
    loading: bool = False
    can_refund: bool = False
    refund_amount: str = ""
    refund_reason: str = ""
    refund_error: str = ""

    def _wanted_id(self) -> int | None:
        tail = self.router.url.path.rstrip("/").rsplit("/", 1)[-1]
        return int(tail) if tail.isdigit() else None

    @rx.event
    def set_refund_amount(self, value: str):
        self.refund_amount = value

    @rx.event
    def set_refund_reason(self, value: str):
        self.refund_reason = value

    @rx.event
    async def load(self):
        self.loading, self.not_found, self.refund_error = True, False, ""
        yield
        pid = self._wanted_id()

        def work(session, user, scope):
            if pid is None:
                raise NotFound("Payment not found.")
            return (queries.payment_detail(session=session, scope=scope, payment_id=pid),
                    refunds.list_refunds(session=session, scope=scope, payment_id=pid),
                    scope.can(Cap.MANAGE_PAYMENTS))

        call = await self._call(work, cap=Cap.VIEW_PAYMENTS)
        self.loading = False
        if not call.ok:
            yield call.answer
            return
        self._show(*call.value)

    def _show(self, d: queries.PaymentDetail, rows: list[refunds.RefundRow], can: bool) -> None:
        p = d.payment
        self.info = {**payment_row(p), "note": d.note or "", "currency": p.currency}
        self.timeline = [{"at": when(t.at), "kind": label(t.kind), "amount": format_money(t.amount, p.currency)
                          if t.amount is not None else "", "reference": t.gateway_reference or "",
                          "detail": t.detail} for t in d.timeline]
        self.ledger = [{"at": when(e.at), "bucket": label(e.bucket), "amount": format_money(e.amount, e.currency),
                        "wallet": str(e.wallet_id or ""), "memo": e.memo, "journal": e.journal[:8]}
                       for e in d.ledger]
        self.refund_rows = [{"at": when(r.created_at), "amount": format_money(r.amount, r.currency),
                             "reason": r.reason, "status": label(r.status), "reference": r.reference,
                             "credit_note_id": str(r.credit_note_id or ""), "credit_note": r.credit_note_number or ""}
                            for r in rows]
        self.can_refund = can and p.status in ("captured", "partially_refunded") and p.purpose == "session"

    def _form_error(self, message: str, field: str) -> None:
        self.refund_error = message

    @rx.event
    async def refund(self):
        pid, amount, reason = self._wanted_id(), self.refund_amount, self.refund_reason
        self.refund_error = ""

        def work(session, user, scope):
            row = refunds.request_refund(session=session, scope=scope, user_id=user.id, payment_id=pid or 0,
                                         amount=amount, reason=reason)
            session.commit()
            return row

        call = await self._call(work, cap=Cap.MANAGE_PAYMENTS, form=self._form_error)
        if not call.ok:
            yield call.answer
            return
        self.refund_amount = self.refund_reason = ""
        yield rx.toast.success(f"Refund {label(call.value.status).lower()}: {call.value.amount} {call.value.currency}")
        async for update in self.load():
            yield update


class WalletsState(AppState):
    rows: list[dict[str, str]] = []
    search: str = ""
    loaded: bool = False

    @rx.event
    async def set_search(self, value: str):
        self.search = value[:64]
        async for update in self.load():
            yield update

    @rx.event
    async def load(self):
        search = self.search or None

        def work(session, user, scope):
            return queries.list_wallets(session=session, scope=scope, search=search)

        call = await self._call(work, cap=Cap.VIEW_PAYMENTS)
        if not call.ok:
            yield call.answer
            return
        self.rows = [{"id": str(w.id), "customer": w.customer, "organization": w.organization,
                      "balance": format_money(w.balance, w.currency), "held": format_money(w.held, w.currency)}
                     for w in call.value]
        self.loaded = True


class WalletDetailState(AppState):
    info: dict[str, str] = {}
    history: list[dict[str, str]] = []
    not_found: bool = False
    can_manage: bool = False
    amount: str = ""
    kind: str = "cash"
    reference: str = ""
    reason: str = ""
    direction: str = "increase"
    error: str = ""

    def _wanted_id(self) -> int | None:
        tail = self.router.url.path.rstrip("/").rsplit("/", 1)[-1]
        return int(tail) if tail.isdigit() else None

    @rx.event
    def set_field(self, name: str, value: str):
        if name in ("amount", "kind", "reference", "reason", "direction"):
            setattr(self, name, str(value)[:200])

    @rx.event
    async def load(self):
        self.not_found, self.error = False, ""
        wid = self._wanted_id()

        def work(session, user, scope):
            if wid is None:
                raise NotFound("Wallet not found.")
            return queries.wallet_detail(session=session, scope=scope, wallet_id=wid), scope.can(Cap.MANAGE_PAYMENTS)

        call = await self._call(work, cap=Cap.VIEW_PAYMENTS)
        if not call.ok:
            yield call.answer
            return
        d, self.can_manage = call.value
        w = d.wallet
        self.info = {"id": str(w.id), "customer": w.customer, "organization": w.organization, "currency": w.currency,
                     "balance": format_money(w.balance, w.currency), "held": format_money(w.held, w.currency)}
        self.history = [{"at": when(e.at), "bucket": label(e.bucket), "amount": format_money(e.amount, w.currency),
                         "memo": e.memo, "payment": str(e.payment_id or ""),
                         "sign": "minus" if e.amount < 0 else "plus"} for e in d.history]

    def _form_error(self, message: str, field: str) -> None:
        self.error = message

    async def _submit(self, work: Any, done: str):
        self.error = ""
        call = await self._call(work, cap=Cap.MANAGE_PAYMENTS, form=self._form_error)
        if not call.ok:
            yield call.answer
            return
        self.amount = self.reference = self.reason = ""
        yield rx.toast.success(done)
        async for update in self.load():
            yield update

    @rx.event
    async def top_up(self):
        wid, amount, kind, ref, currency = self._wanted_id() or 0, self.amount, self.kind, self.reference, \
            self.info.get("currency", "")

        def work(session, user, scope):
            pid = manual.record_manual_top_up(session=session, scope=scope, user_id=user.id, wallet_id=wid,
                                              amount=amount, currency=currency, kind=kind, reference=ref)
            session.commit()
            return pid

        async for update in self._submit(work, "Manual payment recorded."):
            yield update

    @rx.event
    async def adjust(self):
        wid, amount, reason, decrease, currency = self._wanted_id() or 0, self.amount, self.reason, \
            self.direction == "decrease", self.info.get("currency", "")

        def work(session, user, scope):
            manual.adjust_wallet(session=session, scope=scope, wallet_id=wid, amount=amount, currency=currency,
                                 decrease=decrease, reason=reason)
            session.commit()

        async for update in self._submit(work, "Adjustment posted."):
            yield update


class GatewaysState(AppState):
    rows: list[dict[str, str]] = []
    org_choices: list[dict[str, str]] = []
    can_manage: bool = False
    form: dict[str, str] = {}
    error: str = ""
    test_result: str = ""

    @rx.event
    def set_form(self, name: str, value: str):
        if name in ("organization_id", "gateway", "base_url", "merchant_id", "key_id", "secret", "webhook_secret",
                    "priority", "methods", "rate_limit_per_second"):
            self.form = {**self.form, name: str(value)[:500]}

    @rx.event
    async def load(self):
        def work(session, user, scope):
            rows = gateway_config.list_gateways(session=session, scope=scope)
            orgs = [{"id": str(o.id), "name": o.name} for o in org_svc.list_organizations(session=session,
                                                                                             scope=scope)]
            return rows, orgs, scope.can(Cap.MANAGE_GATEWAYS)

        call = await self._call(work, cap=Cap.VIEW_PAYMENTS)
        if not call.ok:
            yield call.answer
            return
        rows, self.org_choices, self.can_manage = call.value
        names = {o["id"]: o["name"] for o in self.org_choices}
        self.rows = [{"id": str(g.id), "organization": names.get(str(g.organization_id), ""),
                      "gateway": label(g.gateway), "enabled": "Enabled" if g.enabled else "Disabled",
                      "org_id": str(g.organization_id), "code": g.gateway,
                      "priority": str(g.priority), "url": g.base_url, "merchant": g.merchant_id,
                      "secret": f"•••• {g.credentials_last4}", "methods": ", ".join(g.methods) or "any",
                      "rate": f"{g.rate_limit_per_second}/s"} for g in rows]
        if not self.form:
            self.form = {"gateway": "cybersource", "priority": "1", "rate_limit_per_second": "20",
                         "organization_id": self.org_choices[0]["id"] if self.org_choices else ""}

    def _form_error(self, message: str, field: str) -> None:
        self.error = message

    @rx.event
    async def save(self):
        f = dict(self.form)
        self.error = ""

        def work(session, user, scope):
            methods = [m.strip() for m in f.get("methods", "").split(",") if m.strip()]
            row = gateway_config.save_gateway(
                session=session, scope=scope, organization_id=int(f.get("organization_id") or 0),
                gateway=f.get("gateway", ""), base_url=f.get("base_url") or None,
                merchant_id=f.get("merchant_id") or None, key_id=f.get("key_id") or None,
                secret=f.get("secret") or None, webhook_secret=f.get("webhook_secret") or None,
                priority=f.get("priority") or None, rate_limit_per_second=f.get("rate_limit_per_second") or None,
                methods=methods or None)
            session.commit()
            return row

        call = await self._call(work, cap=Cap.MANAGE_GATEWAYS, form=self._form_error)
        if not call.ok:
            yield call.answer
            return
        self.form = {**self.form, "secret": "", "webhook_secret": ""}  # never kept in the browser
        yield rx.toast.success(f"{label(call.value.gateway)} saved (secret •••• {call.value.credentials_last4}).")
        async for update in self.load():
            yield update

    @rx.event
    async def toggle(self, gateway_id: str):
        """Enable a disabled gateway or disable an enabled one (routing skips a disabled gateway)."""
        row = next((r for r in self.rows if r["id"] == str(gateway_id)), None)
        if row is None:
            return
        org_id, code, enable = int(row["org_id"]), row["code"], row["enabled"] != "Enabled"

        def work(session, user, scope):
            saved = gateway_config.save_gateway(session=session, scope=scope, organization_id=org_id, gateway=code,
                                                enabled=enable)
            session.commit()
            return saved

        call = await self._call(work, cap=Cap.MANAGE_GATEWAYS)
        if not call.ok:
            yield call.answer
            return
        yield rx.toast.success(f"{label(call.value.gateway)} {'enabled' if call.value.enabled else 'disabled'}.")
        async for update in self.load():
            yield update

    @rx.event
    async def test(self, gateway_id: str):
        gid = int(gateway_id) if str(gateway_id).isdigit() else 0

        def work(session, user, scope):
            return gateway_config.test_connection(session=session, scope=scope, gateway_id=gid)

        call = await self._call(work, cap=Cap.MANAGE_GATEWAYS)
        if not call.ok:
            yield call.answer
            return
        self.test_result = f"{call.value.message} ({call.value.latency_ms} ms)"
        yield (rx.toast.success if call.value.ok else rx.toast.error)(self.test_result)
        async for update in self.load():
            yield update
