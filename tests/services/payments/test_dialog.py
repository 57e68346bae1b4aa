"""The Dialog fuel card over real HTTP against its stand-in: the adapter (balance check, debit, credit, query,
settlement file, idempotent references) and a fuel card session paid through the worker."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import select, update

from core.clock import clock
from models import ChargerCommand, LedgerEntry, Payment, PaymentCard, Transaction
from services.ocpp import transactions as ocpp_tx
from services.payments.gateways.base import ForgedWebhook, GatewayError, GatewayTimeout, Outcome
from services.payments.gateways.dialog import Dialog
from tests.services.payments.conftest import configure_cybersource, configure_dialog
from tests.utils import standins
from tests.utils.payments import make_account, make_card
from worker.jobs import payments

UID = "04A1B2C3D4"
T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


@pytest.fixture
def gw(dialog):
    dialog.add_card(UID, Decimal("100.00"), "USD")
    return Dialog(standins.dialog_credentials(dialog))


def _today() -> str:
    return datetime.now(UTC).date().isoformat()


def test_a_fuel_card_is_checked_debited_for_the_session_and_credited_back_in_parts(dialog, gw):
    auth = gw.authorize(reference="VD-S1", amount=Decimal("30.00"), currency="USD", token=UID)
    assert (auth.outcome, auth.gateway_reference, auth.amount) == (Outcome.APPROVED, UID, Decimal("30.00"))
    assert gw.card(UID)["balance"] == "100.00"  # a closed-loop card holds nothing at authorization
    debit = gw.capture(reference="VD-S1", op_reference="VD-S1.capture1", gateway_reference=UID,
                       amount=Decimal("18.40"), currency="USD")
    assert debit.outcome == Outcome.APPROVED and gw.card(UID)["balance"] == "81.60"
    for n, amount in enumerate(["10.00", "8.40"], start=1):
        credit = gw.refund(reference="VD-S1", op_reference=f"VD-S1.refund{n}", gateway_reference=UID,
                           amount=Decimal(amount), currency="USD")
        assert credit.outcome == Outcome.APPROVED
    with pytest.raises(GatewayError, match="more than was debited"):
        gw.refund(reference="VD-S1", op_reference="VD-S1.refund3", gateway_reference=UID, amount=Decimal("0.01"),
                  currency="USD")
    assert gw.card(UID)["balance"] == "100.00"
    lines = gw.settlement(day=_today())
    assert [(ln.kind, ln.amount, ln.payment_reference) for ln in lines] == [
        ("capture", Decimal("18.40"), "VD-S1"), ("refund", Decimal("10.00"), "VD-S1"),
        ("refund", Decimal("8.40"), "VD-S1")]
    assert gw.settlement(day="2020-01-01") == []


def test_a_repeated_debit_moves_the_money_once(dialog, gw):
    for _ in range(2):
        gw.capture(reference="VD-S2", op_reference="VD-S2.capture1", gateway_reference=UID, amount=Decimal("25.00"),
                   currency="USD")
    assert gw.card(UID)["balance"] == "75.00"
    assert len(gw.settlement(day=_today())) == 1


def test_unknown_empty_blocked_or_foreign_currency_cards_are_declined(dialog, gw):
    dialog.add_card("EMPTY", Decimal("0"), "USD")
    dialog.add_card("BLOCKED", Decimal("50"), "USD", status="blocked")
    dialog.add_card("RUPEES", Decimal("5000"), "LKR")
    for uid in ("NOSUCHCARD", "EMPTY", "BLOCKED", "RUPEES"):
        answer = gw.authorize(reference="VD-S3", amount=Decimal("5.00"), currency="USD", token=uid)
        assert answer.outcome == Outcome.DECLINED, uid
    debit = gw.capture(reference="VD-S3", op_reference="VD-S3.capture1", gateway_reference=UID,
                       amount=Decimal("100.01"), currency="USD")
    assert debit.outcome == Outcome.DECLINED and "insufficient" in debit.message
    assert gw.card(UID)["balance"] == "100.00"


def test_a_timed_out_debit_is_found_by_query_and_not_made_again(dialog, gw):
    httpx.post(f"{dialog.url}/__control", json={"fail": "timeout", "times": 1, "delay": 3.0}).raise_for_status()
    with pytest.raises(GatewayTimeout):
        gw.capture(reference="VD-S4", op_reference="VD-S4.capture1", gateway_reference=UID, amount=Decimal("12.00"),
                   currency="USD")
    status = gw.query(reference="VD-S4.capture1", gateway_reference=UID)
    assert status.found and status.captured == Decimal("12.00")
    gw.capture(reference="VD-S4", op_reference="VD-S4.capture1", gateway_reference=UID, amount=Decimal("12.00"),
               currency="USD")
    assert gw.card(UID)["balance"] == "88.00"
    assert not gw.query(reference="VD-NEVER", gateway_reference=None).found


def test_a_wrong_api_key_is_refused_and_dialog_takes_no_webhooks(dialog):
    wrong = Dialog(standins.dialog_credentials(dialog, secret="guess"))
    with pytest.raises(GatewayError):
        wrong.card(UID)
    with pytest.raises(ForgedWebhook):
        wrong.parse_webhook(headers={}, body=b"{}")


def _start(session, charger, account_id, id_tag, *, at=T0):
    clock.set(at)
    result = ocpp_tx.start_transaction(session=session, charger_id=charger.id, connector_id=1, id_tag=id_tag,
                                       meter_start=1000, timestamp=at, reservation_id=None, now=at)
    session.execute(update(Transaction).where(Transaction.id == result.transaction_id)
                    .values(customer_account_id=account_id))
    session.commit()
    return result.transaction_id


def _stop(session, charger, tx_id, *, energy_wh, at):
    clock.set(at)
    ocpp_tx.stop_transaction(session=session, charger_id=charger.id, transaction_id=tx_id, meter_stop=1000 + energy_wh,
                             timestamp=at, reason=None, id_tag=None, transaction_data=None, now=at)
    session.commit()


def _fuel_card(session, account, uid=UID):
    session.add(PaymentCard(customer_account_id=account.id, brand="fuel_card", bin="", last4=uid[-4:], token=uid,
                            is_default=False))
    session.commit()


def test_a_session_started_with_a_fuel_card_is_debited_at_dialog_not_the_default_card(session, org, charger, dialog,
                                                                                    cybersource):
    dialog.add_card(UID, Decimal("100.00"), "USD")
    configure_cybersource(session, org, cybersource, priority=1)
    configure_dialog(session, org, dialog, priority=2)
    account = make_account(session, org)
    make_card(session, account)  # a default Visa card; the fuel card's idTag wins
    _fuel_card(session, account)
    tx_id = _start(session, charger, account.id, UID)
    payments()
    _stop(session, charger, tx_id, energy_wh=8_000, at=T0 + timedelta(minutes=30))
    payments()
    session.expire_all()
    payment = session.execute(select(Payment).where(Payment.transaction_id == tx_id)).scalar_one()
    assert (payment.method, payment.gateway, payment.status) == ("fuel_card", "dialog", "captured")
    assert (payment.amount_authorized, payment.amount_captured) == (Decimal("15.00"), Decimal("4.00"))
    assert Dialog(standins.dialog_credentials(dialog)).card(UID)["balance"] == "96.00"
    assert httpx.get(f"{cybersource.url}/__report").json()["operations"] == []
    entries = session.execute(select(LedgerEntry.bucket, LedgerEntry.amount).where(
        LedgerEntry.payment_id == payment.id).order_by(LedgerEntry.id)).all()
    assert entries == [("clearing", Decimal("-4.00")), ("revenue", Decimal("4.00"))]


def test_an_empty_fuel_card_stops_the_session(session, org, charger, dialog):
    dialog.add_card("04EMPTY000", Decimal("0"), "USD")
    configure_dialog(session, org, dialog)
    account = make_account(session, org)
    _fuel_card(session, account, "04EMPTY000")
    tx_id = _start(session, charger, account.id, "04EMPTY000")
    payments()
    session.expire_all()
    payment = session.execute(select(Payment).where(Payment.transaction_id == tx_id)).scalar_one()
    assert (payment.method, payment.status) == ("fuel_card", "declined")
    assert session.execute(select(ChargerCommand.action)).scalar_one() == "RemoteStopTransaction"


def test_a_fuel_card_is_never_routed_to_a_card_gateway(session, org, charger, cybersource):
    configure_cybersource(session, org, cybersource)
    account = make_account(session, org)
    _fuel_card(session, account)
    tx_id = _start(session, charger, account.id, UID)
    payments()
    session.expire_all()
    payment = session.execute(select(Payment).where(Payment.transaction_id == tx_id)).scalar_one()
    assert payment.status == "pending" and payment.gateway != "cybersource"
    assert httpx.get(f"{cybersource.url}/__report").json()["operations"] == []
