"""Payments (issue 10): payments, wallets, refunds, gateways, and each gateway's webhook endpoint.
Amounts are strings (exact decimals), never floats. Scoped like the pages."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from app.api.deps import Caller, PrincipalDep, SessionDep, require_cap
from app.api.routes.invoices import plain
from core.db import SYSTEM, use_db_scope
from services.access.permissions import Cap
from services.payments import gateway_config, manual, queries, reconciliation, refunds, top_ups, webhooks
from services.payments.gateways.base import ForgedWebhook

router = APIRouter(tags=["payments"])
View = require_cap(Cap.VIEW_PAYMENTS)
# The dashboard's "CSV" is a plain link: the login cookie is accepted there too.
ViewOrCookie = require_cap(Cap.VIEW_PAYMENTS, cookie=True)
Manage = require_cap(Cap.MANAGE_PAYMENTS)
Approve = require_cap(Cap.APPROVE_PAYMENTS)
Gateways = require_cap(Cap.MANAGE_GATEWAYS)
Amount = Field(..., min_length=1, max_length=32, description="A decimal string such as \"12.50\".")


@router.get("/payments")
def list_payments(session: SessionDep, caller: Caller = ViewOrCookie, start: datetime | None = None,
                  end: datetime | None = None, gateway: str | None = Query(None, max_length=16),
                  status: str | None = Query(None, max_length=24), method: str | None = Query(None, max_length=16),
                  organization_id: int | None = None, search: str | None = Query(None, max_length=64),
                  format: Literal["json", "csv"] = "json", limit: int = Query(100, ge=1, le=10_000),
                  offset: int = Query(0, ge=0)) -> Response:
    page = queries.list_payments(session=session, scope=caller.scope, start=start, end=end, gateway=gateway,
                                 status=status, method=method, organization_id=organization_id, search=search,
                                 limit=limit, offset=offset)
    if format == "csv":
        out = io.StringIO()
        rows = plain(page.rows)
        writer = csv.DictWriter(out, fieldnames=list(rows[0]) if rows else ["id"])
        writer.writeheader()
        writer.writerows(rows)
        return Response(out.getvalue(), media_type="text/csv",
                        headers={"Content-Disposition": 'attachment; filename="payments.csv"'})
    return JSONResponse({"items": plain(page.rows), "total": page.total, "totals": plain(page.totals),
                         "limit": limit, "offset": offset})


@router.get("/payments/health")
def gateway_health(session: SessionDep, caller: Caller = View) -> JSONResponse:
    return JSONResponse({"items": plain(queries.gateway_health(session=session, scope=caller.scope))})


@router.get("/payments/reconciliation")
def reconciliation_panel(session: SessionDep, caller: Caller = View,
                         organization_id: int | None = None) -> JSONResponse:
    """The last seven days' reconciliation runs (one per gateway and day) and every mismatch they found."""
    result = reconciliation.panel(session=session, scope=caller.scope, organization_id=organization_id)
    return JSONResponse({"runs": plain(result.runs), "mismatches": plain(result.mismatches)})


@router.post("/payments/reconciliation")
def reconcile_now(session: SessionDep, caller: Caller = Manage, day: date | None = None) -> JSONResponse:
    """Reconcile every enabled gateway of the caller's organizations for `day` (today, UTC, by default)."""
    runs = reconciliation.reconcile_now(session=session, scope=caller.scope, day=day)
    session.commit()
    return JSONResponse({"runs": plain(runs)})


@router.get("/payments/{payment_id}")
def get_payment(payment_id: int, session: SessionDep, caller: Caller = View) -> JSONResponse:
    return JSONResponse(plain(queries.payment_detail(session=session, scope=caller.scope, payment_id=payment_id)))


@router.post("/payments/{payment_id}/void")
def void_payment(payment_id: int, session: SessionDep, caller: Caller = Manage) -> JSONResponse:
    refunds.void_payment(session=session, scope=caller.scope, payment_id=payment_id)
    session.commit()
    return JSONResponse(plain(queries.payment_detail(session=session, scope=caller.scope, payment_id=payment_id)))


