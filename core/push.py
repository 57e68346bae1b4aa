"""Push clients: Firebase Cloud Messaging through firebase-admin (one Firebase app per client organization's
project) and Web Push through pywebpush with our VAPID key.

Both speak to the real services by default. FCM_ENDPOINT points firebase-admin's HTTP v1 calls elsewhere
(the stand-in in demo/push_standins.py); the OAuth token endpoint is the service account's own `token_uri`.
A Web Push subscription names its endpoint itself.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import firebase_admin
import requests
from cryptography.hazmat.primitives import serialization
from firebase_admin import credentials, exceptions, messaging
from py_vapid import Vapid
from pywebpush import WebPushException, webpush

from core.config import get_settings

PUSH_TIMEOUT_SECONDS = 10
# Parallel sends per Firebase project and the kept-alive connections they share. firebase-admin's own
# `send_each` starts a thread per message (500 per batch) over a pool of 10 connections, so most sends open
# and drop a connection of their own; a fixed pool of threads over as many kept-alive connections sends
# the same messages for a fraction of the CPU.
FCM_WORKERS = 32


@dataclass(frozen=True)
class PushResult:
    ok: bool
    unregistered: bool = False  # the push service no longer knows the device: drop it
    error: str | None = None


class FcmClient:
    """One Firebase project. `send` delivers one message to one registration token."""

    def __init__(self, name: str, service_account: dict[str, Any]) -> None:
        cred = credentials.Certificate(service_account)
        project = service_account["project_id"]
        self.app = firebase_admin.initialize_app(cred, {"projectId": project, "httpTimeout": PUSH_TIMEOUT_SECONDS},
                                                 name=name)
        endpoint = get_settings().fcm_endpoint.rstrip("/")
        service = messaging._get_messaging_service(self.app)
        # firebase-admin has no endpoint option; its service keeps the URL in this one attribute.
        service._fcm_url = f"{endpoint}/v1/projects/{project}/messages:send"
        # Its session keeps 10 connections; give it one per sending thread (same retry policy).
        http = _settled(service._client.session)
        retries = http.get_adapter("https://").max_retries
        for prefix in ("http://", "https://"):
            http.mount(prefix, requests.adapters.HTTPAdapter(max_retries=retries, pool_connections=1,
                                                             pool_maxsize=FCM_WORKERS))
        self._pool = ThreadPoolExecutor(max_workers=FCM_WORKERS, thread_name_prefix=f"fcm-{name}")

    def _send_one(self, p: FcmPush) -> PushResult:
        message = messaging.Message(
            token=p.token, notification=messaging.Notification(title=p.title, body=p.body), data=p.data,
            android=messaging.AndroidConfig(collapse_key=p.collapse_key),
            apns=messaging.APNSConfig(headers={"apns-collapse-id": p.collapse_key[:64]}))
        try:
            messaging.send(message, app=self.app)
        except (exceptions.FirebaseError, ValueError, requests.RequestException) as exc:
            return _fcm_result(exc)
        return PushResult(True)

    def send_many(self, pushes: list[FcmPush]) -> list[PushResult]:
        """Send each push, FCM_WORKERS at a time over kept-alive connections (FCM HTTP v1 takes one message
        per request); the results come back in order."""
        return list(self._pool.map(self._send_one, pushes))


@dataclass(frozen=True)
class FcmPush:
    token: str
    title: str
    body: str
    data: dict[str, str]
    collapse_key: str


def _fcm_result(exc: Exception | None) -> PushResult:
    if exc is None:
        return PushResult(True)
    if not isinstance(exc, exceptions.FirebaseError):  # a malformed message, a connection that failed
        return PushResult(False, error=f"{type(exc).__name__}: {exc}")
    if isinstance(exc, messaging.UnregisteredError):
        return PushResult(False, unregistered=True, error=f"unregistered: {exc}")
    if isinstance(exc, exceptions.InvalidArgumentError):  # a malformed token never becomes valid
        return PushResult(False, unregistered=True, error=f"invalid token: {exc}")
    return PushResult(False, error=f"{type(exc).__name__}: {exc}")


_clients: dict[str, tuple[str, FcmClient]] = {}
_lock = threading.Lock()


def fcm_client(name: str, service_account_json: str) -> FcmClient:
    """The client for a project, made once per process and remade when its credential changes."""
    with _lock:
        cached = _clients.get(name)
        if cached is None or cached[0] != service_account_json:
            # A new credential gets a new Firebase app: deleting the old one would close its async HTTP
            # client with asyncio.run(), which fails inside a running event loop.
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
