"""Each gateway adapter against its stand-in over real HTTP: authorize, capture, void, refund, query, webhooks,
declines, timeouts, bad signatures."""
from __future__ import annotations

import base64
import json
import time
from decimal import Decimal

import httpx
import pytest

from services.payments.gateways.amex import Amex
from services.payments.gateways.base import ForgedWebhook, GatewayError, GatewayTimeout, GatewayUnavailable, Outcome
from services.payments.gateways.cybersource import CyberSource
from tests.utils import standins


@pytest.fixture(params=["cybersource", "amex"])
def gateway(request):
    if request.param == "cybersource":
        server = standins.cybersource()
        adapter = CyberSource(standins.cybersource_credentials(server))
    else:
        server = standins.amex()
        adapter = Amex(standins.amex_credentials(server))
    yield server, adapter
    server.shutdown()
    server.server_close()


def _webhooks(server) -> list[dict]:
    return httpx.get(f"{server.url}/__webhooks").json()["webhooks"]


def _control(server, **spec) -> None:
    httpx.post(f"{server.url}/__control", json=spec).raise_for_status()


def test_authorize_capture_part_and_refund_twice(gateway):
    server, gw = gateway
    auth = gw.authorize(reference="VD-S1", amount=Decimal("25.00"), currency="USD", token="tok_visa_1")
    assert auth.outcome == Outcome.APPROVED and auth.gateway_reference
    cap = gw.capture(reference="VD-S1", op_reference="VD-S1.capture1", gateway_reference=auth.gateway_reference,
                     amount=Decimal("18.40"), currency="USD")
    assert cap.outcome == Outcome.APPROVED
    for n, amount in enumerate(["10.00", "8.40"], start=1):
        refund = gw.refund(reference="VD-S1", op_reference=f"VD-S1.refund{n}",
                           gateway_reference=auth.gateway_reference, amount=Decimal(amount), currency="USD")
        assert refund.outcome in (Outcome.APPROVED, Outcome.PENDING)
    with pytest.raises(GatewayError):
        gw.refund(reference="VD-S1", op_reference="VD-S1.refund3", gateway_reference=auth.gateway_reference,
                  amount=Decimal("0.01"), currency="USD")
    ops = [op["op"] for op in httpx.get(f"{server.url}/__report").json()["operations"]]
    assert len(ops) == 4  # authorize, capture, two refunds; the refused third refund is not on the report


def test_an_uncaptured_authorization_is_voided(gateway):
    server, gw = gateway
    auth = gw.authorize(reference="VD-S2", amount=Decimal("25.00"), currency="USD", token="tok_visa_1")
    void = gw.void(reference="VD-S2", op_reference="VD-S2.void1", gateway_reference=auth.gateway_reference,
                   amount=Decimal("25.00"), currency="USD")
    assert void.outcome == Outcome.APPROVED
    with pytest.raises(GatewayError):
        gw.capture(reference="VD-S2", op_reference="VD-S2.capture1", gateway_reference=auth.gateway_reference,
                   amount=Decimal("1.00"), currency="USD")


def test_a_declined_card_is_declined(gateway):
    _, gw = gateway
    answer = gw.authorize(reference="VD-S3", amount=Decimal("25.00"), currency="USD", token="tok_decline_1")
    assert answer.outcome == Outcome.DECLINED


def test_a_retried_authorization_charges_once(gateway):
    server, gw = gateway
    first = gw.authorize(reference="VD-S4", amount=Decimal("25.00"), currency="USD", token="tok_visa_1")
    again = gw.authorize(reference="VD-S4", amount=Decimal("25.00"), currency="USD", token="tok_visa_1")
    assert first.gateway_reference == again.gateway_reference
    assert len(httpx.get(f"{server.url}/__report").json()["operations"]) == 1


def test_a_timed_out_authorization_is_found_by_query(gateway):
    server, gw = gateway
    _control(server, fail="timeout", times=1, delay=3.0)
    with pytest.raises(GatewayTimeout):
        gw.authorize(reference="VD-S5", amount=Decimal("25.00"), currency="USD", token="tok_visa_1")
    status = gw.query(reference="VD-S5", gateway_reference=None)
    assert status.found and status.authorized == Decimal("25.00")
    assert not gw.query(reference="VD-NEVER", gateway_reference=None).found


def test_a_gateway_that_is_down_is_unavailable(gateway):
    server, gw = gateway
    _control(server, fail="error", times=1)
    with pytest.raises(GatewayUnavailable):
        gw.authorize(reference="VD-S6", amount=Decimal("25.00"), currency="USD", token="tok_visa_1")


def test_wrong_credentials_are_refused_by_the_gateway():
    server = standins.cybersource()
    wrong = CyberSource(standins.cybersource_credentials(server, secret=base64.b64encode(b"wrong").decode()))
    with pytest.raises(GatewayError, match="Authentication"):
        wrong.authorize(reference="VD-S7", amount=Decimal("1.00"), currency="USD", token="tok_visa_1")
    server.shutdown()
    amex = standins.amex()
    with pytest.raises(GatewayError, match="credentials"):
        Amex(standins.amex_credentials(amex, secret="wrong")).authorize(
            reference="VD-S7", amount=Decimal("1.00"), currency="USD", token="tok_visa_1")
    amex.shutdown()


def test_the_webhook_verifies_and_names_our_payment_and_a_forged_one_does_not(gateway):
    server, gw = gateway
    auth = gw.authorize(reference="VD-S8", amount=Decimal("25.00"), currency="USD", token="tok_visa_1")
    gw.capture(reference="VD-S8", op_reference="VD-S8.capture1", gateway_reference=auth.gateway_reference,
               amount=Decimal("20.00"), currency="USD")
    sent = _webhooks(server)
    assert len(sent) == 2
    body = json.dumps(sent[1]["body"]).encode()
    event = gw.parse_webhook(headers=sent[1]["headers"], body=body)
    assert (event.payment_reference, event.kind, event.amount) == ("VD-S8", "captured", Decimal("20.00"))
    if gw.name == "cybersource":  # signed over the body; MPGS sends a shared secret, not a body signature
        with pytest.raises(ForgedWebhook):
            gw.parse_webhook(headers=sent[1]["headers"], body=body.replace(b"20.00", b"2000.00"))
    else:
        with pytest.raises(ForgedWebhook):
            gw.parse_webhook(headers={**sent[1]["headers"], "X-Notification-Secret": "guess"}, body=body)
    with pytest.raises(ForgedWebhook):
        gw.parse_webhook(headers={}, body=body)


def test_a_webhook_told_to_come_twice_comes_twice_and_late_comes_late():
    got: list[bytes] = []
    receiver = standins.WebhookReceiver(lambda headers, body: got.append(body) or 200)
    server = standins.amex(webhook_url=receiver.url)
    gw = Amex(standins.amex_credentials(server))
    _control(server, fail="twice", times=1)
    gw.authorize(reference="VD-S9", amount=Decimal("5.00"), currency="USD", token="tok_visa_1")
    for _ in range(100):
        if len(got) >= 2:
            break
        time.sleep(0.05)
    assert len(got) == 2 and got[0] == got[1]
    server.shutdown()
    receiver.shutdown()
