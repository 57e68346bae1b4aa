"""GetLog and GetDiagnostics upload to Voltdesk's own file endpoint: one upload per request token, size-limited
(an oversized upload is cut off with a 413 and nothing is kept), downloadable through the API."""
from __future__ import annotations

import asyncio

import pytest
from fastapi.testclient import TestClient
from ocpp.routing import on
from ocpp.v16 import call_result
from starlette.testclient import TestClient as FilesClient

from app.api.main import create_api
from core.config import get_settings
from ocpp_server import files
from services.access.auth import issue_token
from services.access.scope import scope_for
from services.ocpp import uploads
from tests.ocpp.conftest import Charger, connect
from tests.utils.factories import make_user


class LogCharger(Charger):
    asked: list

    @on("GetLog")
    def get_log(self, log_type, request_id, log, **kwargs):
        self.asked.append(log["remote_location"] if "remote_location" in log else log["remoteLocation"])
        return call_result.GetLog(status="Accepted", filename="security.log")

    @on("GetDiagnostics")
    def diagnostics(self, location, **kwargs):
        self.asked.append(location)
        return call_result.GetDiagnostics(file_name="diag.zip")


@pytest.fixture
def small_uploads(tmp_path, monkeypatch):
    monkeypatch.setenv("UPLOAD_DIR", str(tmp_path))
    monkeypatch.setenv("CHARGER_UPLOAD_MAX_BYTES", "1000")
    get_settings.cache_clear()
    yield tmp_path
    monkeypatch.undo()
    get_settings.cache_clear()


async def test_a_security_log_and_diagnostics_upload_to_our_endpoint_and_download_from_the_api(
        server, session, engine, charger, small_uploads):
    admin = make_user(session, role="admin")
    scope = scope_for(session, admin)
    async with connect(server, "CP-1", cls=LogCharger) as cp:
        cp.asked = []
        log = await asyncio.to_thread(uploads.request_log, engine=engine, scope=scope, charger_id=charger.id,
                                      log_type="SecurityLog")
        diag = await asyncio.to_thread(uploads.request_diagnostics, engine=engine, scope=scope,
                                       charger_id=charger.id)
    assert (log.status, diag.status) == ("done", "done")
    log_url, diag_url = cp.asked
    assert log_url.startswith(get_settings().file_endpoint_url + "/upload/")
    endpoint = FilesClient(files.create_app())
    path = lambda url: url.split("/", 3)[3]  # noqa: E731
    assert endpoint.put("/" + path(log_url) + "/security.log", content=b"event log\n").status_code == 201
    # The token admits one upload only.
    assert endpoint.put("/" + path(log_url), content=b"again").status_code == 404
    # Over the limit: cut off with an error, nothing kept.
    too_big = endpoint.post("/" + path(diag_url), content=b"x" * 5000)
    assert too_big.status_code == 413
    rows = uploads.list_uploads(session=session, scope=scope, charger_id=charger.id)
    assert [(r.kind, r.status, r.size) for r in rows] == [("Diagnostics", "refused", None),
                                                          ("SecurityLog", "received", 10)]
    assert sorted(p.name for p in (small_uploads / "chargers").iterdir()) == [str(rows[1].id)]
    api = TestClient(create_api())
    got = api.get(f"/api/v1/chargers/{charger.id}/uploads/{rows[1].id}/file",
                  headers={"Authorization": f"Bearer {issue_token(admin)}"})
    assert got.status_code == 200 and got.content == b"event log\n"
    assert "security.log" in got.headers["content-disposition"]
