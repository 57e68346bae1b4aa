"""The invoices and finance API: bulk runs, listing, status, PDF, send, credit notes; scoped and role-checked."""
from __future__ import annotations

import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from pypdf import PdfReader

from core.clock import clock
from core.config import get_settings
from tests.utils.factories import make_charger, make_org, make_priced_session, make_user

PERIOD = {"period_start": "2026-10-01", "period_end": "2026-10-31"}


@pytest.fixture
def world(session):
    clock.set(datetime(2026, 11, 2, 9, tzinfo=UTC))
    alpha = make_org(session, slug="alpha", vat_rate=Decimal("20"), billing_email="ap@alpha.example")
    bravo = make_org(session, slug="bravo", currency="USD", timezone="America/New_York")
    make_priced_session(session, make_charger(session, alpha, ocpp_id="A-1"),
                        stopped_at=datetime(2026, 10, 10, tzinfo=UTC), energy="10.00")
    make_priced_session(session, make_charger(session, bravo, ocpp_id="B-1"),
                        stopped_at=datetime(2026, 10, 10, tzinfo=UTC), energy="4.00")
    return dict(alpha=alpha, bravo=bravo, accounts=make_user(session, role="accounts"),
                cpo_alpha=make_user(session, role="cpo", orgs=[alpha]))


def test_bulk_run_reports_each_organization_and_a_second_run_makes_nothing(client, auth_header, world):
    h = auth_header(world["accounts"])
    r = client.post("/api/v1/invoices/bulk", json=PERIOD, headers=h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["made"], body["skipped"], body["failed"]) == (2, 0, 0)
    r = client.post("/api/v1/invoices/bulk", json=PERIOD, headers=h)
    assert r.json()["made"] == 0 and all("Already invoiced" in o["reason"] for o in r.json()["outcomes"])
    listed = client.get("/api/v1/invoices", headers=h).json()
    assert listed["total"] == 2
    alpha = next(i for i in listed["items"] if i["organization"] == "Alpha")
    assert alpha["amount_gross"] == "12.00" and alpha["currency"] == "EUR" and alpha["status"] == "draft"


def test_bulk_run_for_selected_organizations_and_bad_input(client, auth_header, world):
    h = auth_header(world["accounts"])
    r = client.post("/api/v1/invoices/bulk", json={**PERIOD, "organization_ids": [world["bravo"].id]}, headers=h)
    assert [o["organization"] for o in r.json()["outcomes"]] == ["Bravo"]
    r = client.post("/api/v1/invoices/bulk", json={"period_start": "2026-10-31", "period_end": "2026-10-01"},
                    headers=h)
    assert r.status_code == 422 and "before its start" in r.json()["message"]
    r = client.post("/api/v1/invoices/bulk", json={"period_start": "October", "period_end": "2026-10-31"},
                    headers=h)
    assert r.status_code == 422 and "period_start" in r.json()["message"]


def test_status_changes_pdf_and_history_through_the_api(client, auth_header, world):
    h = auth_header(world["accounts"])
    client.post("/api/v1/invoices/bulk", json={**PERIOD, "organization_ids": [world["alpha"].id]}, headers=h)
    inv_id = client.get("/api/v1/invoices", headers=h).json()["items"][0]["id"]
    r = client.post(f"/api/v1/invoices/{inv_id}/status", json={"status": "paid"}, headers=h)
    assert r.status_code == 409 and "can move to Sent, Void" in r.json()["message"]
    assert client.post(f"/api/v1/invoices/{inv_id}/status", json={"status": "sent"}, headers=h).status_code == 200
    r = client.post(f"/api/v1/invoices/{inv_id}/status", json={"status": "paid"}, headers=h)
    assert r.json()["status"] == "paid"
    assert [c["to_status"] for c in r.json()["history"]] == ["draft", "sent", "paid"]
    r = client.post(f"/api/v1/invoices/{inv_id}/status", json={"status": "lost"}, headers=h)
    assert r.status_code == 422
    pdf = client.get(f"/api/v1/invoices/{inv_id}/pdf", headers=h)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert 'filename="INV-ALPHA-00001.pdf"' in pdf.headers["content-disposition"]
    text = PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    assert "INV-ALPHA-00001" in text and "€12.00" in text and "VAT 20 %" in text


