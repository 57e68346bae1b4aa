"""Amex in Sri Lanka (Nations Trust Bank) on a Mastercard Gateway (MPGS) style API, over httpx.

  PUT {base}/api/rest/version/{v}/merchant/{merchantId}/order/{orderId}/transaction/{transactionId}

with apiOperation AUTHORIZE, CAPTURE, VOID or REFUND, Basic authentication as `merchant.<id>` with the API
password. Our payment reference is the order id and each operation's reference the transaction id, which the
gateway treats as an idempotency key. Webhooks carry the merchant's notification secret in
`X-Notification-Secret` and a unique `X-Notification-Id`; their order totals only grow, which orders them.
"""
from __future__ import annotations

import hmac
import json
from decimal import Decimal
from typing import Any

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
from services.payments.gateways.transport import report_lines, send

API_VERSION = 100
_KINDS = {"AUTHORIZE": "authorized", "CAPTURE": "captured", "VOID": "voided", "REFUND": "refunded"}


class Amex:
    name = "amex"

    def __init__(self, creds: Credentials, client: httpx.Client | None = None) -> None:
        self.creds = creds
        self.client = client or httpx.Client(timeout=creds.timeout)
        self.auth = httpx.BasicAuth(f"merchant.{creds.merchant_id}", creds.secret)

    def _order_url(self, order_id: str) -> str:
        return (f"{self.creds.base_url.rstrip('/')}/api/rest/version/{API_VERSION}/merchant/"
                f"{self.creds.merchant_id}/order/{order_id}")

    def _put(self, order_id: str, txn_id: str, payload: dict[str, Any], amount: Decimal) -> Answer:
        body = json.dumps(payload, separators=(",", ":")).encode()
        response = send(self.client, "PUT", f"{self._order_url(order_id)}/transaction/{txn_id}", content=body,
                        headers={"content-type": "application/json"}, auth=self.auth)
        data = _json(response)
        if response.status_code != 200 or data.get("result") == "ERROR":
            error = data.get("error") or {}
            raise GatewayError(error.get("explanation") or error.get("cause") or f"HTTP {response.status_code}")
        code = (data.get("response") or {}).get("gatewayCode", "")
        outcome = Outcome.APPROVED if data.get("result") == "SUCCESS" else (
            Outcome.PENDING if data.get("result") == "PENDING" else Outcome.DECLINED)
        return Answer(outcome, order_id, txn_id, amount, code)

    def authorize(self, *, reference: str, amount: Decimal, currency: str, token: str) -> Answer:
        return self._put(reference, f"{reference}.authorize1", {
            "apiOperation": "AUTHORIZE", "order": {"amount": str(amount), "currency": currency},
            "sourceOfFunds": {"type": "CARD", "token": token}}, amount)

    def capture(self, *, reference: str, op_reference: str, gateway_reference: str, amount: Decimal,
                currency: str) -> Answer:
        return self._put(gateway_reference, op_reference, {
            "apiOperation": "CAPTURE", "transaction": {"amount": str(amount), "currency": currency}}, amount)

    def void(self, *, reference: str, op_reference: str, gateway_reference: str, amount: Decimal,
             currency: str) -> Answer:
        return self._put(gateway_reference, op_reference, {
            "apiOperation": "VOID", "transaction": {"targetTransactionId": f"{reference}.authorize1"}}, amount)

    def refund(self, *, reference: str, op_reference: str, gateway_reference: str, amount: Decimal,
               currency: str) -> Answer:
        return self._put(gateway_reference, op_reference, {
            "apiOperation": "REFUND", "transaction": {"amount": str(amount), "currency": currency}}, amount)

    def query(self, *, reference: str, gateway_reference: str | None) -> Status:
        response = send(self.client, "GET", self._order_url(gateway_reference or reference), auth=self.auth)
        if response.status_code == 404:
            return Status(found=False)
        data = _json(response)
        if response.status_code != 200:
            raise GatewayError((data.get("error") or {}).get("explanation") or f"HTTP {response.status_code}")
        if data.get("status") == "FAILED":
            return Status(found=False, operations=data.get("transaction") or [])
        return Status(found=True, gateway_reference=data.get("id"),
                      authorized=Decimal(data.get("totalAuthorizedAmount") or 0),
                      captured=Decimal(data.get("totalCapturedAmount") or 0),
                      refunded=Decimal(data.get("totalRefundedAmount") or 0),
                      voided=data.get("status") == "CANCELLED", operations=data.get("transaction") or [])

    def parse_webhook(self, *, headers: dict[str, str], body: bytes) -> WebhookEvent:
        lower = {k.lower(): v for k, v in headers.items()}
        secret = lower.get("x-notification-secret", "")
        if not self.creds.webhook_secret or not hmac.compare_digest(secret, self.creds.webhook_secret):
            raise ForgedWebhook("The webhook's notification secret does not match.")
        try:
            event = json.loads(body)
            order, txn = event["order"], event["transaction"]
            # Totals only grow, so their sum orders the notifications of one order.
            progress = sum(Decimal(order.get(k) or 0) for k in
                           ("totalAuthorizedAmount", "totalCapturedAmount", "totalRefundedAmount"))
            return WebhookEvent(event_id=lower["x-notification-id"], payment_reference=order["id"],
                                kind=_KINDS.get(txn["type"], "updated"), amount=Decimal(txn["amount"]),
                                sequence=int(progress * 100) + len(order.get("transaction") or []),
                                payload={**event, "operation_reference": txn["id"]})
        except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
            raise ForgedWebhook("The webhook is not in the gateway's shape.") from exc

    def settlement(self, *, day: str) -> list[SettlementLine]:
        return report_lines(self.client, self.creds.base_url, day, auth=self.auth)


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
