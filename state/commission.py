"""Commission statements: a location owner's monthly earnings per charger (a CPO sees its owners'), with the
statement as PDF and CSV. The billing worker makes them (services/billing/owner_statements.py)."""
from __future__ import annotations

import reflex as rx

from core.fmt import day, kwh
from core.money import format_money
from services.access.permissions import Cap
from services.billing import owner_statements as svc
from state.base import AppState


def statement_row(s: svc.StatementRow) -> dict[str, str]:
    return {"id": str(s.id), "owner": s.location_owner, "organization": s.organization,
            "period": f"{day(s.period_start)} – {day(s.period_end)}", "month": f"{s.period_start:%B %Y}",
            "sessions": f"{s.sessions:,}", "energy": kwh(s.energy_kwh, 1),
            "revenue": format_money(s.revenue, s.currency), "commission": format_money(s.commission, s.currency),
            "chargers": "; ".join(f"{ln['ocpp_id']}: {format_money(svc.Decimal(ln['commission']), s.currency)}"
                                  for ln in s.lines) or "No sessions"}


class CommissionState(AppState):
    rows: list[dict[str, str]] = []

    @rx.event
    async def load(self):
        call = await self._call(lambda s, u, scope: svc.list_statements(session=s, scope=scope),
                                cap=Cap.VIEW_FINANCE)
        if not call.ok:
            return call.answer
        self.rows = [statement_row(s) for s in call.value]
        return None

    async def _download(self, statement_id: str, kind: str):
        def work(session, user, scope):
            st = svc.get_statement(session=session, scope=scope, statement_id=int(statement_id))
            return svc.statement_pdf(st) if kind == "pdf" else svc.statement_csv(st)

        call = await self._call(work, cap=Cap.VIEW_FINANCE)
        if not call.ok:
            return call.answer
        name, data = call.value
        return rx.download(data=data, filename=name)

    @rx.event
    async def pdf(self, statement_id: str):
        return await self._download(statement_id, "pdf")

    @rx.event
    async def csv(self, statement_id: str):
        return await self._download(statement_id, "csv")
