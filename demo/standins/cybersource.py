"""CyberSource stand-in: the REST API's payments, captures, reversals, refunds and searches, with HTTP Signature
authentication (HMAC-SHA256 over host, date, request-target, digest and v-c-merchant-id, the key being the
base64 shared secret) and webhooks signed in `v-c-signature` as `t=<unix>;keyId=<id>;sig=<base64 HMAC of
"<t>.<body>">`. Written from CyberSource's documentation, apart from the adapter, so each checks the other.

A replayed request (same operation and clientReferenceInformation.code) gets the first answer again.
A card token starting `tok_decline` is declined.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

from demo.standins.base import Handler, StandIn

_SIG = re.compile(r'(\w+)="([^"]*)"')


class CyberSourceHandler(Handler):
    server: CyberSourceStandIn

    def _authentic(self, body: bytes) -> str | None:
        """Why the request's HTTP Signature fails, or None when it holds."""
        srv = self.server
        fields = dict(_SIG.findall(self.headers.get("Signature", "")))
        if fields.get("keyid") != srv.key_id or fields.get("algorithm") != "HmacSHA256":
            return "unknown key or algorithm"
        if self.headers.get("v-c-merchant-id") != srv.merchant_id:
            return "unknown merchant"
        names = fields.get("headers", "").split()
        if body and "digest" not in names:
            return "digest not signed"
        if body:
            digest = "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()
            if self.headers.get("Digest") != digest:
                return "digest does not match the body"
        lines = []
        for name in names:
            if name == "request-target":
                lines.append(f"request-target: {self.command.lower()} {self.path}")
            else:
                lines.append(f"{name}: {self.headers.get(name, '')}")
        expected = base64.b64encode(hmac.new(base64.b64decode(srv.secret), "\n".join(lines).encode(),
                                             hashlib.sha256).digest()).decode()
        return None if hmac.compare_digest(expected, fields.get("signature", "")) else "bad signature"

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        if not self.control():
            self.reply(404, {"message": "not found"})

    def do_POST(self) -> None:  # noqa: N802
        if self.control():
            return
        body = self.body()
        problem = self._authentic(body)
        if problem:
            self.reply(401, {"response": {"rmsg": f"Authentication Failed: {problem}"}})
            return
        try:
            request = json.loads(body or b"{}")
        except ValueError:
            self.reply(400, {"status": "INVALID_REQUEST", "reason": "MISSING_FIELD"})
            return
        self.server.handle(self, request)


