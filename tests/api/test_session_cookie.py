"""The web app's login and logout posts: the token only ever travels in an HttpOnly cookie (ADR 0007)."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from core.config import get_settings
from core.cookies import SESSION_COOKIE
from tests.utils.factories import PASSWORD, make_user

LOGIN = "/api/v1/auth/session"
LOGOUT = "/api/v1/auth/session/end"


def _post(client, url: str, data: dict | None = None, **headers: str):
    return client.post(url, data=data or {}, headers=headers, follow_redirects=False)


def _login_params(r) -> dict[str, list[str]]:
    assert r.status_code == 303
    where = urlsplit(r.headers["location"])
    assert where.path == "/login"
    return parse_qs(where.query)


def test_a_good_login_sets_an_httponly_strict_cookie_and_goes_to_the_dashboard(session, client):
    user = make_user(session, role="admin")
    r = _post(client, LOGIN, {"email": user.email, "password": PASSWORD})
    assert r.status_code == 303 and r.headers["location"] == "/dashboard"
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    attrs = {a.strip().split("=")[0].lower() for a in cookie.split(";")[1:]}
    assert {"httponly", "path", "samesite", "max-age"} <= attrs
    assert "samesite=strict" in cookie.lower() and "secure" not in attrs  # PUBLIC_URL is http here
    token = r.cookies[SESSION_COOKIE]
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_the_cookie_is_secure_when_the_app_is_served_over_tls(session, client, monkeypatch):
    user = make_user(session, role="admin")
    monkeypatch.setenv("PUBLIC_URL", "https://voltdesk.example.com")
    get_settings.cache_clear()
    try:
        r = _post(client, LOGIN, {"email": user.email, "password": PASSWORD},
                  Origin="https://voltdesk.example.com")
    finally:
        monkeypatch.delenv("PUBLIC_URL")
        get_settings.cache_clear()
    assert r.status_code == 303 and "secure" in r.headers["set-cookie"].lower()


@pytest.mark.parametrize(("form", "code"), [
    ({"password": "wrong-password"}, "invalid"),
    ({"password": ""}, "missing"),
    ({"password": "x\x00y"}, "input"),
])
def test_a_refused_login_goes_back_with_a_code_and_no_cookie(session, client, form, code):
    user = make_user(session, role="admin")
    r = _post(client, LOGIN, {"email": user.email, **form})
    assert _login_params(r)["error"] == [code]
    assert "set-cookie" not in r.headers


def test_a_disabled_account_is_named_after_the_right_password_only(session, client):
    user = make_user(session, role="admin")
    user.status = "disabled"
    session.add(user)
    session.commit()
    assert _login_params(_post(client, LOGIN, {"email": user.email, "password": "nope-nope"}))["error"] == ["invalid"]
    assert _login_params(_post(client, LOGIN, {"email": user.email, "password": PASSWORD}))["error"] == ["disabled"]


def test_a_throttled_login_says_how_long_to_wait(session, client):
    user = make_user(session, role="admin")
    for _ in range(get_settings().login_max_failures):
        _post(client, LOGIN, {"email": user.email, "password": "wrong-password"})
    params = _login_params(_post(client, LOGIN, {"email": user.email, "password": PASSWORD}))
    assert params["error"] == ["throttled"] and int(params["retry"][0]) > 0


def test_a_login_posted_from_another_site_is_refused(session, client):
    user = make_user(session, role="admin")
    r = _post(client, LOGIN, {"email": user.email, "password": PASSWORD}, Origin="http://evil.test")
    assert r.status_code == 403 and "set-cookie" not in r.headers


def test_logout_revokes_the_token_and_clears_the_cookie(session, client):
    user = make_user(session, role="admin")
    token = _post(client, LOGIN, {"email": user.email, "password": PASSWORD}).cookies[SESSION_COOKIE]
    client.cookies.set(SESSION_COOKIE, token)
    r = _post(client, LOGOUT)
    assert _login_params(r) == {"out": ["1"]}
    assert f"{SESSION_COOKIE}=" in r.headers["set-cookie"] and "max-age=0" in r.headers["set-cookie"].lower()
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
