"""The payments API: refunds (partial, repeated, bounded), bad input refused with nothing written, webhooks
verified and deduplicated, credentials never shown again, everything scoped."""
from __future__ import annotations

import json
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import func, select

from models import LedgerEntry, Payment, PaymentEvent, Refund, WebhookInbox
from tests.services.payments.conftest import configure_cybersource
from tests.utils import standins
from tests.utils.factories import make_charger, make_org, make_tariff, make_user
from tests.utils.payments import make_account, make_card, make_wallet, paid_session


@pytest.fixture
def org(session):
    return make_org(session, currency="USD", timezone="UTC")


@pytest.fixture
def charger(session, org):
    make_tariff(session, org, price_per_kwh="0.50")
    return make_charger(session, org)


@pytest.fixture
def accounts_user(session):
    return make_user(session, role="accounts")


@pytest.fixture
def cybersource(monkeypatch):
    from core.config import get_settings
    monkeypatch.setattr(get_settings(), "payments_gateway_timeout_seconds", 1.0)
    server = standins.cybersource()
    yield server
    server.shutdown()
    server.server_close()


def _count(session, model) -> int:
    return session.execute(select(func.count()).select_from(model)).scalar_one()


def test_a_card_payment_is_refunded_in_parts_up_to_what_was_captured(session, client, auth_header, org, charger,
                                                                     cybersource, accounts_user):
    configure_cybersource(session, org, cybersource)
    payment = paid_session(session, charger, make_card(session, make_account(session, org)).customer_account_id,
                           energy_wh=20_000)
    assert (payment.status, payment.amount_captured) == ("captured", Decimal("10.00"))
    h = auth_header(accounts_user)
    first = client.post("/api/v1/refunds", headers=h, json={"payment_id": payment.id, "amount": "4.00",
                                                            "reason": "Connector fault, partial"})
    assert first.status_code == 201, first.text
    assert first.json()["status"] == "pending"  # CyberSource confirms refunds by webhook
    second = client.post("/api/v1/refunds", headers=h, json={"payment_id": payment.id, "amount": "6.00",
                                                             "reason": "Goodwill"})
    assert second.status_code == 201
    over = client.post("/api/v1/refunds", headers=h, json={"payment_id": payment.id, "amount": "0.01",
                                                           "reason": "One more"})
    assert over.status_code == 422 and "At most 0.00" in over.json()["message"]
    detail = client.get(f"/api/v1/payments/{payment.id}", headers=h).json()
    assert detail["payment"]["status"] == "refunded" and detail["payment"]["amount_refunded"] == "10.00"
    ops = [op["op"] for op in httpx.get(f"{cybersource.url}/__report").json()["operations"]]
    assert ops == ["authorize", "captures", "refunds", "refunds"]

    # The gateway's webhooks confirm the refunds; the same webhook again changes nothing.
    hooks = httpx.get(f"{cybersource.url}/__webhooks").json()["webhooks"]
    refund_hooks = [w for w in hooks if w["body"]["payload"]["data"].get("operation") == "refunds"]
    for hook in refund_hooks + refund_hooks[:1]:
        r = client.post(f"/api/v1/payments/webhooks/{payment.payment_gateway_id}", headers=hook["headers"],
                        content=json.dumps(hook["body"]).encode())
        assert r.status_code == 200
    assert r.json()["outcome"] == "duplicate"
    statuses = session.execute(select(Refund.status).order_by(Refund.id)).scalars().all()
    assert statuses == ["succeeded", "succeeded"]


def test_a_forged_webhook_is_refused_and_nothing_is_written(session, client, org, charger, cybersource):
    configure_cybersource(session, org, cybersource)
    payment = paid_session(session, charger, make_card(session, make_account(session, org)).customer_account_id,
                           energy_wh=2_000)
    hook = httpx.get(f"{cybersource.url}/__webhooks").json()["webhooks"][-1]
    events_before = _count(session, PaymentEvent)
    forged = json.dumps(hook["body"]).replace('"1.00"', '"100.00"').encode()
    r = client.post(f"/api/v1/payments/webhooks/{payment.payment_gateway_id}", headers=hook["headers"], content=forged)
    assert r.status_code == 401 and "signature" in r.json()["message"]
    r = client.post(f"/api/v1/payments/webhooks/{payment.payment_gateway_id}", content=b"{}")
    assert r.status_code == 401
    assert _count(session, WebhookInbox) == 0 and _count(session, PaymentEvent) == events_before


@pytest.mark.parametrize("amount,message", [("0", "more than zero"), ("-5", "more than zero"),
                                            ("NaN", "as a number"), ("abc", "as a number"),
                                            ("1.001", "decimals"), ("10.01", "At most 10.00")])
