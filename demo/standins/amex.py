"""Amex (Nations Trust Bank) stand-in: a Mastercard Gateway (MPGS) style REST API.

  PUT /api/rest/version/{v}/merchant/{merchantId}/order/{orderId}/transaction/{transactionId}
      {"apiOperation": "AUTHORIZE" | "CAPTURE" | "VOID" | "REFUND", ...}
  GET /api/rest/version/{v}/merchant/{merchantId}/order/{orderId}

Basic authentication as `merchant.<merchantId>` with the API password. A transaction id is the idempotency key:
the same PUT again answers what it answered first. Webhooks are POSTed with `X-Notification-Secret`,
`X-Notification-Id` and `X-Notification-Attempt`. A token starting `tok_decline` is declined.
"""
from __future__ import annotations

import base64
import hmac
import json
import re
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

from demo.standins.base import Handler, StandIn

_PATH = re.compile(r"/api/rest/version/\d+/merchant/([\w-]+)/order/([\w.-]+)(?:/transaction/([\w.-]+))?")


class AmexHandler(Handler):
    server: AmexStandIn

    def _route(self) -> tuple[str, str | None] | None:
        m = _PATH.fullmatch(self.path.split("?")[0])
        srv = self.server
        expected = "Basic " + base64.b64encode(f"merchant.{srv.merchant_id}:{srv.password}".encode()).decode()
        if not m or m.group(1) != srv.merchant_id:
            self.reply(404, {"result": "ERROR", "error": {"cause": "INVALID_REQUEST", "explanation": "Unknown path"}})
            return None
        if not hmac.compare_digest(self.headers.get("Authorization", ""), expected):
            self.reply(401, {"result": "ERROR", "error": {"cause": "INVALID_REQUEST",
                                                           "explanation": "Invalid credentials."}})
            return None
        return m.group(2), m.group(3)

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        if self.control():
            return
        route = self._route()
        if route is None:
            return
        order = self.server.state.payments.get(route[0])
        if order is None:
            self.reply(404, {"result": "ERROR", "error": {"cause": "INVALID_REQUEST",
                                                           "explanation": "Order not found"}})
        else:
            self.reply(200, self.server.order_view(order))

    def do_POST(self) -> None:  # noqa: N802
        if not self.control():
            self.reply(405, {"result": "ERROR"})

    def do_PUT(self) -> None:  # noqa: N802
        body = self.body()
        route = self._route()
        if route is None or route[1] is None:
            if route is not None:
                self.reply(400, {"result": "ERROR", "error": {"cause": "INVALID_REQUEST"}})
            return
        try:
            request = json.loads(body or b"{}")
        except ValueError:
            self.reply(400, {"result": "ERROR", "error": {"cause": "INVALID_REQUEST"}})
            return
        self.server.handle(self, route[0], route[1], request)


