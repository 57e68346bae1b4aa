"""Push clients: Firebase Cloud Messaging's HTTP v1 API (one service account per client organization's
Firebase project) and Web Push through pywebpush with our VAPID key.

FCM: firebase-admin's credential mints the OAuth2 access token (google-auth, the service account's own
`token_uri`); the sends themselves are the documented REST call, `POST {FCM_ENDPOINT}/v1/projects/{id}/
messages:send` with that bearer token, made by aiohttp on one event loop per process (a background thread)
over kept-alive connections. firebase-admin's `messaging.send` costs about 1 ms of CPU per message on
threads over `requests`; this costs a fraction (docs/adr/0014-fcm-over-http-v1.md). FCM_ENDPOINT points the
sends elsewhere (the stand-in in demo/push_standins.py). A Web Push subscription names its endpoint itself.
"""
from __future__ import annotations

import asyncio
import base64
import email.utils
import hashlib
import json
import os
import threading
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import aiohttp
import google.auth.transport.requests
import requests
import uvloop
from cryptography.hazmat.primitives import serialization
from firebase_admin import credentials
from py_vapid import Vapid
from pywebpush import WebPushException, webpush

from core.config import get_settings

PUSH_TIMEOUT_SECONDS = 10
# Requests in flight per Firebase project, each on a kept-alive connection of its own (HTTP/1.1).
FCM_CONNECTIONS = 32
# firebase-admin's retry policy, kept: a send answered 500 or 503 (or 429, or anything with Retry-After) is
# tried again up to 4 times, after 0, 1, 2, 4 s or what Retry-After asks; a connection that fails, once.
# A longer Retry-After gives up on this pass: the outbox tries the row again with its own backoff.
FCM_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
FCM_STATUS_RETRIES = 4
FCM_CONNECT_RETRIES = 1
FCM_BACKOFF_SECONDS = 0.5
FCM_RETRY_AFTER_MAX_SECONDS = 30
# FCM's error codes (google.firebase.fcm.v1.FcmError) that say what the status alone does not.
_FCM_ERROR_TYPE = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
_FCM_ERROR_NAMES = {"UNREGISTERED": "UnregisteredError", "SENDER_ID_MISMATCH": "SenderIdMismatchError",
                    "QUOTA_EXCEEDED": "QuotaExceededError", "THIRD_PARTY_AUTH_ERROR": "ThirdPartyAuthError",
                    "APNS_AUTH_ERROR": "ThirdPartyAuthError"}


@dataclass(frozen=True)
class PushResult:
    ok: bool
    unregistered: bool = False  # the push service no longer knows the device: drop it
    error: str | None = None


@dataclass(frozen=True)
class FcmPush:
    token: str
    title: str
    body: str
    data: dict[str, str]
    collapse_key: str


def fcm_message(p: FcmPush) -> dict[str, Any]:
    """The HTTP v1 request body for one push (what firebase-admin's Message encodes to)."""
    return {"message": {"token": p.token, "notification": {"title": p.title, "body": p.body}, "data": p.data,
                        "android": {"collapse_key": p.collapse_key},
                        "apns": {"headers": {"apns-collapse-id": p.collapse_key[:64]}}}}


def fcm_result(status: int, body: bytes) -> PushResult:
    """What an FCM HTTP v1 answer means for the device: sent, gone (UNREGISTERED; INVALID_ARGUMENT, as a
    malformed token never becomes valid), or an error to try again later."""
    if 200 <= status < 300:
        return PushResult(True)
    try:
        error = json.loads(body).get("error") or {}
    except (ValueError, AttributeError):
        error = {}
    if not isinstance(error, dict):
        error = {}
    message = str(error.get("message") or body[:200].decode(errors="replace") or f"HTTP {status}")
    codes = [d.get("errorCode") for d in error.get("details") or []
             if isinstance(d, dict) and d.get("@type") == _FCM_ERROR_TYPE]
    code = next((c for c in codes if c), None)
    if code == "UNREGISTERED":
        return PushResult(False, unregistered=True, error=f"unregistered: {message}")
    if code in _FCM_ERROR_NAMES:
        return PushResult(False, error=f"{_FCM_ERROR_NAMES[code]}: {message}")
    if error.get("status") == "INVALID_ARGUMENT" or (status == 400 and not error):
        return PushResult(False, unregistered=True, error=f"invalid token: {message}")
    return PushResult(False, error=f"{error.get('status') or 'HTTP'} {status}: {message}")


def retry_after(value: str | None) -> float | None:
    """Seconds a Retry-After header asks for (a number or an HTTP date), or None."""
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)


