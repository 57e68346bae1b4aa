"""What every stand-in shares: a threaded HTTP server, a control endpoint that says how the next calls fail,
webhooks sent (late or twice when told), and a settlement report for reconciliation.

Control (POST /__control, JSON): {"fail": "decline"|"timeout"|"error"|"twice"|"late_webhook"|"twice_webhook",
"times": 1, "delay": 3.0}. The next `times` operations behave so:
- decline: the gateway declines;
- timeout: the gateway does the operation but answers only after `delay` seconds (longer than the client waits);
- error: HTTP 503 without doing anything;
- twice: the operation is answered, and its webhook is delivered twice;
- late_webhook: the webhook is sent after `delay` seconds, after later ones.
GET /__report?date=YYYY-MM-DD lists every operation the gateway recorded that day (the settlement report;
{"fail": "report_error"} answers it 503 instead, `times` times);
GET /__webhooks lists the webhooks sent; POST /__reset forgets everything.

With a state file (the demo keeps one per gateway under .data), the records survive a restart as a real
gateway's do: a payment made before the last `make run` can still be refunded.
"""
from __future__ import annotations

import json
import os
import threading
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

WEBHOOK_ATTEMPTS = 30
WEBHOOK_RETRY_SECONDS = 5.0


@dataclass
class Behaviour:
    fail: str | None = None
    times: int = 0
    delay: float = 3.0


@dataclass
class Ledger:
    """The stand-in's own records: payments by their id, operations in order, webhooks sent."""
    payments: dict[str, dict[str, Any]] = field(default_factory=dict)
    operations: list[dict[str, Any]] = field(default_factory=list)
    webhooks: list[dict[str, Any]] = field(default_factory=list)
    replies: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)


class StandIn(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int, handler: type[BaseHTTPRequestHandler], *, webhook_url: str | None,
                 host: str = "127.0.0.1", state_file: Path | None = None) -> None:
        super().__init__((host, port), handler)
        self.webhook_url = webhook_url
        self.behaviour = Behaviour()
        self.state = Ledger()
        self.lock = threading.Lock()
        self.sequence = 0
        self.state_file = state_file
        self._save_lock = threading.Lock()
        self.restored = self._load()

    # --- the records on disk (optional) ---------------------------------------------------------------

    def _load(self) -> bool:
        if self.state_file is None or not self.state_file.exists():
            return False
        data = json.loads(self.state_file.read_text(), object_hook=_decode)
        self.state = Ledger(payments=data["payments"], operations=data["operations"], webhooks=data["webhooks"],
                            replies={k: tuple(v) for k, v in data["replies"].items()})
        self.sequence = data["sequence"]
        return True

    def save(self) -> None:
        """Write the records (after every request that may change them): a new file renamed over the old, so a
        kill leaves one or the other."""
        if self.state_file is None:
            return
        with self.lock:
            text = json.dumps({**asdict(self.state), "sequence": self.sequence}, default=_encode)
        with self._save_lock:
            self.state_file.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.state_file.with_suffix(".tmp")
            tmp.write_text(text)
            os.replace(tmp, self.state_file)

    @property
    def url(self) -> str:
        return f"http://{self.server_address[0]}:{self.server_address[1]}"

    def next_failure(self) -> tuple[str | None, float]:
        with self.lock:
            b = self.behaviour
            if b.fail and b.fail != "report_error" and b.times > 0:
                b.times -= 1
                fail = b.fail
                if b.times == 0:
                    self.behaviour = Behaviour()
                return fail, b.delay
            return None, 0.0

    def report_failure(self) -> bool:
        """Whether the settlement report is told to fail now (`report_error`); operations are not affected."""
        with self.lock:
            b = self.behaviour
            if b.fail == "report_error" and b.times > 0:
                b.times -= 1
                if b.times == 0:
                    self.behaviour = Behaviour()
                return True
            return False

    def record(self, op: dict[str, Any]) -> None:
        with self.lock:
            op = {**op, "at": datetime.now(UTC).isoformat()}
            self.state.operations.append(op)

    def next_sequence(self) -> int:
        with self.lock:
            self.sequence += 1
            return self.sequence

    def send_webhook(self, data: bytes, headers: dict[str, str], *, copies: int = 1, delay: float = 0.0) -> None:
        with self.lock:
            self.state.webhooks.append({"body": json.loads(data), "headers": headers, "copies": copies,
                                        "delay": delay})
        if not self.webhook_url:
            return

        def deliver() -> None:
            time.sleep(delay)
            for _ in range(copies):
                # Like the real gateways, an undelivered webhook is retried for a while.
                for _attempt in range(WEBHOOK_ATTEMPTS):
                    req = urllib.request.Request(self.webhook_url, data=data, method="POST",
                                                 headers={"Content-Type": "application/json", **headers})
                    try:
                        urllib.request.urlopen(req, timeout=10).read()
                        break
                    except OSError:
                        time.sleep(WEBHOOK_RETRY_SECONDS)

        threading.Thread(target=deliver, daemon=True).start()

    def report(self, day: str) -> list[dict[str, Any]]:
        with self.lock:
            return [op for op in self.state.operations if op["at"][:10] == day]

    def reset(self) -> None:
        with self.lock:
            self.state = Ledger()
            self.behaviour = Behaviour()


def _encode(value: Any) -> Any:
    if isinstance(value, Decimal):
        return {"__decimal__": str(value)}
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _decode(obj: dict[str, Any]) -> Any:
    return Decimal(obj["__decimal__"]) if obj.keys() == {"__decimal__"} else obj


class Handler(BaseHTTPRequestHandler):
    server: StandIn
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        pass

    def body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def reply(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        if self.command != "GET":  # GETs only read (orders, reports, webhooks sent)
            self.server.save()

    def control(self) -> bool:
        """The stand-in's own endpoints; True when the request was one of them."""
        path = self.path.split("?")[0]
        if path == "/__control" and self.command == "POST":
            spec = json.loads(self.body() or b"{}")
            with self.server.lock:
                self.server.behaviour = Behaviour(spec.get("fail"), int(spec.get("times", 1)),
                                                  float(spec.get("delay", 3.0)))
            self.reply(200, {"ok": True})
        elif path == "/__reset" and self.command == "POST":
            self.body()
            self.server.reset()
            self.reply(200, {"ok": True})
        elif path == "/__report" and self.server.report_failure():
            self.reply(503, {"error": "unavailable"})
        elif path == "/__report":
            day = self.path.partition("date=")[2][:10] or datetime.now(UTC).date().isoformat()
            self.reply(200, {"date": day, "operations": self.server.report(day)})
        elif path == "/__webhooks":
            self.reply(200, {"webhooks": self.server.state.webhooks})
        else:
            return False
        return True


def serve(server: StandIn) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return thread
