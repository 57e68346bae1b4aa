"""Finance figures: revenue per charger and per organization, and the billing schedule and history."""
from __future__ import annotations

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from app.api.deps import Caller, SessionDep, require_cap
from app.api.routes.invoices import plain
from services.access.permissions import Cap
from services.billing import cycles as billing_cycle
from services.billing import finance, invoicing

router = APIRouter(tags=["finance"])
ViewFinance = require_cap(Cap.VIEW_FINANCE)
ViewInvoices = require_cap(Cap.VIEW_INVOICES)


@router.get("/finance/revenue")
def revenue(session: SessionDep, caller: Caller = ViewFinance, organization_id: int | None = None) -> JSONResponse:
    """Revenue, kWh and sessions per charger for the last 24h, 7d, 30d and 365d, and totals per organization
    with roll-ups up the tree; all per currency."""
    scope = caller.scope.narrowed(organization_id)
    chargers = finance.revenue_by_charger(session=session, scope=scope)
    totals = finance.organization_totals(session=session, scope=scope, charger_rows=chargers)
    return JSONResponse({"periods": finance.PERIOD_LABELS, "chargers": plain(chargers),
                         "organizations": plain(totals)})


@router.get("/finance/billing-schedule")
def billing_schedule(session: SessionDep, caller: Caller = ViewInvoices) -> JSONResponse:
    """The next scheduled billing run per organization."""
    return JSONResponse({"items": plain(billing_cycle.next_runs(session=session, scope=caller.scope))})


@router.get("/finance/billing-runs")
def billing_runs(session: SessionDep, caller: Caller = ViewInvoices, organization_id: int | None = None,
                 limit: int = Query(50, ge=1, le=500)) -> JSONResponse:
    """The history of billing runs with their outcome, newest first."""
    rows = invoicing.billing_runs(session=session, scope=caller.scope, organization_id=organization_id, limit=limit)
    return JSONResponse({"items": plain(rows)})