def test_a_bad_refund_amount_is_refused_with_nothing_written(session, client, auth_header, org, charger,
                                                             accounts_user, amount, message):
    wallet = make_wallet(session, org, balance="50.00")
    payment = paid_session(session, charger, wallet.customer_account_id, energy_wh=20_000)
    entries = _count(session, LedgerEntry)
    r = client.post("/api/v1/refunds", headers=auth_header(accounts_user),
                    json={"payment_id": payment.id, "amount": amount, "reason": "test"})
    assert r.status_code == 422 and message in r.json()["message"]
    assert _count(session, Refund) == 0 and _count(session, LedgerEntry) == entries


def test_a_wallet_refund_is_a_ledger_entry_and_a_voided_payment_is_not_refunded(session, client, auth_header, org,
                                                                                charger, accounts_user):
    wallet = make_wallet(session, org, balance="50.00")
    payment = paid_session(session, charger, wallet.customer_account_id, energy_wh=20_000)  # 10.00
    h = auth_header(accounts_user)
    r = client.post("/api/v1/refunds", headers=h, json={"payment_id": payment.id, "amount": "2.50",
                                                        "reason": "Slow charging"})
    assert r.status_code == 201 and r.json()["status"] == "succeeded"
    w = client.get(f"/api/v1/wallets/{wallet.id}", headers=h).json()
    assert w["wallet"]["balance"] == "42.50"
    assert w["history"][0]["memo"] == "refund: Slow charging"
    empty = client.post("/api/v1/refunds", headers=h, json={"payment_id": payment.id, "amount": "1",
                                                            "reason": " "})
    assert empty.status_code == 422
    long = client.post("/api/v1/refunds", headers=h, json={"payment_id": payment.id, "amount": "1",
                                                           "reason": "x" * 501})
    assert long.status_code == 422
    session.execute(Payment.__table__.update().where(Payment.id == payment.id).values(status="voided"))
    session.commit()
    voided = client.post("/api/v1/refunds", headers=h, json={"payment_id": payment.id, "amount": "1",
                                                             "reason": "again"})
    assert voided.status_code == 422 and "voided" in voided.json()["message"]


def test_a_refund_above_the_threshold_waits_for_a_second_user(session, client, auth_header, org, charger,
                                                              accounts_user, monkeypatch):
    from core.config import get_settings
    monkeypatch.setattr(get_settings(), "payments_refund_approval_above", "5")
    wallet = make_wallet(session, org, balance="50.00")
    payment = paid_session(session, charger, wallet.customer_account_id, energy_wh=20_000)
    maker = auth_header(accounts_user)
    r = client.post("/api/v1/refunds", headers=maker, json={"payment_id": payment.id, "amount": "8.00",
                                                            "reason": "Double charge"})
    assert r.json()["status"] == "awaiting_approval"
    same = client.post(f"/api/v1/refunds/{r.json()['id']}/approve", headers=maker)
    assert same.status_code == 422 and "second user" in same.json()["message"]
    checker = auth_header(make_user(session, role="admin"))
    ok = client.post(f"/api/v1/refunds/{r.json()['id']}/approve", headers=checker)
    assert ok.json()["status"] == "succeeded"
    assert client.get(f"/api/v1/wallets/{wallet.id}", headers=maker).json()["wallet"]["balance"] == "48.00"


def test_manual_top_up_above_the_threshold_needs_approval_and_wrong_currency_is_refused(
        session, client, auth_header, org, accounts_user, monkeypatch):
    from core.config import get_settings
    monkeypatch.setattr(get_settings(), "payments_manual_approval_above", "100")
    wallet = make_wallet(session, org)
    maker = auth_header(accounts_user)
    wrong = client.post(f"/api/v1/wallets/{wallet.id}/top-ups", headers=maker,
                        json={"amount": "20", "currency": "EUR", "kind": "cash", "reference": "R1"})
    assert wrong.status_code == 422 and "USD" in wrong.json()["message"]
    small = client.post(f"/api/v1/wallets/{wallet.id}/top-ups", headers=maker,
                        json={"amount": "20", "currency": "USD", "kind": "cash", "reference": "R1"})
    assert small.json()["payment"]["status"] == "captured"
    big = client.post(f"/api/v1/wallets/{wallet.id}/top-ups", headers=maker,
                      json={"amount": "500", "currency": "USD", "kind": "bank_transfer", "reference": "TT-77"})
    assert big.json()["payment"]["status"] == "awaiting_approval"
    assert client.get(f"/api/v1/wallets/{wallet.id}", headers=maker).json()["wallet"]["balance"] == "20.00"
    checker = auth_header(make_user(session, role="admin"))
    client.post(f"/api/v1/payments/{big.json()['payment']['id']}/approve", headers=checker).raise_for_status()
    assert client.get(f"/api/v1/wallets/{wallet.id}", headers=maker).json()["wallet"]["balance"] == "520.00"