class AmexStandIn(StandIn):
    def __init__(self, port: int = 8712, *, merchant_id: str, password: str, notification_secret: str,
                 webhook_url: str | None = None, host: str = "127.0.0.1", state_file: Path | None = None) -> None:
        super().__init__(port, AmexHandler, webhook_url=webhook_url, host=host, state_file=state_file)
        self.merchant_id, self.password, self.notification_secret = merchant_id, password, notification_secret

    def order_view(self, order: dict[str, Any]) -> dict[str, Any]:
        return {"id": order["id"], "status": order["status"], "currency": order["currency"],
                "totalAuthorizedAmount": str(order["authorized"]), "totalCapturedAmount": str(order["captured"]),
                "totalRefundedAmount": str(order["refunded"]), "transaction": order["transactions"]}

    def handle(self, h: AmexHandler, order_id: str, txn_id: str, req: dict[str, Any]) -> None:
        key = f"{order_id}/{txn_id}"
        with self.lock:
            replay = self.state.replies.get(key)
        if replay:
            h.reply(*replay)
            return
        fail, delay = self.next_failure()
        if fail == "error":
            h.reply(503, {"result": "ERROR", "error": {"cause": "SERVER_BUSY"}})
            return
        status, answer = self._apply(order_id, txn_id, req, declined=fail == "decline")
        with self.lock:
            self.state.replies[key] = (status, answer)
        if status == 200 and answer["result"] == "SUCCESS":
            self._webhook(answer, copies=2 if fail == "twice" else 1, delay=delay if fail == "late_webhook" else 0.0)
        if fail == "timeout":
            time.sleep(delay)
        h.reply(status, answer)

    def _apply(self, order_id: str, txn_id: str, req: dict[str, Any], *, declined: bool) -> tuple[int, dict]:
        op = req.get("apiOperation")
        source = (req.get("order") if op == "AUTHORIZE" else req.get("transaction")) or {}
        try:
            amount = Decimal(str(source.get("amount", "0")))
        except ArithmeticError:
            return 400, {"result": "ERROR", "error": {"cause": "INVALID_REQUEST", "field": "amount"}}
        with self.lock:
            order = self.state.payments.get(order_id)
            if op == "AUTHORIZE":
                token = (req.get("sourceOfFunds") or {}).get("token", "")
                if order is not None:
                    return 400, {"result": "ERROR", "error": {"cause": "INVALID_REQUEST",
                                                               "explanation": "Order already exists"}}
                order = {"id": order_id, "currency": source.get("currency"), "authorized": Decimal(0),
                         "captured": Decimal(0), "refunded": Decimal(0), "status": "INITIATED", "transactions": []}
                self.state.payments[order_id] = order
                if declined or token.startswith("tok_decline"):
                    order["status"] = "FAILED"
                    code, result = "DECLINED", "FAILURE"
                else:
                    order["authorized"], order["status"] = amount, "AUTHORIZED"
                    code, result = "APPROVED", "SUCCESS"
            elif order is None:
                return 400, {"result": "ERROR", "error": {"cause": "INVALID_REQUEST", "explanation": "No such order"}}
            elif declined:
                code, result = "DECLINED", "FAILURE"
            elif op == "CAPTURE":
                if order["status"] != "AUTHORIZED" or amount <= 0 or amount > order["authorized"]:
                    return 400, {"result": "ERROR", "error": {"cause": "INVALID_REQUEST", "field": "amount"}}
                order["captured"], order["status"], code, result = amount, "CAPTURED", "APPROVED", "SUCCESS"
            elif op == "VOID":
                if order["status"] != "AUTHORIZED":
                    return 400, {"result": "ERROR", "error": {"cause": "INVALID_REQUEST",
                                                               "explanation": "Nothing to void"}}
                order["status"], code, result = "CANCELLED", "APPROVED", "SUCCESS"
            elif op == "REFUND":
                if order["status"] not in ("CAPTURED", "PARTIALLY_REFUNDED", "REFUNDED") or amount <= 0 \
                        or amount > order["captured"] - order["refunded"]:
                    return 400, {"result": "ERROR", "error": {"cause": "INVALID_REQUEST", "field": "amount"}}
                order["refunded"] += amount
                order["status"] = "REFUNDED" if order["refunded"] == order["captured"] else "PARTIALLY_REFUNDED"
                code, result = "APPROVED", "SUCCESS"
            else:
                return 400, {"result": "ERROR", "error": {"cause": "INVALID_REQUEST", "field": "apiOperation"}}
            txn = {"id": txn_id, "type": op, "amount": str(amount), "currency": order["currency"]}
            order["transactions"].append({**txn, "result": result})
            view = self.order_view(order)
        self.record({"op": op.lower(), "id": order_id, "reference": txn_id, "payment_reference": order_id,
                     "status": code, "amount": str(amount), "currency": order["currency"]})
        return 200, {"result": result, "response": {"gatewayCode": code}, "order": view, "transaction": txn,
                     "timeOfRecord": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}

    def _webhook(self, answer: dict[str, Any], *, copies: int, delay: float) -> None:
        self.send_webhook(json.dumps(answer).encode(), {
            "X-Notification-Secret": self.notification_secret, "X-Notification-Id": uuid.uuid4().hex,
            "X-Notification-Attempt": "1"}, copies=copies, delay=delay)
