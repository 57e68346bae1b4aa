"""Run a stand-in gateway:
`python -m demo.standins cybersource|amex|dialog [--port N] [--webhook-url URL] [--state FILE]`.

The demo stack runs them with the demo credentials below (demo only; production points at the real gateways)."""
from __future__ import annotations

import argparse
import base64
import os
import signal
import sys
from pathlib import Path

from demo.standins.amex import AmexStandIn
from demo.standins.cybersource import CyberSourceStandIn
from demo.standins.dialog import DialogStandIn, demo_cards

# The demo's gateway credentials: demo/seed.py stores the same ones in the demo organizations' configuration.
DEMO_CYBERSOURCE = dict(merchant_id="voltdesk_demo", key_id="demo-key-1",
                        secret=base64.b64encode(b"voltdesk-demo-cybersource-shared-secret").decode(),
                        webhook_key=base64.b64encode(b"voltdesk-demo-cybersource-webhook-key").decode())
DEMO_AMEX = dict(merchant_id="DEMONTB01", password="voltdesk-demo-amex-password",
                 notification_secret="voltdesk-demo-amex-notification-secret")
DEMO_DIALOG = dict(merchant_id="VOLTDESK-DEMO", api_key="voltdesk-demo-dialog-api-key")
# CYBERSOURCE_STANDIN_PORT (AMEX_, DIALOG_) moves one, so two demo stacks can run on one machine.
PORTS = {name: int(os.environ.get(f"{name.upper()}_STANDIN_PORT", port))
         for name, port in {"cybersource": 8711, "amex": 8712, "dialog": 8713}.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m demo.standins")
    parser.add_argument("gateway", choices=sorted(PORTS))
    parser.add_argument("--port", type=int)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--webhook-url")
    parser.add_argument("--state", type=Path, help="keep the gateway's records in FILE across restarts")
    args = parser.parse_args(argv)
    port = args.port or PORTS[args.gateway]
    common = dict(host=args.host, webhook_url=args.webhook_url, state_file=args.state)
    if args.gateway == "cybersource":
        server = CyberSourceStandIn(port, **common, **DEMO_CYBERSOURCE)
    elif args.gateway == "amex":
        server = AmexStandIn(port, **common, **DEMO_AMEX)
    else:
        server = DialogStandIn(port, **common, **DEMO_DIALOG)
        if not server.restored:  # the cards' balances are the gateway's records: kept, not topped up again
            demo_cards(server)
            server.save()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"{args.gateway} stand-in on {server.url}", flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
