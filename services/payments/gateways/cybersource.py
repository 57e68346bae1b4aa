"""CyberSource over its documented REST API with httpx (docs/adr/0007-payment-gateways.md says why not the SDK).

Requests are signed with HTTP Signature: HMAC-SHA256, keyed with the base64 shared secret, over
`host date request-target digest v-c-merchant-id` (no digest on a GET). Webhooks carry `v-c-signature:
t=<unix>;keyId=<id>;sig=<base64 HMAC-SHA256 of "<t>.<body>">`, checked against the webhook key.
Our `reference` travels as clientReferenceInformation.code; a timed-out call is found again by a search on it.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from decimal import Decimal
from email.utils import formatdate
from typing import Any
from urllib.parse import urlsplit

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

# A signed webhook older than this is refused as a replay (the provider signs every delivery afresh).
REPLAY_WINDOW_SECONDS = 300
_KINDS = {"authorize": "authorized", "captures": "captured", "refunds": "refunded", "reversals": "voided",
          "voids": "voided"}


def signature_headers(creds: Credentials, method: str, url: str, body: bytes) -> dict[str, str]:
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    headers = {"host": parts.netloc, "date": formatdate(usegmt=True), "v-c-merchant-id": creds.merchant_id}
    names = ["host", "date", "request-target"]
    if body:
        headers["digest"] = "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()
        names.append("digest")
    names.append("v-c-merchant-id")
    lines = [f"request-target: {method.lower()} {target}" if n == "request-target" else f"{n}: {headers[n]}"
             for n in names]
    sig = base64.b64encode(hmac.new(base64.b64decode(creds.secret), "\n".join(lines).encode(),
                                    hashlib.sha256).digest()).decode()
    headers["signature"] = (f'keyid="{creds.key_id}", algorithm="HmacSHA256", headers="{" ".join(names)}", '
                            f'signature="{sig}"')
    return headers


class CyberSource:
    name = "cybersource"

    def __init__(self, creds: Credentials, client: httpx.Client | None = None) -> None:
        self.creds = creds
        self.client = client or httpx.Client(timeout=creds.timeout)

    def _post(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        url = self.creds.base_url.rstrip("/") + path
        body = json.dumps(payload, separators=(",", ":")).encode()
        headers = {**signature_headers(self.creds, "POST", url, body), "content-type": "application/json"}
        response = send(self.client, "POST", url, content=body, headers=headers)
        data = _json(response)
        if response.status_code not in (200, 201):
            raise GatewayError(data.get("reason") or data.get("message")
                               or (data.get("response") or {}).get("rmsg") or f"HTTP {response.status_code}")
        return data

    @staticmethod
    def _amount(amount: Decimal, currency: str) -> dict[str, Any]:
        return {"amountDetails": {"totalAmount": str(amount), "currency": currency}}

    def _answer(self, data: dict[str, Any], payment_id: str | None, amount: Decimal) -> Answer:
        status = data.get("status", "")
        if status == "DECLINED":
            return Answer(Outcome.DECLINED, payment_id or data.get("id"), data.get("id"), amount,
                          (data.get("errorInformation") or {}).get("message", "Declined"))
        outcome = Outcome.PENDING if status == "PENDING" and data.get("operation") == "refunds" else Outcome.APPROVED
        return Answer(outcome, payment_id or data.get("id"), data.get("id"), amount, status)

    def authorize(self, *, reference: str, amount: Decimal, currency: str, token: str) -> Answer:
        data = self._post("/pts/v2/payments", {
            "clientReferenceInformation": {"code": reference}, "processingInformation": {"capture": False},
            "paymentInformation": {"customer": {"customerId": token}},
            "orderInformation": self._amount(amount, currency)})
        return self._answer(data, None, amount)

    def capture(self, *, reference: str, op_reference: str, gateway_reference: str, amount: Decimal,
                currency: str) -> Answer:
        data = self._post(f"/pts/v2/payments/{gateway_reference}/captures", {
            "clientReferenceInformation": {"code": op_reference}, "orderInformation": self._amount(amount, currency)})
        return self._answer(data, gateway_reference, amount)

    def void(self, *, reference: str, op_reference: str, gateway_reference: str, amount: Decimal,
             currency: str) -> Answer:
        data = self._post(f"/pts/v2/payments/{gateway_reference}/reversals", {
            "clientReferenceInformation": {"code": op_reference},
            "reversalInformation": {**self._amount(amount, currency), "reason": "session delivered no energy"}})
        return self._answer(data, gateway_reference, amount)

    def refund(self, *, reference: str, op_reference: str, gateway_reference: str, amount: Decimal,
               currency: str) -> Answer:
        data = self._post(f"/pts/v2/payments/{gateway_reference}/refunds", {
            "clientReferenceInformation": {"code": op_reference}, "orderInformation": self._amount(amount, currency)})
        return self._answer(data, gateway_reference, amount)

    def query(self, *, reference: str, gateway_reference: str | None) -> Status:
        data = self._post("/tss/v2/searches", {"query": f"clientReferenceInformation.code:{reference}",
                                               "sort": "submitTimeUtc:asc"})
        found = (data.get("_embedded") or {}).get("transactionSummaries") or []
        approved = [f for f in found if f.get("status") not in ("DECLINED",)]
        if not approved:
            return Status(found=False, operations=found)
        first = approved[0]
        amount = Decimal(first["orderInformation"]["amountDetails"]["totalAmount"])
        return Status(found=True, gateway_reference=first["id"], authorized=amount, operations=found)

    def parse_webhook(self, *, headers: dict[str, str], body: bytes) -> WebhookEvent:
        header = {k.lower(): v for k, v in headers.items()}.get("v-c-signature", "")
        fields = dict(p.split("=", 1) for p in header.split(";") if "=" in p)
        if not fields.get("t") or not fields.get("sig") or not self.creds.webhook_secret:
            raise ForgedWebhook("The webhook is not signed.")
        expected = base64.b64encode(hmac.new(base64.b64decode(self.creds.webhook_secret),
                                             f"{fields['t']}.".encode() + body, hashlib.sha256).digest()).decode()
        if not hmac.compare_digest(expected, fields["sig"]):
            raise ForgedWebhook("The webhook's signature does not verify.")
        if not fields["t"].isdigit() or abs(time.time() - int(fields["t"])) > REPLAY_WINDOW_SECONDS:
            raise ForgedWebhook("The webhook's signature is too old (a replay).")
        try:
            event = json.loads(body)
            data = event["payload"]["data"]
            return WebhookEvent(event_id=str(event["notificationId"]),
                                payment_reference=payment_reference(
                                    data.get("clientReferenceInformation", {}).get("code")),
                                kind=_KINDS.get(data.get("operation", "authorize"), "updated"),
                                amount=Decimal(str((data.get("orderInformation") or {}).get("amountDetails", {})
                                                   .get("totalAmount") or data.get("orderInformation", {})
                                                   .get("amountDetails", {}).get("authorizedAmount") or 0)),
                                sequence=int(event.get("sequence") or 0) or None,
                                payload={**event, "gateway_payment_id": data.get("paymentId") or data.get("id"),
                                         "operation_reference": data.get("clientReferenceInformation", {})
                                         .get("code")})
        except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
            raise ForgedWebhook("The webhook is not in CyberSource's shape.") from exc

    def settlement(self, *, day: str) -> list[SettlementLine]:
        return report_lines(self.client, self.creds.base_url, day)


def payment_reference(op_reference: str | None) -> str | None:
    """Our payment's reference from an operation's: `<payment reference>.<operation><n>`."""
    return op_reference.split(".")[0] if op_reference else None


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
