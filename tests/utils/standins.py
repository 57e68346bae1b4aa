"""Stand-in gateways on free ports for a test, with a webhook receiver that hands each delivery to a callback."""
from __future__ import annotations

import base64
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from demo.standins.amex import AmexStandIn
from demo.standins.base import serve
from demo.standins.cybersource import CyberSourceStandIn
from demo.standins.dialog import DialogStandIn
from services.payments.gateways.base import Credentials

CS_SECRET = base64.b64encode(b"cybersource-test-shared-secret-0123456789").decode()
CS_WEBHOOK_KEY = base64.b64encode(b"cybersource-test-webhook-key-0123456789").decode()
AMEX_PASSWORD = "amex-test-api-password"
AMEX_NOTIFICATION_SECRET = "amex-test-notification-secret"
DIALOG_API_KEY = "dialog-test-api-key"


def cybersource(webhook_url: str | None = None, state_file: Path | None = None) -> CyberSourceStandIn:
    server = CyberSourceStandIn(0, merchant_id="voltdesk_test", key_id="test-key-1", secret=CS_SECRET,
                                webhook_key=CS_WEBHOOK_KEY, webhook_url=webhook_url, state_file=state_file)
    serve(server)
    return server


def amex(webhook_url: str | None = None, state_file: Path | None = None) -> AmexStandIn:
    server = AmexStandIn(0, merchant_id="TESTNTB01", password=AMEX_PASSWORD,
                         notification_secret=AMEX_NOTIFICATION_SECRET, webhook_url=webhook_url, state_file=state_file)
    serve(server)
    return server


def dialog(state_file: Path | None = None) -> DialogStandIn:
    server = DialogStandIn(0, merchant_id="TESTDIALOG", api_key=DIALOG_API_KEY, state_file=state_file)
    serve(server)
    return server


def dialog_credentials(server: DialogStandIn, *, timeout: float = 2.0, secret: str = DIALOG_API_KEY) -> Credentials:
    return Credentials(base_url=server.url, merchant_id="TESTDIALOG", secret=secret, timeout=timeout)


def cybersource_credentials(server: CyberSourceStandIn, *, timeout: float = 2.0,
                           secret: str = CS_SECRET) -> Credentials:
    return Credentials(base_url=server.url, merchant_id="voltdesk_test", key_id="test-key-1", secret=secret,
                       webhook_secret=CS_WEBHOOK_KEY, timeout=timeout)


def amex_credentials(server: AmexStandIn, *, timeout: float = 2.0, secret: str = AMEX_PASSWORD) -> Credentials:
    return Credentials(base_url=server.url, merchant_id="TESTNTB01", secret=secret,
                       webhook_secret=AMEX_NOTIFICATION_SECRET, timeout=timeout)


class WebhookReceiver(ThreadingHTTPServer):
    """Receives the stand-ins' webhooks over HTTP and passes (headers, body) to `on_webhook`."""
    daemon_threads = True

    def __init__(self, on_webhook: Callable[[dict[str, str], bytes], int]) -> None:
        receiver = self

        class _Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status = receiver.on_webhook(dict(self.headers.items()), body)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        super().__init__(("127.0.0.1", 0), _Handler)
        self.on_webhook = on_webhook
        self.received = threading.Semaphore(0)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/webhook"
