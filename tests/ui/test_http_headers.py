"""The running app (single-port, as in production) sends its security headers on pages and API, allows
CORS only for its own origin, caps uploads, and still works under its Content-Security-Policy (issue 12)."""
from __future__ import annotations

import http.client
import urllib.error
import urllib.request
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.ui.helpers import log_in
from tests.utils.factories import make_org, make_user

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def _get_request(request: urllib.request.Request):
    try:
        return urllib.request.urlopen(request, timeout=20)
    except urllib.error.HTTPError as err:
        return err


def _get(url: str, **headers: str):
    return _get_request(urllib.request.Request(url, headers=headers))


def test_pages_and_api_send_security_headers_and_cors_only_for_the_apps_own_origin(app_url):
    for path in ("/login", "/dashboard", "/api/v1/me", "/api/v1/docs"):
        r = _get(app_url + path)
        assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"], path
        assert (r.headers["X-Frame-Options"], r.headers["X-Content-Type-Options"]) == ("DENY", "nosniff"), path
        assert r.headers["Referrer-Policy"] == "strict-origin-when-cross-origin", path
    # Another origin (another port on the same host) gets no Access-Control-Allow-Origin, so the
    # browser hides the answer, and its preflight is refused.
    foreign = _get(app_url + "/api/v1/me", Origin="http://127.0.0.1:1", Cookie="voltdesk_token=x")
    assert foreign.headers.get("Access-Control-Allow-Origin") is None
    preflight = urllib.request.Request(app_url + "/api/v1/transactions.csv", method="OPTIONS", headers={
        "Origin": "http://127.0.0.1:1", "Access-Control-Request-Method": "GET"})
    refused = _get_request(preflight)
    assert refused.status == 400 and refused.headers.get("Access-Control-Allow-Origin") is None
    own = _get(app_url + "/api/v1/me", Origin=app_url)
    assert own.headers.get("Access-Control-Allow-Origin") == app_url


def test_an_anonymous_oversized_upload_is_refused_with_413_before_it_is_read(app_url):
    # Only the headers are sent: the answer comes without the server waiting for the 800 MB body.
    conn = http.client.HTTPConnection(urlsplit(app_url).netloc, timeout=20)
    conn.putrequest("POST", "/_upload")
    for name, value in (("Content-Type", "multipart/form-data; boundary=x"), ("Content-Length", str(800 << 20)),
                        ("Reflex-Client-Token", "anyone"), ("Reflex-Event-Handler", "x")):
        conn.putheader(name, value)
    conn.endheaders()
    answer = conn.getresponse()
    assert answer.status == 413 and b"larger than" in answer.read()
    conn.close()


def test_the_app_logs_in_and_renders_under_its_content_security_policy(world, page):
    make_org(world, slug="alpha")
    admin = make_user(world, role="admin")
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    log_in(page, admin.email)
    expect(page.locator("#sidebar-nav a").first).to_be_visible()
    page.goto("/organizations")
    expect(page.get_by_text("Alpha").first).to_be_visible()
    assert violations == []