@router.post("/payments/{payment_id}/approve")
def approve_manual(payment_id: int, session: SessionDep, caller: Caller = Approve,
                   approve: bool = True) -> JSONResponse:
    manual.approve_manual_top_up(session=session, scope=caller.scope, user_id=caller.user.id, payment_id=payment_id,
                                 approve=approve)
    session.commit()
    return JSONResponse(plain(queries.payment_detail(session=session, scope=caller.scope, payment_id=payment_id)))


@router.post("/payments/webhooks/{gateway_id}", include_in_schema=True)
async def webhook(gateway_id: int, request: Request, session: SessionDep) -> JSONResponse:
    """A gateway's webhook: verified (signature or notification secret), kept once per event id, applied in order.
    A forged or replayed-stale one is refused with 401 and nothing is written."""
    body = await request.body()
    if len(body) > 256 * 1024:
        return JSONResponse({"message": "The webhook is too large."}, status_code=413)
    try:
        # No user sends a webhook: its signature (or notification secret) authenticates it, in system scope.
        use_db_scope(session, SYSTEM)
        outcome = webhooks.receive_webhook(session=session, gateway_id=gateway_id,
                                           headers=dict(request.headers.items()), body=body)
    except ForgedWebhook as exc:
        session.rollback()
        return JSONResponse({"message": str(exc)}, status_code=401)
    session.commit()
    return JSONResponse({"outcome": outcome})


@router.get("/wallets")
def list_wallets(session: SessionDep, caller: Caller = View,
                 search: str | None = Query(None, max_length=64)) -> JSONResponse:
    return JSONResponse({"items": plain(queries.list_wallets(session=session, scope=caller.scope, search=search))})


@router.get("/wallets/{wallet_id}")
def get_wallet(wallet_id: int, session: SessionDep, caller: Caller = View) -> JSONResponse:
    return JSONResponse(plain(queries.wallet_detail(session=session, scope=caller.scope, wallet_id=wallet_id)))


class TopUpIn(BaseModel):
    amount: str = Amount
    currency: str = Field(..., min_length=3, max_length=3)
    kind: Literal["cash", "bank_transfer", "cheque"]
    reference: str = Field(..., min_length=1, max_length=100)


@router.post("/wallets/{wallet_id}/top-ups", status_code=201)
def manual_top_up(wallet_id: int, body: TopUpIn, session: SessionDep, caller: Caller = Manage) -> JSONResponse:
    pid = manual.record_manual_top_up(session=session, scope=caller.scope, user_id=caller.user.id,
                                      wallet_id=wallet_id, amount=body.amount, currency=body.currency,
                                      kind=body.kind, reference=body.reference)
    session.commit()
    return JSONResponse(plain(queries.payment_detail(session=session, scope=caller.scope, payment_id=pid)),
                        status_code=201)


class AdjustmentIn(BaseModel):
    amount: str = Amount
    currency: str = Field(..., min_length=3, max_length=3)
    direction: Literal["increase", "decrease"]
    reason: str = Field(..., min_length=1, max_length=180)


@router.post("/wallets/{wallet_id}/adjustments", status_code=201)
def adjust_wallet(wallet_id: int, body: AdjustmentIn, session: SessionDep, caller: Caller = Manage) -> JSONResponse:
    manual.adjust_wallet(session=session, scope=caller.scope, wallet_id=wallet_id, amount=body.amount,
                         currency=body.currency, decrease=body.direction == "decrease", reason=body.reason)
    session.commit()
    return JSONResponse(plain(queries.wallet_detail(session=session, scope=caller.scope, wallet_id=wallet_id)),
                        status_code=201)


class RefundIn(BaseModel):
    payment_id: int
    amount: str = Amount
    reason: str = Field(..., min_length=1, max_length=refunds.REASON_MAX)


@router.get("/refunds")
def list_refunds(session: SessionDep, caller: Caller = View, payment_id: int | None = None,
                 status: str | None = Query(None, max_length=24)) -> JSONResponse:
    return JSONResponse({"items": plain(refunds.list_refunds(session=session, scope=caller.scope,
                                                             payment_id=payment_id, status=status))})


