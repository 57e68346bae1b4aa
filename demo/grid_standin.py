"""A stand-in for the grid data sources, over real HTTP, serving the recorded answers in
services/grid/sources/recorded/ for tests and the demo (the real sources are unreachable here).

- Elexon BMRS: GET /bmrs/api/v1/system/frequency, /bmrs/api/v1/datasets/FUELINST, /bmrs/api/v1/demand/outturn
- ENTSO-E: GET /api?securityToken=…&documentType=A65|A75&… (401 without a token, as the platform does)
- CEB: GET /GenSum/GetLoadCurveData?date=YYYY-MM-DD (the double-encoded JSON array)

It can be told to misbehave: POST /_control with {"mode": "ok" | "fail" | "empty" | "malformed"}.
`python -m demo.grid_standin [--port 8741]` runs it on its own.
"""
from __future__ import annotations

import argparse
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from services.grid.sources import RECORDED

DEFAULT_PORT = 8741
FILES = {
    "/bmrs/api/v1/system/frequency": ("bmrs_frequency.json", "application/json"),
    "/bmrs/api/v1/datasets/FUELINST": ("bmrs_fuelinst.json", "application/json"),
    "/bmrs/api/v1/demand/outturn": ("bmrs_demand.json", "application/json"),
    "/GenSum/GetLoadCurveData": ("ceb_load_curve.json", "application/json"),
}
ENTSOE = {"A65": "entsoe_load.xml", "A75": "entsoe_generation.xml"}
EMPTY = {"application/json": b'{"data": []}', "text/xml": b""}
ENTSOE_NO_DATA = (b'<?xml version="1.0" encoding="UTF-8"?><Acknowledgement_MarketDocument>'
                  b"<Reason><code>999</code><text>No matching data found for Data item</text></Reason>"
                  b"</Acknowledgement_MarketDocument>")


class _Handler(BaseHTTPRequestHandler):
    server: StandIn

    def log_message(self, *args) -> None:  # quiet in tests
        pass

    def _send(self, status: int, body: bytes, ctype: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        if self.path != "/_control":
            return self._send(404, b"not found", "text/plain")
        length = int(self.headers.get("Content-Length") or 0)
        self.server.mode = json.loads(self.rfile.read(length) or b"{}").get("mode", "ok")
        return self._send(200, b"{}", "application/json")

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        self.server.requests.append(self.path)
        mode = self.server.mode
        if mode == "fail":
            return self._send(503, b"Service Unavailable", "text/plain")
        if url.path == "/api":
            if not query.get("securityToken"):
                return self._send(401, b"<html><body><text>Unauthorized</text></body></html>", "text/html")
            name = ENTSOE.get((query.get("documentType") or [""])[0])
            if name is None:
                return self._send(400, b"<html><body><text>invalid documentType</text></body></html>", "text/html")
            if mode == "empty":
                return self._send(200, ENTSOE_NO_DATA, "text/xml")
            body = (RECORDED / name).read_bytes()
            return self._send(200, body[: len(body) // 2] if mode == "malformed" else body, "text/xml")
        if url.path not in FILES:
            return self._send(404, b"not found", "text/plain")
        name, ctype = FILES[url.path]
        if mode == "empty":
            body = b'"[]"' if url.path.startswith("/GenSum") else EMPTY[ctype]
        elif mode == "malformed":
            body = b'{"data": [{"measurementTime": "yesterday", "frequency": "fast"}'
        else:
            body = (RECORDED / name).read_bytes()
        return self._send(200, body, ctype)


class StandIn(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int = 0, host: str = "127.0.0.1") -> None:
        super().__init__((host, port), _Handler)
        self.mode = "ok"
        self.requests: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def start(self) -> StandIn:
        threading.Thread(target=self.serve_forever, name="grid-standin", daemon=True).start()
        return self


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Stand-in for Elexon BMRS, ENTSO-E and CEB.")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    args = parser.parse_args(argv)
    print(f"grid stand-in on http://127.0.0.1:{args.port}", flush=True)
    StandIn(args.port).serve_forever()


if __name__ == "__main__":
    main()
