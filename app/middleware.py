"""ASGI middleware around the whole web process: the pages, the API, the websocket and `/_upload`
(mounted through `rx.App(api_transformer=...)`, which in `--single-port` mode also wraps the static
frontend, so the headers reach the HTML too)."""
from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.config import Settings

UPLOAD_PATH = "/_upload"
# Multipart framing around the file (boundaries, part headers) on top of the file itself.
UPLOAD_OVERHEAD = 64 * 1024


def content_security_policy(settings: Settings) -> str:
    """Reflex's pages need inline scripts and styles (hydration data, Emotion/Radix styles) and a
    websocket to their own origin; map tiles come from MAP_TILE_URL's host. Nothing may frame the app."""
    tiles = urlsplit(settings.map_tile_url.replace("{s}", "a"))
    tile_host = tiles.netloc.replace("a.", "*.", 1) if "{s}" in settings.map_tile_url else tiles.netloc
    return "; ".join([
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline' 'unsafe-eval'",
        "style-src 'self' 'unsafe-inline'",
        f"img-src 'self' data: blob: {tiles.scheme}://{tile_host}",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


def security_headers(settings: Settings) -> dict[str, str]:
    return {
        "Content-Security-Policy": content_security_policy(settings),
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "strict-origin-when-cross-origin",
    }


class SecurityHeaders:
    """Adds the security headers to every HTTP response that does not set them itself."""

    def __init__(self, app: ASGIApp, headers: dict[str, str]) -> None:
        self.app, self.headers = app, headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class UploadLimit:
    """Refuses an upload larger than `max_bytes` with 413 before it is read: by its Content-Length, or,
    for a chunked body, as soon as the bytes received pass the limit (the app then sees a client that
    went away, and its answer is replaced by the 413). Nothing is buffered here."""

    def __init__(self, app: ASGIApp, max_bytes: int, path: str = UPLOAD_PATH) -> None:
        self.app, self.max_bytes, self.path = app, max_bytes, path

    def _too_large(self) -> JSONResponse:
        return JSONResponse({"message": f"The upload is larger than {self.max_bytes} bytes."}, status_code=413)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].rstrip("/") != self.path:
            await self.app(scope, receive, send)
            return
        length = Headers(scope=scope).get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            await self._too_large()(scope, receive, send)
            return
        received, cut, started = 0, False, False

        async def counted() -> Message:
            nonlocal received, cut
            if cut:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    cut = True
                    return {"type": "http.disconnect"}
            return message

        async def guarded(message: Message) -> None:
            nonlocal started
            if cut and not started:
                return  # the app's answer to a cut-off body; the 413 goes instead
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, guarded)
        except Exception:
            if not cut:
                raise
        if cut and not started:
            await self._too_large()(scope, receive, send)


def hardened(settings: Settings) -> Callable[[ASGIApp], ASGIApp]:
    """The transformer for `rx.App(api_transformer=[..., hardened(settings)])`."""
    def wrap(app: ASGIApp) -> ASGIApp:
        limited = UploadLimit(app, max_bytes=settings.logo_max_bytes + UPLOAD_OVERHEAD)
        return SecurityHeaders(limited, security_headers(settings))

    return wrap
