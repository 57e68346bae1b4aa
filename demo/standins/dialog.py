"""Dialog fuel card stand-in: the narrow interface we defined for a closed-loop stored-value card
(services/payments/gateways/dialog.py documents it; the real one is fitted behind the same adapter).

  GET /v1/merchants/{merchant}/cards/{uid}                 the card: status, balance, currency
  PUT /v1/merchants/{merchant}/debits/{reference}          {"uid", "payment_reference", "amount", "currency"}
  PUT /v1/merchants/{merchant}/credits/{reference}         {"uid", "payment_reference", "amount", "currency"}
  GET /v1/merchants/{merchant}/operations?reference=R      operations whose reference or payment reference is R
  GET /v1/merchants/{merchant}/settlements/{YYYY-MM-DD}    the day's settlement file (CSV)

`Authorization: Bearer <api key>`. A reference is the idempotency key: the same PUT again answers what it
answered first and moves nothing. A debit above the card's balance is declined; credits of one payment never
exceed its debits. There are no webhooks: the settlement file is the gateway's record.

Cards are made with POST /__cards {"uid", "balance", "currency", "status"} (the demo makes its own at start).
"""
from __future__ import annotations

import csv
import hmac
import io
import json
import re
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from demo.standins.base import Handler, StandIn

_PATH = re.compile(r"/v1/merchants/([\w-]+)/(cards|debits|credits|operations|settlements)(?:/([\w.:-]+))?")
SETTLEMENT_COLUMNS = ("settlement_date", "reference", "payment_reference", "type", "uid", "amount", "currency",
                      "processed_at")


class DialogHandler(Handler):
    server: DialogStandIn

    def _route(self) -> tuple[str, str | None] | None:
        m = _PATH.fullmatch(self.path.split("?")[0])
        if not m or m.group(1) != self.server.merchant_id:
            self.reply(404, {"error": "not_found", "message": "Unknown path"})
            return None
        token = self.headers.get("Authorization", "")
        if not hmac.compare_digest(token, f"Bearer {self.server.api_key}"):
            self.reply(401, {"error": "unauthorized", "message": "Invalid API key."})
            return None
        return m.group(2), m.group(3)

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        if self.control():
            return
        route = self._route()
        if route is None:
            return
        kind, key = route
        srv = self.server
        if kind == "cards" and key:
            card = srv.state.payments.get(f"card:{key}")
            if card is None:
                self.reply(404, {"error": "unknown_card", "message": "No such card"})
            else:
                self.reply(200, srv.card_view(card))
        elif kind == "operations":
            ref = self.path.partition("reference=")[2].split("&")[0]
            with srv.lock:
                ops = [op for op in srv.state.operations if ref and ref in (op["reference"], op["payment_reference"])]
            self.reply(200, {"operations": ops})
        elif kind == "settlements" and key:
            self._settlement(key)
        else:
            self.reply(404, {"error": "not_found"})

    def _settlement(self, day: str) -> None:
        if self.server.report_failure():
            self.reply(503, {"error": "unavailable"})
            return
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(SETTLEMENT_COLUMNS)
        for op in self.server.report(day):
            if op["status"] == "APPROVED":
                writer.writerow([day, op["reference"], op["payment_reference"], op["op"].upper(), op["uid"],
                                 op["amount"], op["currency"], op["at"]])
        data = out.getvalue().encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/csv")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:  # noqa: N802
        if self.path.split("?")[0] == "/__cards":
            spec = json.loads(self.body() or b"{}")
            self.server.add_card(spec["uid"], Decimal(str(spec.get("balance", "0"))), spec.get("currency", "LKR"),
                                 spec.get("status", "active"))
            self.reply(200, {"ok": True})
        elif not self.control():
            self.reply(405, {"error": "method_not_allowed"})

    def do_PUT(self) -> None:  # noqa: N802
        body = self.body()
        route = self._route()
        if route is None:
            return
        kind, reference = route
        if kind not in ("debits", "credits") or not reference:
            self.reply(405, {"error": "method_not_allowed"})
            return
        try:
            request = json.loads(body or b"{}")
        except ValueError:
            self.reply(400, {"error": "invalid_request", "message": "The body is not JSON."})
            return
        self.server.handle(self, kind, reference, request)


