"""The demo's stand-in gateways keep their records across a restart (a second `make run`), as real gateways do:
a payment captured before the restart is refunded after it, and a fuel card keeps its balance."""
from __future__ import annotations

from decimal import Decimal

import pytest

from services.payments.gateways.amex import Amex
from services.payments.gateways.base import Outcome
from services.payments.gateways.cybersource import CyberSource
from services.payments.gateways.dialog import Dialog
from tests.utils import standins

ADAPTERS = {"cybersource": (standins.cybersource, CyberSource, standins.cybersource_credentials),
            "amex": (standins.amex, Amex, standins.amex_credentials)}


def _stop(server) -> None:
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("name", sorted(ADAPTERS))
def test_a_payment_captured_before_a_restart_is_refunded_after_it(name, tmp_path):
    start, adapter, credentials = ADAPTERS[name]
    state = tmp_path / f"{name}.json"
    first = start(state_file=state)
    gw = adapter(credentials(first))
    auth = gw.authorize(reference="VD-S1", amount=Decimal("25.00"), currency="USD", token="tok_visa_1")
    gw.capture(reference="VD-S1", op_reference="VD-S1.capture1", gateway_reference=auth.gateway_reference,
               amount=Decimal("18.40"), currency="USD")
    _stop(first)

    second = start(state_file=state)  # a new process on another port, the same records
    try:
        refund = adapter(credentials(second)).refund(
            reference="VD-S1", op_reference="VD-S1.refund1", gateway_reference=auth.gateway_reference,
            amount=Decimal("18.40"), currency="USD")
        assert refund.outcome in (Outcome.APPROVED, Outcome.PENDING)
    finally:
        _stop(second)


def test_a_fuel_card_keeps_its_balance_across_a_restart(tmp_path):
    state = tmp_path / "dialog.json"
    first = standins.dialog(state_file=state)
    assert not first.restored
    first.add_card("04A1B2C3D4", Decimal("100.00"), "USD")
    gw = Dialog(standins.dialog_credentials(first))
    gw.capture(reference="VD-S1", op_reference="VD-S1.capture1", gateway_reference="04A1B2C3D4",
               amount=Decimal("18.40"), currency="USD")
    _stop(first)

    second = standins.dialog(state_file=state)
    try:
        assert second.restored
        assert Dialog(standins.dialog_credentials(second)).card("04A1B2C3D4")["balance"] == "81.60"
    finally:
        _stop(second)


def test_without_a_state_file_a_restart_forgets(tmp_path):
    first = standins.dialog()
    first.add_card("04A1B2C3D4", Decimal("100.00"), "USD")
    _stop(first)
    second = standins.dialog()
    try:
        assert not second.restored and second.state.payments == {}
        assert list(tmp_path.iterdir()) == []
    finally:
        _stop(second)