def test_gateway_credentials_are_never_shown_again_and_other_organizations_see_nothing(
        session, client, auth_header, org, cybersource):
    admin = auth_header(make_user(session, role="admin"))
    creds = standins.cybersource_credentials(cybersource)
    r = client.put("/api/v1/gateways", headers=admin, json={
        "organization_id": org.id, "gateway": "cybersource", "base_url": cybersource.url,
        "merchant_id": creds.merchant_id, "key_id": creds.key_id, "secret": creds.secret,
        "webhook_secret": creds.webhook_secret, "rate_limit_per_second": 5})
    assert r.status_code == 200, r.text
    assert creds.secret not in r.text and r.json()["credentials_last4"] == creds.secret[-4:]
    listed = client.get("/api/v1/gateways", headers=admin).text
    assert creds.secret not in listed and creds.webhook_secret not in listed
    test = client.post(f"/api/v1/gateways/{r.json()['id']}/test", headers=admin).json()
    assert test["ok"] is True
    other = make_org(session, currency="USD")
    cpo = auth_header(make_user(session, role="cpo", orgs=[other]))
    assert client.get("/api/v1/gateways", headers=cpo).json()["items"] == []
    assert client.post(f"/api/v1/gateways/{r.json()['id']}/test", headers=cpo).status_code == 403
    assert client.get("/api/v1/payments", headers=cpo).json()["items"] == []


def test_the_reconciliation_is_run_for_today_and_its_mismatches_are_scoped(session, client, auth_header, org):
    from tests.services.payments.conftest import configure_dialog
    server = standins.dialog()
    try:
        configure_dialog(session, org, server)
        from datetime import UTC, datetime
        server.add_settled(day=datetime.now(UTC).date().isoformat(), reference="VD-S777.capture1",
                           payment_reference="VD-S777", uid="04X", amount=Decimal("9.99"), currency="USD")
        accounts = auth_header(make_user(session, role="accounts", orgs=[org]))
        r = client.post("/api/v1/payments/reconciliation", headers=accounts)
        assert r.status_code == 200, r.text
        assert [(x["gateway"], x["status"], x["mismatches"]) for x in r.json()["runs"]] == [("dialog", "mismatched", 1)]
        panel = client.get("/api/v1/payments/reconciliation", headers=accounts).json()
        assert [(m["payment_reference"], m["kind"], m["gateway_amount"]) for m in panel["mismatches"]] == [
            ("VD-S777", "missing_in_ledger", "9.99")]
        assert client.post("/api/v1/payments/reconciliation?day=2999-01-01", headers=accounts).status_code == 422
        other = make_org(session, currency="USD")
        cpo = auth_header(make_user(session, role="cpo", orgs=[other]))
        assert client.get("/api/v1/payments/reconciliation", headers=cpo).json() == {"runs": [], "mismatches": []}
        assert client.post("/api/v1/payments/reconciliation", headers=cpo).status_code == 403
    finally:
        server.shutdown()
        server.server_close()


def test_a_refund_of_an_invoiced_session_carries_its_credit_note_and_another_cpo_sees_neither(
        session, client, auth_header, org, charger, accounts_user):
    from datetime import UTC, date, datetime

    from core.clock import clock
    from services.billing import invoicing
    wallet = make_wallet(session, org, balance="50.00")
    payment = paid_session(session, charger, wallet.customer_account_id, energy_wh=20_000)  # 10.00 on 1 December
    clock.set(datetime(2026, 12, 3, 9, tzinfo=UTC))
    day = date(2026, 12, 1)
    inv_id = invoicing.invoice_period(session=session, org=org, period_start=day, period_end=day).invoice_id
    h = auth_header(accounts_user)
    r = client.post("/api/v1/refunds", headers=h, json={"payment_id": payment.id, "amount": "2.50",
                                                        "reason": "Slow charging"})
    assert r.status_code == 201, r.text
    refund = r.json()
    assert refund["credit_note_id"] and refund["credit_note_number"].startswith("CN-")
    listed = client.get("/api/v1/refunds", headers=h, params={"payment_id": payment.id}).json()["items"]
    assert [x["credit_note_id"] for x in listed] == [refund["credit_note_id"]]
    cn = client.get(f"/api/v1/invoices/{refund['credit_note_id']}", headers=h).json()
    assert (cn["kind"], cn["credits_invoice_id"], cn["refund_reference"]) == ("credit_note", inv_id,
                                                                              refund["reference"])
    assert cn["amounts"]["amount_gross"] == "-2.50"
    inv = client.get(f"/api/v1/invoices/{inv_id}", headers=h).json()
    assert [(c["id"], c["refund_reference"]) for c in inv["credit_notes"]] == [(cn["id"], refund["reference"])]

    stranger = auth_header(make_user(session, role="cpo", orgs=[make_org(session, currency="USD", timezone="UTC")]))
    assert client.get("/api/v1/refunds", headers=stranger).json()["items"] == []
    for invoice_id in (inv_id, cn["id"]):
        assert client.get(f"/api/v1/invoices/{invoice_id}", headers=stranger).status_code == 404