@router.post("/refunds", status_code=201)
def create_refund(body: RefundIn, session: SessionDep, caller: Caller = Manage) -> JSONResponse:
    row = refunds.request_refund(session=session, scope=caller.scope, user_id=caller.user.id,
                                 payment_id=body.payment_id, amount=body.amount, reason=body.reason)
    session.commit()
    return JSONResponse(plain(row), status_code=201)


@router.post("/refunds/{refund_id}/approve")
def approve_refund(refund_id: int, session: SessionDep, caller: Caller = Approve, approve: bool = True) -> JSONResponse:
    row = refunds.approve_refund(session=session, scope=caller.scope, user_id=caller.user.id, refund_id=refund_id,
                                 approve=approve)
    session.commit()
    return JSONResponse(plain(row))


class GatewayIn(BaseModel):
    organization_id: int
    gateway: Literal["cybersource", "amex", "dialog"]
    enabled: bool | None = None
    priority: int | None = Field(None, ge=0, le=10_000)
    base_url: str | None = Field(None, max_length=300)
    merchant_id: str | None = Field(None, max_length=100)
    key_id: str | None = Field(None, max_length=100)
    secret: str | None = Field(None, max_length=500, description="Write-only; shown again only as its last four.")
    webhook_secret: str | None = Field(None, max_length=500, description="Write-only.")
    methods: list[str] | None = Field(None, max_length=8)
    bin_prefixes: list[str] | None = Field(None, max_length=50)
    currencies: list[str] | None = Field(None, max_length=20)
    min_amount: str | None = Field(None, max_length=32)
    max_amount: str | None = Field(None, max_length=32)
    rate_limit_per_second: int | None = Field(None, ge=1, le=10_000)


@router.get("/gateways")
def list_gateways(session: SessionDep, caller: Caller = View, organization_id: int | None = None) -> JSONResponse:
    return JSONResponse({"items": plain(gateway_config.list_gateways(session=session, scope=caller.scope,
                                                                     organization_id=organization_id))})


@router.put("/gateways")
def save_gateway(body: GatewayIn, session: SessionDep, caller: Caller = Gateways) -> JSONResponse:
    fields = body.model_dump(exclude_none=True)
    row = gateway_config.save_gateway(session=session, scope=caller.scope, **fields)
    session.commit()
    return JSONResponse(plain(row))


@router.post("/gateways/{gateway_id}/test")
def test_gateway(gateway_id: int, session: SessionDep, caller: Caller = Gateways) -> JSONResponse:
    result = gateway_config.test_connection(session=session, scope=caller.scope, gateway_id=gateway_id)
    session.commit()
    return JSONResponse(plain(result))


# --- a customer's own wallet (customer token) -------------------------------------------------------------------


@router.get("/me/wallet")
def my_wallet(session: SessionDep, scope: PrincipalDep, account_id: int) -> JSONResponse:
    """The customer's wallet: balance, held, recent entries and the saved cards it can be topped up with."""
    return JSONResponse(plain(top_ups.my_wallet(session=session, scope=scope, account_id=account_id)))


class CardTopUpIn(BaseModel):
    account_id: int
    card_id: int
    amount: str = Amount
    key: str = Field(..., min_length=16, max_length=32, pattern="^[0-9a-f]+$",
                     description="A random key per top-up form: a retry with the same key never charges twice.")


@router.post("/me/wallet/top-ups", status_code=201)
def card_top_up(body: CardTopUpIn, session: SessionDep, scope: PrincipalDep) -> JSONResponse:
    """Top up the wallet by card through the routed gateway (authorize and capture); idempotent on `key`."""
    result = top_ups.card_top_up(session=session, scope=scope, account_id=body.account_id, card_id=body.card_id,
                                 amount=body.amount, key=body.key)
    session.commit()
    return JSONResponse(plain(result), status_code=200 if result.repeated else 201)
