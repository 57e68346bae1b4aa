"""The login cookie: its name, how the server sets it, and how the web app's backend reads it.

The cookie is HttpOnly (docs/adr/0007-token-storage.md): only the server writes it (the login form posts to
the API) and only the server reads it (from the Cookie header of a request or of the app's websocket
handshake). Scripts in the page never see the token.
"""
from __future__ import annotations

from http.cookies import CookieError, SimpleCookie
from typing import Any

from core.config import get_settings

SESSION_COOKIE = "voltdesk_token"


def session_cookie_from(header: str | None) -> str:
    """The login token in a Cookie header, or "" (a malformed header counts as none)."""
    if not header:
        return ""
    jar = SimpleCookie()
    try:
        jar.load(header)
    except CookieError:
        return ""
    morsel = jar.get(SESSION_COOKIE)
    return morsel.value if morsel else ""


def session_cookie_options() -> dict[str, Any]:
    """Keyword arguments for Starlette's `set_cookie`/`delete_cookie`: HttpOnly, SameSite=Strict, whole site,
    and Secure whenever the app is served over TLS (PUBLIC_URL https)."""
    settings = get_settings()
    return {
        "path": "/",
        "httponly": True,
        "samesite": "strict",
        "secure": settings.public_url.lower().startswith("https://"),
    }
