"""Transactions: the scoped, filtered, paginated list, one session's detail, and the CSV export."""
from __future__ import annotations

from datetime import date
from typing import Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse
from pydantic import Field

from app.api.csv_export import stream_csv
from app.api.deps import Caller, SessionDep, require_cap
from app.api.shapes import RowModel, model_of
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


TransactionOut = model_of(svc.TxRow, "TransactionOut")
CurrencyTotalOut = model_of(svc.CurrencyTotal, "CurrencyTotalOut")
TransactionPage = model_of(svc.TxPage, "TransactionPage", items=list[TransactionOut], totals=list[CurrencyTotalOut])
CurvePointOut = model_of(svc.CurvePoint, "CurvePointOut")
RawMessageOut = model_of(svc.RawMessage, "RawMessageOut")
# The detail is the row's fields, flat, and the rest of the service's detail.
TransactionDetailOut = model_of(
    svc.TxDetail, "TransactionDetailOut", base=TransactionOut, exclude=("row",),
    meter_curve=list[CurvePointOut],
    raw_messages=(list[RawMessageOut] | None,
                  Field(description="null: the role may not see raw OCPP frames")))


@router.get("/transactions", response_model=TransactionPage)
def list_transactions(session: SessionDep, caller: Caller = ViewTransactions, filters: svc.TxFilter = Filters,
                      sort: SortKey = "started_at", order: Literal["asc", "desc"] = "desc",
                      limit: int = Query(50, ge=1, le=1000), offset: int = Query(0, ge=0)) -> RowModel:
    page = svc.list_transactions(session=session, scope=caller.scope, filters=filters, sort=sort,
                                 descending=order == "desc", limit=limit, offset=offset)
    return TransactionPage.model_validate(page)


@router.get("/transactions.csv", response_class=StreamingResponse,
            responses={200: {"content": {"text/csv": {}}, "description": "The filtered list as CSV, streamed"}})
def export_transactions(caller: Caller = ExportTransactions, filters: svc.TxFilter = Filters,
                        sort: SortKey = "started_at", order: Literal["asc", "desc"] = "desc") -> StreamingResponse:
    return stream_csv(caller.scope, lambda db: svc.iter_csv(session=db, scope=caller.scope, filters=filters,
                                                            sort=sort, descending=order == "desc"),
                      "transactions.csv")


@router.get("/transactions/{transaction_id}", response_model=TransactionDetailOut)
def get_transaction(transaction_id: int, session: SessionDep,
                    caller: Caller = ViewTransactions) -> RowModel:
    d = svc.get_transaction(session=session, scope=caller.scope, transaction_id=transaction_id)
    return TransactionDetailOut.model_validate({**vars(d.row), **vars(d)})