class DialogStandIn(StandIn):
    def __init__(self, port: int = 8713, *, merchant_id: str, api_key: str, webhook_url: str | None = None,
                 host: str = "127.0.0.1", state_file: Path | None = None) -> None:
        super().__init__(port, DialogHandler, webhook_url=webhook_url, host=host, state_file=state_file)
        self.merchant_id, self.api_key = merchant_id, api_key

    def add_card(self, uid: str, balance: Decimal, currency: str, status: str = "active") -> None:
        with self.lock:
            self.state.payments[f"card:{uid}"] = {"uid": uid, "balance": balance, "currency": currency,
                                                  "status": status}

    def add_settled(self, *, day: str, reference: str, payment_reference: str, uid: str, amount: Decimal,
                    currency: str, op: str = "debit") -> None:
        """An operation already on a day's settlement file (the demo's way to show a mismatch)."""
        with self.lock:
            self.state.operations.append({"op": op, "reference": reference, "payment_reference": payment_reference,
                                          "uid": uid, "status": "APPROVED", "amount": str(amount),
                                          "currency": currency, "at": f"{day}T12:00:00+00:00"})

    @staticmethod
    def card_view(card: dict[str, Any]) -> dict[str, Any]:
        return {"uid": card["uid"], "status": card["status"], "balance": str(card["balance"]),
                "currency": card["currency"]}

    def handle(self, h: DialogHandler, kind: str, reference: str, req: dict[str, Any]) -> None:
        key = f"{kind}/{reference}"
        with self.lock:
            replay = self.state.replies.get(key)
        if replay:
            h.reply(*replay)
            return
        fail, delay = self.next_failure()
        if fail == "error":
            h.reply(503, {"error": "unavailable"})
            return
        status, answer = self._apply(kind, reference, req, declined=fail == "decline")
        with self.lock:
            self.state.replies[key] = (status, answer)
        if fail == "timeout":
            time.sleep(delay)
        h.reply(status, answer)

    def _apply(self, kind: str, reference: str, req: dict[str, Any], *, declined: bool) -> tuple[int, dict]:
        try:
            amount = Decimal(str(req.get("amount")))
        except (InvalidOperation, ValueError):
            return 400, {"error": "invalid_request", "message": "amount"}
        uid, pay_ref, currency = str(req.get("uid", "")), str(req.get("payment_reference", "")), req.get("currency")
        if not amount.is_finite() or amount <= 0 or not pay_ref:
            return 400, {"error": "invalid_request", "message": "amount and payment_reference are required"}
        with self.lock:
            card = self.state.payments.get(f"card:{uid}")
            if card is None:
                return 404, {"error": "unknown_card", "message": "No such card"}
            if currency != card["currency"]:
                return 400, {"error": "invalid_request", "message": f"The card holds {card['currency']}"}
            status, reason = "APPROVED", ""
            if kind == "debits":
                if declined or card["status"] != "active" or amount > card["balance"]:
                    blocked = card["status"] != "active"
                    status, reason = "DECLINED", "card blocked" if blocked else "insufficient balance"
                else:
                    card["balance"] -= amount
            else:
                ops = [o for o in self.state.operations if o["payment_reference"] == pay_ref
                       and o["status"] == "APPROVED"]
                debited = sum((Decimal(o["amount"]) for o in ops if o["op"] == "debit"), Decimal(0))
                credited = sum((Decimal(o["amount"]) for o in ops if o["op"] == "credit"), Decimal(0))
                if amount > debited - credited:
                    return 400, {"error": "invalid_request", "message": "more than was debited"}
                card["balance"] += amount
            balance = card["balance"]
        op = {"op": kind[:-1], "reference": reference, "payment_reference": pay_ref, "uid": uid, "status": status,
              "amount": str(amount), "currency": currency}
        self.record(op)
        return 200, {**op, "balance": str(balance), "reason": reason,
                     "processed_at": datetime.now(UTC).isoformat()}


def demo_cards(server: DialogStandIn, *, currency: str = "LKR") -> None:
    """The demo's fuel cards, and yesterday's settlement line for a debit we have no record of (so the
    reconciliation panel has something to show)."""
    server.add_card("04A1B2C3D4", Decimal("20000.00"), currency)
    server.add_card("04EMPTY000", Decimal("0.00"), currency)
    day = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    server.add_settled(day=day, reference="VD-S999999.capture1", payment_reference="VD-S999999", uid="04A1B2C3D4",
                       amount=Decimal("1250.00"), currency=currency)
