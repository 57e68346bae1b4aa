"""Accounts → Billing plans: the plan catalogue per organization (list, + New plan, Edit, Deactivate).

The services check the input and the capability (MANAGE_BILLING_PLANS); this state only renders and relays.
"""
from __future__ import annotations

from decimal import Decimal

import reflex as rx

from core.errors import NotFound
from core.money import format_money
from models.customer_billing import FeeKind
from services.access import organizations as org_svc
from services.access.permissions import Cap
from services.customers import assets as svc
from state.base import AppState

NO_FEE = "none"
ELIGIBLE = (("for_card", "Cards"), ("for_ac", "AC chargers"), ("for_dc", "DC chargers"))


def _plain(value: Decimal | None) -> str:
    """A stored amount as the form shows it: 4.9000 → 4.90, 2.0000 → 2."""
    if value is None:
        return ""
    text = f"{value.normalize():f}"
    return text + "0" if "." in text and len(text.split(".")[1]) == 1 else text


def fee_text(p: svc.PlanRow) -> str:
    if p.session_fee is None:
        return "—"
    if p.fee_kind == FeeKind.PERCENT:
        return f"{_plain(p.session_fee)} % of the session"
    return f"{format_money(p.session_fee, p.currency)} per session"


def plan_dict(p: svc.PlanRow) -> dict[str, str]:
    return {"id": str(p.id), "name": p.name, "organization": p.organization, "organization_id": str(p.organization_id),
            "price": f"{format_money(p.price, p.currency)} / {p.interval}", "fee": fee_text(p),
            "eligible": ", ".join(label for key, label in ELIGIBLE if getattr(p, key)), "assets": str(p.assets),
            "active": "yes" if p.active else "", "currency": p.currency,
            # what the edit form starts from
            "price_value": _plain(p.price), "interval": p.interval, "fee_value": _plain(p.session_fee),
            "fee_kind": p.fee_kind or NO_FEE, **{key: "yes" if getattr(p, key) else "" for key, _ in ELIGIBLE}}


def _plan_id(value: str) -> int:
    if not str(value).isdigit():
        raise NotFound("Billing plan not found.")
    return int(value)


class PlansState(AppState):
    rows: list[dict[str, str]] = []
    loading: bool = False
    can_manage: bool = False
    # + New plan / Edit: one dialog; `editing` is the plan's row, empty for a new plan.
    dialog_open: bool = False
    editing: dict[str, str] = {}
    form_key: int = 0
    org_choices: list[dict[str, str]] = []
    new_org: str = ""
    form_error: str = ""
    saving: bool = False

    @rx.event
    async def load(self):
        self.loading = True
        yield

        def work(session, user, scope):
            return svc.list_plans(session=session, scope=scope), scope.can(Cap.MANAGE_BILLING_PLANS)

        call = await self._call(work, cap=Cap.VIEW_CUSTOMERS)
        self.loading = False
        if not call.ok:
            yield call.answer
            return
        plans, self.can_manage = call.value
        self.rows = [plan_dict(p) for p in plans]

    def _open(self, row: dict[str, str]) -> None:
        self.editing, self.form_error, self.saving = row, "", False
        self.form_key += 1  # a fresh form: its fields start from this plan
        self.dialog_open = True

    @rx.event
    async def open_new(self):
        call = await self._call(lambda session, user, scope: org_svc.list_organizations(session=session, scope=scope),
                                cap=Cap.MANAGE_BILLING_PLANS)
        if not call.ok:
            return call.answer
        self.org_choices = [{"value": str(o.id), "label": o.name} for o in call.value]
        if self.new_org not in [o["value"] for o in self.org_choices]:
            self.new_org = self.org_choices[0]["value"] if self.org_choices else ""
        self._open({})
        return None

    @rx.event
    def open_edit(self, plan_id: str):
        row = next((r for r in self.rows if r["id"] == plan_id), None)
        if row is not None:
            self._open(row)

    @rx.event
    def set_dialog_open(self, value: bool):
        self.dialog_open = value

    @rx.event
    def set_new_org(self, value: str):
        self.new_org = value

    def _form_refused(self, message: str, field: str) -> None:
        self.form_error = message

    @rx.event
    async def save(self, form: dict[str, str]):
        plan_id, org = self.editing.get("id", ""), self.new_org
        fee_kind = form.get("fee_kind") or NO_FEE
        terms = dict(name=form.get("name", ""), price=form.get("price", ""), interval=form.get("interval", ""),
                     session_fee=None if fee_kind == NO_FEE else form.get("session_fee", ""),
                     fee_kind=None if fee_kind == NO_FEE else fee_kind,
                     **{key: bool(form.get(key)) for key, _ in ELIGIBLE})
        if fee_kind != NO_FEE and not (terms["session_fee"] or "").strip():
            self.form_error = "Enter the fee per session, or choose No fee."
            return
        self.form_error, self.saving = "", True
        yield

        def work(session, user, scope):
            if plan_id:
                return svc.update_plan(session=session, scope=scope, plan_id=_plan_id(plan_id), **terms)
            if not org.isdigit():
                raise NotFound("Choose the organization.")
            return svc.create_plan(session=session, scope=scope, organization_id=int(org), **terms)

        call = await self._call(work, cap=Cap.MANAGE_BILLING_PLANS, form=self._form_refused)
        self.saving = False
        if not call.ok:
            yield call.answer
            return
        self.dialog_open = False
        yield rx.toast.success(f"Plan {call.value.name} saved." if plan_id else f"Plan {call.value.name} added.")
        yield PlansState.load

    @rx.event
    async def set_active(self, plan_id: str, active: bool):
        call = await self._call(lambda session, user, scope: svc.set_plan_active(
            session=session, scope=scope, plan_id=_plan_id(plan_id), active=bool(active)),
            cap=Cap.MANAGE_BILLING_PLANS)
        if not call.ok:
            yield call.answer
            return
        p = call.value
        yield rx.toast.success(f"{p.name} is offered again." if p.active else (
            f"{p.name} is no longer offered. The {p.assets} asset(s) on it keep it."))
        yield PlansState.load