def test_credit_note_through_the_api(client, auth_header, world):
    h = auth_header(world["accounts"])
    client.post("/api/v1/invoices/bulk", json={**PERIOD, "organization_ids": [world["alpha"].id]}, headers=h)
    inv_id = client.get("/api/v1/invoices", headers=h).json()["items"][0]["id"]
    r = client.post(f"/api/v1/invoices/{inv_id}/credit-note", json={"reason": ""}, headers=h)
    assert r.status_code == 422
    r = client.post(f"/api/v1/invoices/{inv_id}/credit-note", json={"reason": "Wrong VAT rate"}, headers=h)
    assert r.status_code == 201, r.text
    assert r.json()["credit_note"]["amounts"]["amount_gross"] == "-12.00"
    assert r.json()["new_invoice"]["revision"] == 1
    assert client.post(f"/api/v1/invoices/{inv_id}/credit-note", json={"reason": "again"},
                       headers=h).status_code == 409


def test_send_without_smtp_writes_to_the_outbox_and_says_so(client, auth_header, world, monkeypatch, tmp_path):
    monkeypatch.setattr(get_settings(), "smtp_url", None)
    monkeypatch.setattr(get_settings(), "outbox_dir", tmp_path)
    h = auth_header(world["accounts"])
    client.post("/api/v1/invoices/bulk", json={**PERIOD, "organization_ids": [world["alpha"].id]}, headers=h)
    inv_id = client.get("/api/v1/invoices", headers=h).json()["items"][0]["id"]
    r = client.post(f"/api/v1/invoices/{inv_id}/send", headers=h)
    assert r.status_code == 200 and r.json()["delivered"] is False
    assert "SMTP is not configured" in r.json()["message"] and len(list(tmp_path.glob("*.eml"))) == 1


def test_a_cpo_reads_only_its_own_invoices_and_cannot_change_them(client, auth_header, world, session):
    client.post("/api/v1/invoices/bulk", json=PERIOD, headers=auth_header(world["accounts"]))
    h = auth_header(world["cpo_alpha"])
    listed = client.get("/api/v1/invoices", headers=h).json()
    assert [i["organization"] for i in listed["items"]] == ["Alpha"]
    admin_list = client.get("/api/v1/invoices", headers=auth_header(world["accounts"])).json()["items"]
    bravo_id = next(i["id"] for i in admin_list if i["organization"] == "Bravo")
    assert client.get(f"/api/v1/invoices/{bravo_id}", headers=h).status_code == 404
    assert client.get(f"/api/v1/invoices/{bravo_id}/pdf", headers=h).status_code == 404
    own_id = listed["items"][0]["id"]
    assert client.post(f"/api/v1/invoices/{own_id}/status", json={"status": "sent"}, headers=h).status_code == 403
    assert client.post("/api/v1/invoices/bulk", json=PERIOD, headers=h).status_code == 403
    support = make_user(session, role="network_manager", orgs=[world["alpha"]])
    assert client.get("/api/v1/invoices", headers=auth_header(support)).status_code == 403
    assert client.get("/api/v1/invoices").status_code == 401


def test_finance_revenue_schedule_and_runs(client, auth_header, world):
    clock.set(datetime(2026, 10, 11, tzinfo=UTC))
    h = auth_header(world["cpo_alpha"])
    r = client.get("/api/v1/finance/revenue", headers=h)
    assert r.status_code == 200
    chargers = r.json()["chargers"]
    assert [(c["ocpp_id"], c["currency"], c["periods"]["24h"]["revenue"]) for c in chargers] == [
        ("A-1", "EUR", "12.00")]
    schedule = client.get("/api/v1/finance/billing-schedule", headers=h).json()["items"]
    assert [(s["organization"], s["period_start"], s["period_end"]) for s in schedule] == [
        ("Alpha", "2026-11-01", "2026-11-30")]  # its first period: it was created on 2 Nov
    assert client.get("/api/v1/finance/revenue", headers=h,
                      params={"organization_id": world["bravo"].id}).status_code == 404
    assert client.get("/api/v1/finance/billing-runs", headers=h).json()["items"] == []


def test_the_pdf_link_accepts_the_login_cookie_within_the_users_scope(client, auth_header, world):
    from services.access.auth import issue_token

    client.post("/api/v1/invoices/bulk", json=PERIOD, headers=auth_header(world["accounts"]))
    items = client.get("/api/v1/invoices", headers=auth_header(world["accounts"])).json()["items"]
    ids = {i["organization"]: i["id"] for i in items}
    client.cookies.set("voltdesk_token", issue_token(world["cpo_alpha"]))
    pdf = client.get(f"/api/v1/invoices/{ids['Alpha']}/pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert "INV-ALPHA-00001" in PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    assert client.get(f"/api/v1/invoices/{ids['Bravo']}/pdf").status_code == 404
    client.cookies.clear()
    assert client.get(f"/api/v1/invoices/{ids['Alpha']}/pdf").status_code == 401