def _proxy(url: str) -> str | None:
    """The proxy the environment names for this URL (HTTPS_PROXY, NO_PROXY, ...), read once per endpoint."""
    if url not in _proxies:
        scheme, host = url.split("://", 1)[0], urllib.parse.urlsplit(url).hostname or ""
        _proxies[url] = None if urllib.request.proxy_bypass(host) else urllib.request.getproxies().get(scheme)
    return _proxies[url]


_proxies: dict[str, str | None] = {}


class _Loop:
    """One asyncio event loop per process in a daemon thread: every FCM client's requests run on it, called
    from any thread (the worker's, a test's running loop) with `run`."""

    def __init__(self) -> None:
        self.loop = uvloop.new_event_loop()  # less CPU per request than asyncio's own loop
        self.pid = os.getpid()
        ready = threading.Event()

        def serve() -> None:
            asyncio.set_event_loop(self.loop)
            self.loop.call_soon(ready.set)
            self.loop.run_forever()

        threading.Thread(target=serve, name="fcm-loop", daemon=True).start()
        ready.wait()

    def run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()


_loop: _Loop | None = None
_loop_lock = threading.Lock()


def _event_loop() -> _Loop:
    global _loop
    with _loop_lock:
        if _loop is None or _loop.pid != os.getpid():  # a forked child has no thread of its parent's
            _loop = _Loop()
        return _loop


class FcmClient:
    """One Firebase project. `send_many` delivers pushes, one message to one registration token each."""

    def __init__(self, name: str, service_account: dict[str, Any]) -> None:
        self.name = name
        self.project = service_account["project_id"]
        # firebase-admin's credential: the service account with the Firebase scopes, refreshed by google-auth.
        self._credential = credentials.Certificate(service_account).get_credential()
        self._token_lock = threading.Lock()
        self._http: aiohttp.ClientSession | None = None
        self._http_pid = 0

    def _token(self, stale: str | None = None) -> str:
        """A valid access token (minted again when it is about to expire, or when `stale` was refused)."""
        with self._token_lock:
            cred = self._credential
            if not cred.valid or (stale is not None and cred.token == stale):
                cred.refresh(google.auth.transport.requests.Request(_settled(requests.Session())))
            return cred.token

    async def _session(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed or self._http_pid != os.getpid():
            # trust_env=False: aiohttp would look the proxy and .netrc up in a thread on every request (two
            # thread hand-offs per push); the proxy is read from the environment once instead (_proxy).
            self._http = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=FCM_CONNECTIONS, ttl_dns_cache=300),
                timeout=aiohttp.ClientTimeout(total=PUSH_TIMEOUT_SECONDS), trust_env=False)
            self._http_pid = os.getpid()
        return self._http

    async def _post(self, http: aiohttp.ClientSession, url: str, headers: dict[str, str], body: bytes
                    ) -> PushResult:
        status_tries = connect_tries = 0
        while True:
            try:
                async with http.post(url, data=body, headers=headers, proxy=_proxy(url)) as r:
                    status, answer, after = r.status, await r.read(), r.headers.get("Retry-After")
            except (TimeoutError, aiohttp.ClientError) as exc:
                if connect_tries >= FCM_CONNECT_RETRIES:
                    return PushResult(False, error=f"{type(exc).__name__}: {exc}")
                connect_tries += 1
                continue
            wait = retry_after(after)
            if (status in FCM_RETRY_STATUSES or wait is not None) and status >= 400 \
                    and status_tries < FCM_STATUS_RETRIES:
                if wait is None:
                    wait = 0.0 if status_tries == 0 else FCM_BACKOFF_SECONDS * 2 ** status_tries
                if wait <= FCM_RETRY_AFTER_MAX_SECONDS:
                    status_tries += 1
                    await asyncio.sleep(wait)
                    continue
            return fcm_result(status, answer)

    async def _send_all(self, pushes: list[FcmPush], token: str) -> list[PushResult]:
        http = await self._session()
        url = f"{get_settings().fcm_endpoint.rstrip('/')}/v1/projects/{self.project}/messages:send"
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json; UTF-8",
                   "X-GOOG-API-FORMAT-VERSION": "2"}
        bodies = [json.dumps(fcm_message(p), separators=(",", ":")).encode() if p.token else None
                  for p in pushes]
        # At most FCM_CONNECTIONS in flight: a request's timeout starts when it is sent, not while it waits
        # for a connection behind the rest of the batch.
        slots = asyncio.Semaphore(FCM_CONNECTIONS)

        async def post(body: bytes) -> PushResult:
            async with slots:
                return await self._post(http, url, headers, body)

        results = await asyncio.gather(*(post(b) for b in bodies if b is not None))
        it = iter(results)
        return [next(it) if b is not None else PushResult(False, error="ValueError: the device has no token")
                for b in bodies]

    def close(self) -> None:
        """Close the kept-alive connections (a replaced credential's client), without waiting."""
        if self._http is not None and self._http_pid == os.getpid() and not self._http.closed:
            asyncio.run_coroutine_threadsafe(self._http.close(), _event_loop().loop)

    def send_many(self, pushes: list[FcmPush]) -> list[PushResult]:
        """Send each push, FCM_CONNECTIONS at a time (FCM HTTP v1 takes one message per request); the results
        come back in order. A token the service refuses (401) is minted again and those pushes sent once more."""
        if not pushes:
            return []
        try:
            token = self._token()
        except Exception as exc:  # the token endpoint is down or refuses the service account: try later
            return [PushResult(False, error=f"token: {type(exc).__name__}: {exc}")] * len(pushes)
        loop = _event_loop()
        results = loop.run(self._send_all(pushes, token))
        refused = [i for i, r in enumerate(results) if not r.ok and (r.error or "").startswith("UNAUTHENTICATED")]
        if refused:
            token = self._token(stale=token)
            for i, r in zip(refused, loop.run(self._send_all([pushes[i] for i in refused], token)), strict=True):
                results[i] = r
        return results


