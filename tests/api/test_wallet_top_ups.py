"""A customer tops up its wallet by card through a gateway (over real HTTP to the stand-in): double-entry ledger
entries, the same key twice charges once, bad input refused with nothing written, another account refused."""
from __future__ import annotations

from decimal import Decimal

import httpx
import pytest
from sqlalchemy import func, select

from models import CustomerAccount, LedgerEntry, Payment
from tests.api.test_customers_api import bearer
from tests.services.payments.conftest import ADMIN, configure_cybersource
from tests.utils import standins
from tests.utils.customers import active_customer, open_signup
from tests.utils.factories import make_org
from tests.utils.payments import make_card

KEY = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def org(session):
    org = make_org(session, slug="topup-org", currency="USD", timezone="UTC")
    open_signup(session, ADMIN, org)
    session.commit()
    return org


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


def test_a_card_top_up_credits_the_wallet_once_even_when_retried(session, client, org, cybersource):
    configure_cybersource(session, org, cybersource)
    user = active_customer(session, org, "mia@topup.test")
    card = make_card(session, session.get(CustomerAccount, user.account_id))
    me = bearer(client, "mia@topup.test")
    body = {"account_id": user.account_id, "card_id": card.id, "amount": "25.00", "key": KEY}
    first = client.post("/api/v1/me/wallet/top-ups", headers=me, json=body)
    assert first.status_code == 201, first.text
    assert (first.json()["status"], first.json()["balance"]) == ("captured", "25.00")
    again = client.post("/api/v1/me/wallet/top-ups", headers=me, json=body)
    assert again.status_code == 200 and again.json()["repeated"] is True and again.json()["balance"] == "25.00"
    ops = [(op["op"], op["amount"]) for op in httpx.get(f"{cybersource.url}/__report").json()["operations"]]
    assert ops == [("authorize", "25.00"), ("captures", "25.00")]
    payment = session.execute(select(Payment)).scalar_one()
    entries = session.execute(select(LedgerEntry.bucket, LedgerEntry.amount).where(
        LedgerEntry.payment_id == payment.id).order_by(LedgerEntry.id)).all()
    assert entries == [("available", Decimal("25.00")), ("clearing", Decimal("-25.00"))]
    wallet = client.get(f"/api/v1/me/wallet?account_id={user.account_id}", headers=me).json()
    assert wallet["balance"] == "25.00" and wallet["history"][0]["memo"] == f"card top-up •••• {card.last4}"
    # A new key is a new top-up.
    client.post("/api/v1/me/wallet/top-ups", headers=me, json={**body, "key": "f" * 32}).raise_for_status()
    assert client.get(f"/api/v1/me/wallet?account_id={user.account_id}", headers=me).json()["balance"] == "50.00"


def test_a_timed_out_capture_is_resolved_and_a_declined_card_credits_nothing(session, client, org, cybersource):
    configure_cybersource(session, org, cybersource)
    user = active_customer(session, org, "lee@topup.test")
    card = make_card(session, session.get(CustomerAccount, user.account_id))
    me = bearer(client, "lee@topup.test")
    httpx.post(f"{cybersource.url}/__control", json={"fail": "decline", "times": 1}).raise_for_status()
    declined = client.post("/api/v1/me/wallet/top-ups", headers=me,
                           json={"account_id": user.account_id, "card_id": card.id, "amount": "10.00", "key": KEY})
    assert declined.status_code == 201 and declined.json()["status"] == "declined"
    assert _count(session, LedgerEntry) == 0
    httpx.post(f"{cybersource.url}/__control", json={"fail": "timeout", "times": 1, "delay": 2.0}).raise_for_status()
    r = client.post("/api/v1/me/wallet/top-ups", headers=me,
                    json={"account_id": user.account_id, "card_id": card.id, "amount": "10.00", "key": "a" * 32})
    assert r.status_code == 201 and r.json()["balance"] == "10.00", r.text
    assert [op["op"] for op in httpx.get(f"{cybersource.url}/__report").json()["operations"]].count("authorize") == 2


@pytest.mark.parametrize("amount", ["0", "-5", "NaN", "1.001", "abc"])
def test_a_bad_amount_or_someone_elses_account_is_refused_with_nothing_written(session, client, org, cybersource,
                                                                              amount):
    configure_cybersource(session, org, cybersource)
    user = active_customer(session, org, "bo@topup.test")
    other = active_customer(session, org, "eve@topup.test")
    card = make_card(session, session.get(CustomerAccount, user.account_id))
    me = bearer(client, "bo@topup.test")
    bad = client.post("/api/v1/me/wallet/top-ups", headers=me,
                      json={"account_id": user.account_id, "card_id": card.id, "amount": amount, "key": KEY})
    assert 400 <= bad.status_code < 500, bad.text
    theirs = client.post("/api/v1/me/wallet/top-ups", headers=me,
                         json={"account_id": other.account_id, "card_id": card.id, "amount": "5.00", "key": KEY})
    assert theirs.status_code == 403
    assert _count(session, Payment) == 0 and _count(session, LedgerEntry) == 0
    assert httpx.get(f"{cybersource.url}/__report").json()["operations"] == []
