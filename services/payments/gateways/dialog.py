"""Dialog Fuel Card: a closed-loop stored-value card with no public API. The card's UID is the charger's idTag.

We speak a narrow interface of our own, so the real one can be fitted behind this adapter (demo/standins/dialog.py
serves it for tests and the demo). `Authorization: Bearer <api key>`; amounts are decimal strings.

  GET /v1/merchants/{merchant}/cards/{uid}
      200 {"uid", "status": "active"|"blocked", "balance", "currency"}; 404 an unknown card
  PUT /v1/merchants/{merchant}/debits/{reference}    {"uid", "payment_reference", "amount", "currency"}
  PUT /v1/merchants/{merchant}/credits/{reference}   {"uid", "payment_reference", "amount", "currency"}
      200 {"reference", "status": "APPROVED"|"DECLINED", "amount", "balance", "reason", ...}; the reference is the
      idempotency key (a repeated PUT answers the first answer and moves nothing); credits of one payment never
      exceed its debits (400)
  GET /v1/merchants/{merchant}/operations?reference=R
      200 {"operations": [...]}: those whose reference or payment reference is R (a timed-out call is resolved so)
  GET /v1/merchants/{merchant}/settlements/{YYYY-MM-DD}
      200 text/csv, the day's settlement file: settlement_date, reference, payment_reference, type (DEBIT|CREDIT),
      uid, amount, currency, processed_at

The adapter maps our one interface onto it: authorize checks the card's status and balance (a closed-loop card
holds nothing: the hold is an estimate only), capture debits, void moves nothing, refund credits. There are no
webhooks; the daily settlement file is the gateway's record, read by the reconciliation.
"""
from __future__ import annotations

import csv
import io
import json
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

import httpx

from services.payments.gateways.base import (
    Answer,
    Credentials,
    ForgedWebhook,
    GatewayError,
    Outcome,
    SettlementLine,
    Status,
    WebhookEvent,
)
from services.payments.gateways.transport import send

_KINDS = {"DEBIT": "capture", "CREDIT": "refund"}


class Dialog:
    name = "dialog"

    def __init__(self, creds: Credentials, client: httpx.Client | None = None) -> None:
        self.creds = creds
        self.client = client or httpx.Client(timeout=creds.timeout)
        self.headers = {"authorization": f"Bearer {creds.secret}"}

    def _url(self, path: str) -> str:
        return f"{self.creds.base_url.rstrip('/')}/v1/merchants/{quote(self.creds.merchant_id, safe='')}/{path}"

    def _get(self, path: str) -> httpx.Response:
        return send(self.client, "GET", self._url(path), headers=self.headers)

    def card(self, uid: str) -> dict[str, Any] | None:
        """The card's status, balance and currency; None for a card Dialog does not know."""
        response = self._get(f"cards/{quote(uid, safe='')}")
        if response.status_code == 404:
            return None
        data = _json(response)
        if response.status_code != 200:
            raise GatewayError(data.get("message") or f"HTTP {response.status_code}")
        return data

    def _move(self, kind: str, *, reference: str, op_reference: str, uid: str, amount: Decimal,
              currency: str) -> Answer:
        body = json.dumps({"uid": uid, "payment_reference": reference, "amount": str(amount),
                           "currency": currency}).encode()
        response = send(self.client, "PUT", self._url(f"{kind}/{quote(op_reference, safe='')}"), content=body,
                        headers={**self.headers, "content-type": "application/json"})
        data = _json(response)
        if response.status_code != 200:
            raise GatewayError(data.get("message") or data.get("error") or f"HTTP {response.status_code}")
        if data.get("status") != "APPROVED":
            return Answer(Outcome.DECLINED, uid, op_reference, amount, data.get("reason") or "declined")
        return Answer(Outcome.APPROVED, uid, op_reference, amount, f"balance {data.get('balance', '')}".strip())

    def authorize(self, *, reference: str, amount: Decimal, currency: str, token: str) -> Answer:
        card = self.card(token)
        if card is None:
            return Answer(Outcome.DECLINED, None, None, amount, "unknown fuel card")
        if card.get("status") != "active":
            return Answer(Outcome.DECLINED, token, None, amount, "the fuel card is blocked")
        if card.get("currency") != currency:
            return Answer(Outcome.DECLINED, token, None, amount, f"the fuel card holds {card.get('currency')}")
        balance = _decimal(card.get("balance"))
        if balance <= 0:
            return Answer(Outcome.DECLINED, token, None, amount, "the fuel card's balance is empty")
        # Nothing is reserved at Dialog: the session is allowed up to what the card holds now.
        return Answer(Outcome.APPROVED, token, None, min(amount, balance), f"balance {balance}")

    def capture(self, *, reference: str, op_reference: str, gateway_reference: str, amount: Decimal,
                currency: str) -> Answer:
        return self._move("debits", reference=reference, op_reference=op_reference, uid=gateway_reference,
                          amount=amount, currency=currency)

    def void(self, *, reference: str, op_reference: str, gateway_reference: str, amount: Decimal,
             currency: str) -> Answer:
        return Answer(Outcome.APPROVED, gateway_reference, op_reference, amount, "nothing was debited")

    def refund(self, *, reference: str, op_reference: str, gateway_reference: str, amount: Decimal,
               currency: str) -> Answer:
        return self._move("credits", reference=reference, op_reference=op_reference, uid=gateway_reference,
                          amount=amount, currency=currency)

    def query(self, *, reference: str, gateway_reference: str | None) -> Status:
        response = self._get(f"operations?reference={quote(reference, safe='')}")
        data = _json(response)
        if response.status_code != 200:
            raise GatewayError(data.get("message") or f"HTTP {response.status_code}")
        ops = [{"id": op.get("reference"), "type": str(op.get("op", "")).upper(),
                "result": "SUCCESS" if op.get("status") == "APPROVED" else "FAILURE", **op}
               for op in data.get("operations") or []]
        done = [op for op in ops if op["result"] == "SUCCESS"]
        total = {k: sum((_decimal(op.get("amount")) for op in done if op["type"] == k), Decimal(0))
                 for k in ("DEBIT", "CREDIT")}
        return Status(found=bool(done), gateway_reference=done[0].get("uid") if done else None,
                      captured=total["DEBIT"], refunded=total["CREDIT"], operations=ops)

    def parse_webhook(self, *, headers: dict[str, str], body: bytes) -> WebhookEvent:
        raise ForgedWebhook("Dialog sends no webhooks; its daily settlement file is its record.")

    def settlement(self, *, day: str) -> list[SettlementLine]:
        response = self._get(f"settlements/{quote(day, safe='')}")
        if response.status_code != 200:
            raise GatewayError(f"settlement file: HTTP {response.status_code}")
        lines = []
        for rec in csv.DictReader(io.StringIO(response.text)):
            kind = _KINDS.get((rec.get("type") or "").upper())
            if kind is None or not rec.get("payment_reference"):
                continue
            lines.append(SettlementLine(rec["payment_reference"], rec.get("reference") or "", kind,
                                        _decimal(rec.get("amount")), rec.get("currency") or ""))
        return lines


def _decimal(value: object) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return Decimal(0)


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