class CyberSourceStandIn(StandIn):
    def __init__(self, port: int = 8711, *, merchant_id: str, key_id: str, secret: str, webhook_key: str,
                 webhook_url: str | None = None, host: str = "127.0.0.1", state_file: Path | None = None) -> None:
        super().__init__(port, CyberSourceHandler, webhook_url=webhook_url, host=host, state_file=state_file)
        self.merchant_id, self.key_id, self.secret, self.webhook_key = merchant_id, key_id, secret, webhook_key

    def handle(self, h: CyberSourceHandler, req: dict[str, Any]) -> None:
        path = h.path.split("?")[0]
        if path == "/tss/v2/searches":
            h.reply(201, self._search(req))
            return
        ref = (req.get("clientReferenceInformation") or {}).get("code", "")
        m = re.fullmatch(r"/pts/v2/payments(?:/([\w-]+)/(captures|reversals|refunds|voids))?", path)
        if not m or not ref:
            h.reply(400, {"status": "INVALID_REQUEST", "reason": "MISSING_FIELD"})
            return
        op = m.group(2) or "authorize"
        key = f"{op}:{ref}"
        with self.lock:
            replay = self.state.replies.get(key)
        if replay:
            h.reply(*replay)
            return
        fail, delay = self.next_failure()
        if fail == "error":
            h.reply(503, {"status": "SERVER_ERROR", "reason": "SYSTEM_ERROR"})
            return
        status, answer = self._apply(op, m.group(1), ref, req, declined=fail == "decline")
        with self.lock:
            self.state.replies[key] = (status, answer)
        if status == 201 and answer.get("status") not in ("DECLINED", "INVALID_REQUEST"):
            self._webhook(answer, copies=2 if fail == "twice" else 1,
                          delay=delay if fail == "late_webhook" else 0.0)
        if fail == "timeout":
            time.sleep(delay)
        h.reply(status, answer)

    def _apply(self, op: str, pid: str | None, ref: str, req: dict[str, Any], *,
               declined: bool) -> tuple[int, dict[str, Any]]:
        amounts = (req.get("orderInformation") or req.get("reversalInformation") or {}).get("amountDetails") or {}
        amount = Decimal(str(amounts.get("totalAmount", "0")))
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        if op == "authorize":
            token = ((req.get("paymentInformation") or {}).get("customer") or {}).get("customerId", "")
            pid = uuid.uuid4().hex[:22]
            if declined or token.startswith("tok_decline"):
                self.record({"op": "authorize", "id": pid, "reference": ref, "status": "DECLINED",
                             "amount": str(amount), "currency": amounts.get("currency")})
                return 201, {"id": pid, "status": "DECLINED", "submitTimeUtc": now,
                             "clientReferenceInformation": {"code": ref},
                             "errorInformation": {"reason": "INSUFFICIENT_FUND",
                                                  "message": "Decline - Insufficient funds"}}
            pay = {"id": pid, "reference": ref, "currency": amounts.get("currency"), "authorized": amount,
                   "captured": Decimal(0), "refunded": Decimal(0), "status": "AUTHORIZED"}
            with self.lock:
                self.state.payments[pid] = pay
            self.record({"op": "authorize", "id": pid, "reference": ref, "status": "AUTHORIZED",
                         "amount": str(amount), "currency": pay["currency"]})
            return 201, {"id": pid, "status": "AUTHORIZED", "submitTimeUtc": now,
                         "clientReferenceInformation": {"code": ref},
                         "orderInformation": {"amountDetails": {"authorizedAmount": str(amount),
                                                                "currency": pay["currency"]}}}
        pay = self.state.payments.get(pid or "")
        if pay is None:
            return 404, {"status": "NOT_FOUND", "message": "The requested resource does not exist"}
        if declined:
            return 201, {"id": uuid.uuid4().hex[:22], "status": "DECLINED",
                         "clientReferenceInformation": {"code": ref},
                         "errorInformation": {"reason": "PROCESSOR_DECLINED"}}
        with self.lock:
            if op == "captures":
                if pay["status"] != "AUTHORIZED" or amount > pay["authorized"] or amount <= 0:
                    return 400, {"status": "INVALID_REQUEST", "reason": "INVALID_AMOUNT"}
                pay["captured"], pay["status"], status = amount, "CAPTURED", "PENDING"
            elif op in ("reversals", "voids"):
                if pay["status"] != "AUTHORIZED":
                    return 400, {"status": "INVALID_REQUEST", "reason": "NOT_VOIDABLE"}
                pay["status"], status = "REVERSED", "REVERSED" if op == "reversals" else "VOIDED"
            else:
                if pay["status"] not in ("CAPTURED", "REFUNDED") or amount <= 0 \
                        or amount > pay["captured"] - pay["refunded"]:
                    return 400, {"status": "INVALID_REQUEST", "reason": "INVALID_AMOUNT"}
                pay["refunded"] += amount
                status = "PENDING"
        self.record({"op": op, "id": pid, "reference": ref, "payment_reference": pay["reference"], "status": status,
                     "amount": str(amount), "currency": pay["currency"]})
        return 201, {"id": uuid.uuid4().hex[:22], "status": status, "submitTimeUtc": now,
                     "clientReferenceInformation": {"code": ref},
                     "links": {"self": {"href": f"/pts/v2/payments/{pid}"}},
                     "orderInformation": {"amountDetails": {"totalAmount": str(amount), "currency": pay["currency"]}},
                     "paymentId": pid, "operation": op}

    def _search(self, req: dict[str, Any]) -> dict[str, Any]:
        ref = str(req.get("query", "")).partition("clientReferenceInformation.code:")[2].strip()
        with self.lock:
            found = [{"id": op["id"], "status": op["status"], "operation": op["op"],
                      "clientReferenceInformation": {"code": op["reference"]},
                      "orderInformation": {"amountDetails": {"totalAmount": op["amount"],
                                                             "currency": op["currency"]}}}
                     for op in self.state.operations if op["reference"] == ref]
        return {"count": len(found), "_embedded": {"transactionSummaries": found}}

    def _webhook(self, answer: dict[str, Any], *, copies: int, delay: float) -> None:
        body = {"notificationId": uuid.uuid4().hex, "eventType": f"payments.{answer.get('operation', 'payments')}",
                "eventDate": answer.get("submitTimeUtc"), "sequence": self.next_sequence(),
                "payload": {"data": answer}}
        raw = json.dumps(body)
        t = str(int(time.time()))
        sig = base64.b64encode(hmac.new(base64.b64decode(self.webhook_key), f"{t}.{raw}".encode(),
                                        hashlib.sha256).digest()).decode()
        self.send_webhook(raw.encode(), {"v-c-signature": f"t={t};keyId={self.key_id};sig={sig}"},
                          copies=copies, delay=delay)
