"""Invoices: bulk generation, listing, status changes, PDF, sending and corrections. Amounts are strings
(exact decimals), never floats."""
from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from app.api.deps import Caller, SessionDep, require_cap
from core.mail import MailError
from core.validation import REASON_MAX
from services.access.permissions import Cap
from services.billing import invoice_mail as mail
from services.billing import invoicing
from services.billing.pdf import invoice_pdf

router = APIRouter(tags=["invoices"])
ViewInvoices = require_cap(Cap.VIEW_INVOICES)
ManageInvoices = require_cap(Cap.MANAGE_INVOICES)
# The invoice page's "Download PDF" is a plain link: the login cookie is accepted there too.
ViewInvoicesOrCookie = require_cap(Cap.VIEW_INVOICES, cookie=True)


def plain(value: Any) -> Any:
    """Dataclasses to JSON-ready data: Decimal as an exact string, dates as ISO 8601."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):  # datetime too
        return value.isoformat()
    return value


class BulkIn(BaseModel):
    period_start: date
    period_end: date
    organization_ids: list[int] | None = Field(None, description="Omit for every client organization in scope.")


class StatusIn(BaseModel):
    status: Literal["sent", "paid", "void", "overdue", "draft"]
    reason: str | None = Field(None, max_length=REASON_MAX)


class CreditNoteIn(BaseModel):
    reason: str = Field(..., min_length=1, max_length=REASON_MAX)


@router.post("/invoices/bulk")
def bulk_invoices(body: BulkIn, session: SessionDep, caller: Caller = ManageInvoices) -> JSONResponse:
    result = invoicing.generate_bulk(session=session, scope=caller.scope, period_start=body.period_start,
                                     period_end=body.period_end, organization_ids=body.organization_ids,
                                     trigger="api")
    return JSONResponse({"batch": result.batch, "summary": result.summary, "made": result.count("made"),
                         "skipped": result.count("skipped"), "failed": result.count("failed"),
                         "outcomes": plain(result.outcomes)})


@router.get("/invoices")
def list_invoices(session: SessionDep, caller: Caller = ViewInvoices, organization_id: int | None = None,
                  status: str | None = None, kind: Literal["invoice", "credit_note"] | None = None,
                  period_start: date | None = None, period_end: date | None = None,
                  limit: int = Query(100, ge=1, le=1000), offset: int = Query(0, ge=0)) -> JSONResponse:
    rows, total = invoicing.list_invoices(session=session, scope=caller.scope, organization_id=organization_id,
                                          status=status, kind=kind, period_start=period_start,
                                          period_end=period_end, limit=limit, offset=offset)
    return JSONResponse({"items": plain(rows), "total": total, "limit": limit, "offset": offset})


@router.get("/invoices/{invoice_id}")
def get_invoice(invoice_id: int, session: SessionDep, caller: Caller = ViewInvoices) -> JSONResponse:
    return JSONResponse(plain(invoicing.get_invoice(session=session, scope=caller.scope, invoice_id=invoice_id)))


@router.post("/invoices/{invoice_id}/status")
def change_status(invoice_id: int, body: StatusIn, session: SessionDep, caller: Caller = ManageInvoices
                  ) -> JSONResponse:
    detail = invoicing.change_status(session=session, scope=caller.scope, invoice_id=invoice_id,
                                     status=body.status, reason=body.reason)
    return JSONResponse(plain(detail))


@router.get("/invoices/{invoice_id}/pdf", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}}})
def download_pdf(invoice_id: int, session: SessionDep, caller: Caller = ViewInvoicesOrCookie) -> Response:
    filename, data = invoice_pdf(session=session, scope=caller.scope, invoice_id=invoice_id)
    return Response(data, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.post("/invoices/{invoice_id}/send")
def send_invoice(invoice_id: int, session: SessionDep, caller: Caller = ManageInvoices) -> JSONResponse:
    try:
        result = mail.send_invoice(session=session, scope=caller.scope, invoice_id=invoice_id)
    except MailError as exc:
        return JSONResponse({"message": str(exc)}, status_code=502)
    return JSONResponse({"delivered": result.delivered, "recipient": result.recipient, "message": result.message})


@router.post("/invoices/{invoice_id}/credit-note")
def credit_note(invoice_id: int, body: CreditNoteIn, session: SessionDep, caller: Caller = ManageInvoices
                ) -> JSONResponse:
    fix = invoicing.correct_invoice(session=session, scope=caller.scope, invoice_id=invoice_id, reason=body.reason)
    return JSONResponse(plain(fix), status_code=201)
