"""GET routes the web app follows as plain links (CSV export, logo) accept the login cookie as well."""
from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from PIL import Image

from core.config import get_settings
from services.access.auth import issue_token, revoke_tokens
from services.access.scope import scope_for
from services.billing import org_settings
from tests.utils.factories import make_charger, make_org, make_tariff, make_transaction, make_user

COOKIE = "voltdesk_token"


def _sessions(session):
    mine, theirs = make_org(session, slug="mine"), make_org(session, slug="theirs")
    make_tariff(session, mine, price_per_kwh="0.30")
    own = make_transaction(session, make_charger(session, mine, ocpp_id="MINE-1"),
                           started_at=datetime(2026, 3, 3, 10, tzinfo=UTC),
                           stopped_at=datetime(2026, 3, 3, 11, tzinfo=UTC), energy_wh=1000)
    make_transaction(session, make_charger(session, theirs, ocpp_id="THEIRS-1"),
                     started_at=datetime(2026, 3, 3, 10, tzinfo=UTC), stopped_at=datetime(2026, 3, 3, 11, tzinfo=UTC),
                     energy_wh=1000)
    return mine, theirs, own


def test_csv_export_accepts_the_login_cookie_and_keeps_the_users_scope(client, session):
    mine, _, own = _sessions(session)
    cpo = make_user(session, role="cpo", orgs=[mine])
    client.cookies.set(COOKIE, issue_token(cpo))
    r = client.get("/api/v1/transactions.csv", params={"date_from": "2026-03-01"})
    assert r.status_code == 200
    assert r.headers["content-disposition"] == 'attachment; filename="transactions.csv"'
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [(int(x["session_id"]), x["charger"]) for x in rows] == [(own.id, "MINE-1")]


def test_csv_export_with_a_revoked_or_missing_cookie_is_refused(client, session):
    mine, _, _ = _sessions(session)
    cpo = make_user(session, role="cpo", orgs=[mine])
    token = issue_token(cpo)
    revoke_tokens(session=session, user=cpo)
    session.commit()
    client.cookies.set(COOKIE, token)
    assert client.get("/api/v1/transactions.csv").status_code == 401
    client.cookies.clear()
    assert client.get("/api/v1/transactions.csv").status_code == 401


def test_csv_export_for_an_organization_outside_the_scope_is_not_found(client, session):
    mine, theirs, _ = _sessions(session)
    client.cookies.set(COOKIE, issue_token(make_user(session, role="cpo", orgs=[mine])))
    r = client.get("/api/v1/transactions.csv", params={"organization_id": theirs.id})
    assert r.status_code == 404


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 32), (20, 120, 110)).save(buf, format="PNG")
    return buf.getvalue()


def test_logo_is_served_to_users_in_scope_and_not_found_for_others(client, session, tmp_path, monkeypatch):
    monkeypatch.setattr(get_settings(), "upload_dir", tmp_path)
    mine, theirs, _ = _sessions(session)
    admin = make_user(session, role="admin")
    org_settings.set_logo(session=session, scope=scope_for(session, admin), user_id=admin.id, org_id=mine.id,
                          data=_png())
    session.commit()
    client.cookies.set(COOKIE, issue_token(make_user(session, role="cpo", orgs=[mine])))
    r = client.get(f"/api/v1/organizations/{mine.id}/logo")
    assert r.status_code == 200 and r.content == _png() and r.headers["content-type"] == "image/png"
    assert client.get(f"/api/v1/organizations/{theirs.id}/logo").status_code == 404
