"""Local stand-ins for the push services, for tests and the demo: what would be sent arrives here.

- FCM HTTP v1 (default port 8721): `POST /token` answers the service account's OAuth JWT grant with an
  access token; `POST /v1/projects/{project}/messages:send` takes a message with that bearer token, as
  fcm.googleapis.com does, and answers `404 UNREGISTERED` for tokens told to be unregistered.
- Web Push (default port 8722): `POST /push/{id}` takes an aes128gcm-encrypted push with a VAPID
  Authorization header and answers 201, or `410 Gone` for unregistered subscriptions.

Control routes for tests and the demo: `GET /_received` (what arrived; Web Push bodies base64url, still
encrypted), `GET /_count` (and how many failures are still to come), `POST /_unregister` `{"token": ...}`
(FCM; `"invalid": true` answers 400 INVALID_ARGUMENT instead, as for a malformed token) / `{"id": ...}`
(Web Push), `POST /_fail` `{"count": n, "status": 503, "retry_after": null}` (the next n sends answer that
status, FCM with that Retry-After header), `POST /_expire_tokens` (FCM: the access tokens minted so far are
refused with 401, as an expired one is), `POST /_reset`.

`python -m demo.push_standins [--fcm-port 8721] [--webpush-port 8722]`
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import secrets
import threading
from typing import Any

import uvloop
from aiohttp import web

_FCM_ERROR = "type.googleapis.com/google.firebase.fcm.v1.FcmError"


class _Box:
    """What one stand-in received and what it is told to do."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.count = 0
        self.gone: set[str] = set()
        self.invalid: set[str] = set()
        self.fail = 0
        self.fail_status = 503
        self.retry_after: str | None = None

    def routes(self, app: web.Application) -> None:
        async def received(_: web.Request) -> web.Response:
            return web.json_response(self.received)

        async def count(_: web.Request) -> web.Response:
            return web.json_response({"count": self.count, "fail_left": self.fail})

        async def unregister(request: web.Request) -> web.Response:
            body = await request.json()
            (self.invalid if body.get("invalid") else self.gone).add(str(body.get("token") or body.get("id")))
            return web.json_response({"ok": True})

        async def fail(request: web.Request) -> web.Response:
            body = await request.json()
            self.fail, self.fail_status = int(body.get("count", 1)), int(body.get("status", 503))
            after = body.get("retry_after")
            self.retry_after = None if after is None else str(after)
            return web.json_response({"ok": True})

        async def reset(_: web.Request) -> web.Response:
            self.received.clear()
            self.count, self.fail, self.fail_status, self.retry_after = 0, 0, 503, None
            self.gone.clear()
            self.invalid.clear()
            return web.json_response({"ok": True})

        app.router.add_get("/_received", received)
        app.router.add_get("/_count", count)
        app.router.add_post("/_unregister", unregister)
        app.router.add_post("/_fail", fail)
        app.router.add_post("/_reset", reset)

    def failing(self) -> bool:
        if self.fail > 0:
            self.fail -= 1
            return True
        return False

    def keep(self, item: dict[str, Any]) -> None:
        self.count += 1
        if len(self.received) < 10_000:  # a benchmark's 100,000 sends are counted, not kept
            self.received.append(item)


def fcm_app(box: _Box | None = None) -> web.Application:
    box = box or _Box()
    tokens: set[str] = set()
    app = web.Application()

    async def token(request: web.Request) -> web.Response:
        form = await request.post()
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" or not form.get("assertion"):
            return web.json_response({"error": "invalid_grant"}, status=400)
        access = "standin-" + secrets.token_urlsafe(16)
        tokens.add(access)
        return web.json_response({"access_token": access, "expires_in": 3600, "token_type": "Bearer"})

    async def send(request: web.Request) -> web.Response:
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] not in tokens:
            return _fcm_error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
        if box.failing():
            status = box.fail_status
            code = _STATUS_CODES.get(status, "UNKNOWN")
            headers = {"Retry-After": box.retry_after} if box.retry_after is not None else None
            return _fcm_error(status, code, f"The service answers {code}.", headers=headers)
        body = await request.json()
        message = body.get("message") or {}
        if message.get("token") in box.gone:
            return _fcm_error(404, "NOT_FOUND", "Requested entity was not found.", "UNREGISTERED")
        if message.get("token") in box.invalid:
            return _fcm_error(400, "INVALID_ARGUMENT", "The registration token is not a valid FCM registration "
                              "token", "INVALID_ARGUMENT")
        project = request.match_info["project"]
        box.keep({"project": project, "message": message})
        return web.json_response({"name": f"projects/{project}/messages/{box.count}"})

    async def expire_tokens(_: web.Request) -> web.Response:
        tokens.clear()
        return web.json_response({"ok": True})

    app.router.add_post("/token", token)
    app.router.add_post("/_expire_tokens", expire_tokens)
    app.router.add_post("/v1/projects/{project}/messages:send", send)
    box.routes(app)
    return app


