"""Transactions: the scoped, filtered, paginated list, one session's detail, and the CSV export."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from sqlmodel import Session

from app.api.deps import Caller, SessionDep, require_cap
from core.db import get_engine
from services.access.permissions import Cap
from services.charging import transactions as svc

router = APIRouter(tags=["transactions"])
ViewTransactions = require_cap(Cap.VIEW_TRANSACTIONS)
# The CSV is also a plain link in the web app, which sends the login cookie instead of a bearer token.
ExportTransactions = require_cap(Cap.VIEW_TRANSACTIONS, cookie=True)
SortKey = Literal["started_at", "stopped_at", "energy", "amount", "duration", "charger", "id"]


def tx_filters(preset: Literal["24h", "7d", "30d", "365d"] | None = None,
               date_from: date | None = Query(None, description="First local day (organization timezone)"),
               date_to: date | None = Query(None, description="Last local day, inclusive"),
               organization_id: int | None = None, charger_id: int | None = None,
               connector_id: int | None = Query(None, ge=1), id_tag: str | None = Query(None, max_length=20),
               status: Literal["active", "completed", "flagged"] | None = None) -> svc.TxFilter:
    return svc.TxFilter(preset=preset, date_from=date_from, date_to=date_to, organization_id=organization_id,
                        charger_id=charger_id, connector_id=connector_id, id_tag=id_tag, status=status)


Filters = Depends(tx_filters)


class TransactionOut(BaseModel):
    id: int
    organization_id: int
    organization_name: str
    timezone: str
    charger_id: int
    charger_ocpp_id: str
    charger_name: str
    connector_id: int
    id_tag: str
    status: str
    started_at: datetime
    stopped_at: datetime | None
    duration_seconds: int | None
    energy_kwh: Decimal | None
    currency: str
    amount_gross: Decimal | None
    amount_net_cpo: Decimal | None
    stop_reason: str | None
    flags: list[str]


class CurrencyTotalOut(BaseModel):
    currency: str
    sessions: int
    energy_kwh: Decimal
    amount_gross: Decimal
    amount_net_cpo: Decimal


class TransactionPage(BaseModel):
    items: list[TransactionOut]
    total: int
    limit: int
    offset: int
    totals: list[CurrencyTotalOut]


class CurvePointOut(BaseModel):
    timestamp: datetime
    energy_kwh: Decimal | None
    power_kw: Decimal | None


class RawMessageOut(BaseModel):
    id: int
    created_at: datetime
    direction: str
    action: str | None
    frame: str


class TransactionDetailOut(TransactionOut):
    meter_start: int
    meter_stop: int | None
    priced_at: datetime | None
    amounts: dict[str, Decimal | None]
    price_breakdown: dict[str, Any] | None
    meter_curve: list[CurvePointOut]
    raw_messages: list[RawMessageOut] | None  # null: the role may not see raw OCPP frames


@router.get("/transactions", response_model=TransactionPage)
def list_transactions(session: SessionDep, caller: Caller = ViewTransactions, filters: svc.TxFilter = Filters,
                      sort: SortKey = "started_at", order: Literal["asc", "desc"] = "desc",
                      limit: int = Query(50, ge=1, le=1000), offset: int = Query(0, ge=0)) -> TransactionPage:
    page = svc.list_transactions(session=session, scope=caller.scope, filters=filters, sort=sort,
                                 descending=order == "desc", limit=limit, offset=offset)
    return TransactionPage(items=[TransactionOut(**vars(r)) for r in page.items], total=page.total,
                           limit=page.limit, offset=page.offset,
                           totals=[CurrencyTotalOut(**vars(t)) for t in page.totals])


@router.get("/transactions.csv", response_class=StreamingResponse,
            responses={200: {"content": {"text/csv": {}}, "description": "The filtered list as CSV, streamed"}})
def export_transactions(caller: Caller = ExportTransactions, filters: svc.TxFilter = Filters,
                        sort: SortKey = "started_at", order: Literal["asc", "desc"] = "desc") -> StreamingResponse:
    # The export outlives this function, so it owns its database session (closed when the stream ends).
    db = Session(get_engine(), expire_on_commit=False)
    try:
        chunks = svc.iter_csv(session=db, scope=caller.scope, filters=filters, sort=sort,
                              descending=order == "desc")
        header = next(chunks)  # bad filters or scope fail here, before any byte is sent
    except BaseException:
        db.close()
        raise

    def body() -> Iterator[str]:
        try:
            yield header
            yield from chunks
        finally:
            db.close()

    return StreamingResponse(body(), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": 'attachment; filename="transactions.csv"'})


@router.get("/transactions/{transaction_id}", response_model=TransactionDetailOut)
def get_transaction(transaction_id: int, session: SessionDep,
                    caller: Caller = ViewTransactions) -> TransactionDetailOut:
    d = svc.get_transaction(session=session, scope=caller.scope, transaction_id=transaction_id)
    return TransactionDetailOut(
        **vars(d.row), meter_start=d.meter_start, meter_stop=d.meter_stop, priced_at=d.priced_at, amounts=d.amounts,
        price_breakdown=d.breakdown, meter_curve=[CurvePointOut(**vars(p)) for p in d.curve],
        raw_messages=None if d.raw_messages is None else [RawMessageOut(**vars(m)) for m in d.raw_messages])
