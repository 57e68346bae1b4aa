"""Security headers, the upload size cap and the self-hosted API docs (issue 12), through real HTTP
requests against the ASGI app (the API wrapped as app/app.py wraps it)."""
from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from app.api.main import create_api
from app.middleware import UPLOAD_OVERHEAD, hardened
from core.config import get_settings


@pytest.fixture
def web(session):
    with TestClient(hardened(get_settings())(create_api())) as c:
        yield c


def test_every_api_answer_carries_the_security_headers(web):
    for r in (web.get("/api/v1/me"), web.get("/api/v1/docs"), web.get("/api/v1/openapi.json")):
        assert r.headers["X-Frame-Options"] == "DENY"
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]


def test_the_api_docs_load_swagger_from_the_app_not_a_cdn(web):
    page = web.get("/api/v1/docs")
    assert page.status_code == 200
    assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
    assert assets and all(a.startswith("/api/v1/docs/assets/") for a in assets), assets
    for asset in assets:
        assert web.get(asset).status_code == 200, asset


def _uploader(received: list[int]) -> Starlette:
    async def upload(request: Request) -> JSONResponse:
        body = b"".join([chunk async for chunk in request.stream()])
        received.append(len(body))
        return JSONResponse({"ok": True})

    return Starlette(routes=[Route("/_upload", upload, methods=["POST"])])


def test_an_upload_over_the_limit_is_refused_with_413_before_it_is_read():
    received: list[int] = []
    limit = get_settings().logo_max_bytes + UPLOAD_OVERHEAD
    client = TestClient(hardened(get_settings())(_uploader(received)))
    r = client.post("/_upload", content=b"x" * (limit + 1))
    assert r.status_code == 413 and "larger than" in r.json()["message"]

    def chunks():  # no Content-Length: the cap counts the bytes as they arrive
        for _ in range(limit // 65536 + 2):
            yield b"x" * 65536

    r = client.post("/_upload", content=chunks())
    assert r.status_code == 413
    assert received == []  # the handler never got a body
    assert client.post("/_upload", content=b"x" * 1000).status_code == 200
    assert received == [1000]