_clients: dict[str, tuple[str, FcmClient]] = {}
_lock = threading.Lock()


def fcm_client(name: str, service_account_json: str) -> FcmClient:
    """The client for a project, made once per process and remade when its credential changes."""
    with _lock:
        cached = _clients.get(name)
        if cached is None or cached[0] != service_account_json:
            if cached is not None:
                cached[1].close()
            digest = hashlib.sha256(service_account_json.encode()).hexdigest()[:16]
            cached = (service_account_json, FcmClient(f"{name}-{digest}", json.loads(service_account_json)))
            _clients[name] = cached
        return cached[1]


WEB_PUSH_WORKERS = 16
_session = threading.local()
_web_pool = ThreadPoolExecutor(max_workers=WEB_PUSH_WORKERS, thread_name_prefix="webpush")


def _settled(http: requests.Session) -> requests.Session:
    """Read the proxy and CA settings from the environment once, not on every request: requests scans the
    whole environment per request otherwise, the largest share of a push's CPU."""
    http.proxies.update(urllib.request.getproxies())
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle:
        http.verify = bundle
    http.trust_env = False
    return http


def _http() -> requests.Session:
    if not hasattr(_session, "value"):
        _session.value = _settled(requests.Session())
    return _session.value


def web_push_many(pushes: list[dict[str, Any]]) -> list[PushResult]:
    """`web_push(**p)` for each, several at a time (each is its own encryption and request)."""
    vapid = vapid_key()
    if len(pushes) <= 1:
        return [web_push(**p, vapid=vapid, session=_http()) for p in pushes]
    return list(_web_pool.map(lambda p: web_push(**p, vapid=vapid, session=_http()), pushes))


def vapid_key() -> Vapid | None:
    key = get_settings().vapid_private_key
    return Vapid.from_string(private_key=key) if key else None


def vapid_public_key() -> str:
    """Our VAPID public key as a browser's `applicationServerKey` (base64url of the uncompressed point), or
    "" when no private key is set."""
    vapid = vapid_key()
    if vapid is None:
        return ""
    raw = vapid.public_key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def web_push(*, endpoint: str, p256dh: str, auth: str, payload: dict[str, Any], topic: str,
             ttl: int = 24 * 3600, vapid: Vapid | None = None,
             session: requests.Session | None = None) -> PushResult:
    """Encrypt `payload` (aes128gcm, RFC 8291) for the subscription and POST it to its endpoint."""
    vapid = vapid or vapid_key()
    if vapid is None:
        return PushResult(False, error="VAPID_PRIVATE_KEY is not set")
    try:
        webpush({"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}},
                data=json.dumps(payload, separators=(",", ":")), vapid_private_key=vapid,
                vapid_claims={"sub": get_settings().vapid_subject}, ttl=ttl, timeout=PUSH_TIMEOUT_SECONDS,
                headers={"Topic": topic[:32]}, requests_session=session)
    except WebPushException as exc:
        status = exc.response.status_code if exc.response is not None else None
        return PushResult(False, unregistered=status in (404, 410), error=f"{status}: {exc.message}")
    except (requests.RequestException, ValueError) as exc:
        return PushResult(False, error=f"{type(exc).__name__}: {exc}")
    return PushResult(True)