_STATUS_CODES = {429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE", 400: "INVALID_ARGUMENT",
                 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED"}


def _fcm_error(status: int, code: str, message: str, fcm_code: str | None = None,
               headers: dict[str, str] | None = None) -> web.Response:
    error: dict[str, Any] = {"code": status, "message": message, "status": code}
    if fcm_code:
        error["details"] = [{"@type": _FCM_ERROR, "errorCode": fcm_code}]
    return web.json_response({"error": error}, status=status, headers=headers)


def webpush_app(box: _Box | None = None) -> web.Application:
    box = box or _Box()
    app = web.Application()

    async def push(request: web.Request) -> web.Response:
        sub = request.match_info["sub"]
        if not request.headers.get("Authorization", "").startswith("vapid t="):
            return web.Response(status=401, text="VAPID authorization required")
        if request.headers.get("Content-Encoding") != "aes128gcm":
            return web.Response(status=415, text="aes128gcm only")
        if sub in box.gone:
            return web.Response(status=410, text="push subscription has unsubscribed or expired")
        if box.failing():
            return web.Response(status=box.fail_status)
        body = await request.read()
        box.keep({"id": sub, "body": base64.urlsafe_b64encode(body).decode(),
                  "ttl": request.headers.get("TTL"), "topic": request.headers.get("Topic")})
        return web.Response(status=201)

    app.router.add_post("/push/{sub}", push)
    box.routes(app)
    return app


class Standins:
    """Both stand-ins on an event loop in a background thread (tests); `.fcm_url` and `.webpush_url`."""

    def __init__(self, fcm_port: int = 0, webpush_port: int = 0, host: str = "127.0.0.1") -> None:
        self.host, self.ports = host, [fcm_port, webpush_port]
        self.fcm, self.webpush = _Box(), _Box()
        self._loop = asyncio.new_event_loop()
        self._runners: list[web.AppRunner] = []

    async def _start(self) -> None:
        for i, app in enumerate((fcm_app(self.fcm), webpush_app(self.webpush))):
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, self.host, self.ports[i])
            await site.start()
            self.ports[i] = site._server.sockets[0].getsockname()[1]
            self._runners.append(runner)

    @property
    def fcm_url(self) -> str:
        return f"http://{self.host}:{self.ports[0]}"

    @property
    def webpush_url(self) -> str:
        return f"http://{self.host}:{self.ports[1]}"

    def __enter__(self) -> Standins:
        started = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(self._start())
            started.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        started.wait(10)
        return self

    def __exit__(self, *exc: Any) -> None:
        async def stop() -> None:
            for r in self._runners:
                await r.cleanup()

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m demo.push_standins", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--fcm-port", type=int, default=8721)
    parser.add_argument("--webpush-port", type=int, default=8722)
    args = parser.parse_args(argv)
    standins = Standins(args.fcm_port, args.webpush_port, args.host)
    standins._loop = loop = uvloop.new_event_loop()  # its own process (the bench): the lighter loop
    asyncio.set_event_loop(loop)
    loop.run_until_complete(standins._start())
    print(f"FCM stand-in {standins.fcm_url}, Web Push stand-in {standins.webpush_url}", flush=True)
    loop.run_forever()


if __name__ == "__main__":
    main()
