"""The money path around a session: StartTransaction and StopTransaction (the OCPP service) leave intents; the
worker's payments job holds, captures, releases and voids, by wallet or by card through the stand-ins."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
from sqlalchemy import select, update

from core.clock import clock
from models import ChargerCommand, LedgerEntry, MeterValue, Payment, PaymentEvent, PaymentIntent, Transaction, Wallet
from services.ocpp import transactions as ocpp_tx
from services.payments import ledger
from tests.services.payments.conftest import configure_amex, configure_cybersource
from tests.utils.payments import make_account, make_card, make_wallet
from worker.jobs import payments

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def _start(session, charger, account_id, *, meter_start=1000, at=T0):
    clock.set(at)
    result = ocpp_tx.start_transaction(session=session, charger_id=charger.id, connector_id=1, id_tag="TAG-PAY",
                                       meter_start=meter_start, timestamp=at, reservation_id=None, now=at)
    assert result.created
    # The customers work names the paying account at start; here it is set directly.
    session.execute(update(Transaction).where(Transaction.id == result.transaction_id)
                    .values(customer_account_id=account_id))
    session.commit()
    return result.transaction_id


def _stop(session, charger, tx_id, *, energy_wh, minutes=30):
    at = T0 + timedelta(minutes=minutes)
    clock.set(at)
    ocpp_tx.stop_transaction(session=session, charger_id=charger.id, transaction_id=tx_id, meter_stop=1000 + energy_wh,
                             timestamp=at, reason=None, id_tag=None, transaction_data=None, now=at)
    session.commit()


def _payment(session, tx_id) -> Payment:
    session.expire_all()
    return session.execute(select(Payment).where(Payment.transaction_id == tx_id)).scalar_one()


def _timeline(session, payment) -> list[str]:
    return list(session.execute(select(PaymentEvent.kind).where(PaymentEvent.payment_id == payment.id)
                                .order_by(PaymentEvent.id)).scalars())


def test_a_wallet_session_holds_at_start_captures_at_stop_and_releases_the_rest(session, org, charger):
    account = make_wallet(session, org, balance="40.00")
    tx_id = _start(session, charger, account.customer_account_id)
    payments()
    payment = _payment(session, tx_id)
    assert (payment.method, payment.status, payment.amount_authorized) == ("wallet", "authorized", Decimal("15.00"))
    wallet = session.get(Wallet, account.id)
    assert (wallet.balance, wallet.held) == (Decimal("25.00"), Decimal("15.00"))

    _stop(session, charger, tx_id, energy_wh=12_345)  # 12.345 kWh × 0.50 = 6.17 (half-up)
    payments()
    payment = _payment(session, tx_id)
    assert (payment.status, payment.amount_captured) == ("captured", Decimal("6.17"))
    session.refresh(wallet)
    assert (wallet.balance, wallet.held) == (Decimal("33.83"), Decimal("0"))
    assert _timeline(session, payment) == ["authorized", "released", "captured"]
    assert ledger.check_wallets(session) == [] and ledger.unbalanced_journals(session) == []


def test_the_intents_are_written_with_the_start_and_stop_and_done_once(session, org, charger):
    wallet = make_wallet(session, org, balance="40.00")
    tx_id = _start(session, charger, wallet.customer_account_id)
    _stop(session, charger, tx_id, energy_wh=1000)
    actions = session.execute(select(PaymentIntent.action, PaymentIntent.status)
                              .where(PaymentIntent.transaction_id == tx_id).order_by(PaymentIntent.id)).all()
    assert actions == [("start", "pending"), ("stop", "pending")]
    payments()
    payments()  # nothing twice
    session.refresh(wallet)
    assert wallet.balance == Decimal("39.50") and wallet.held == 0


def test_the_stop_intent_is_one_insert_in_the_stop_transaction_and_lives_or_dies_with_it(session, org, charger):
    # The money path adds no commit of its own to StopTransaction: the intent is durable exactly when the stop is
    # (the charger's ack follows that one commit), and a stop that rolls back leaves no intent behind.
    wallet = make_wallet(session, org, balance="40.00")
    tx_id = _start(session, charger, wallet.customer_account_id)
    at = T0 + timedelta(minutes=30)
    ocpp_tx.stop_transaction(session=session, charger_id=charger.id, transaction_id=tx_id, meter_stop=2000,
                             timestamp=at, reason=None, id_tag=None, transaction_data=None, now=at)
    session.rollback()  # the database failed before the commit: the charger gets no ack and sends it again

    def stops():
        return session.execute(select(PaymentIntent.status).where(PaymentIntent.transaction_id == tx_id,
                                                                  PaymentIntent.action == "stop")).all()

    assert stops() == [] and session.get(Transaction, tx_id).status == "active"
    _stop(session, charger, tx_id, energy_wh=1000)
    _stop(session, charger, tx_id, energy_wh=1000)  # a StopTransaction sent again writes nothing
    assert stops() == [("pending",)]


def test_a_session_without_a_customer_account_pays_nothing_here(session, org, charger):
    clock.set(T0)
    result = ocpp_tx.start_transaction(session=session, charger_id=charger.id, connector_id=1, id_tag="TAG-X",
                                       meter_start=0, timestamp=T0, reservation_id=None, now=T0)
    session.commit()
    payments()
    assert session.execute(select(Payment)).first() is None
    assert session.execute(select(PaymentIntent.status).where(
        PaymentIntent.transaction_id == result.transaction_id)).scalar_one() == "done"


def test_an_empty_wallet_stops_the_session_and_the_customer_is_told(session, org, charger, caplog):
    wallet = make_wallet(session, org)
    tx_id = _start(session, charger, wallet.customer_account_id)
    caplog.set_level("INFO", logger="payments")
    payments()
    assert _payment(session, tx_id).status == "declined"
    cmd = session.execute(select(ChargerCommand)).scalar_one()
    assert (cmd.action, cmd.payload) == ("RemoteStopTransaction", {"transactionId": tx_id})
    assert "wallet is empty" in caplog.text


def test_a_wallet_session_that_runs_out_is_stopped_once_and_the_customer_is_told(session, org, charger, caplog):
    wallet = make_wallet(session, org, balance="5.00")
    tx_id = _start(session, charger, wallet.customer_account_id)
    payments()
    assert _payment(session, tx_id).amount_authorized == Decimal("5.00")  # all it had
    # 9 kWh so far: 4.50, still inside the hold.
    session.add(MeterValue(charger_id=charger.id, connector_id=1, transaction_id=tx_id,
                           timestamp=T0 + timedelta(minutes=10), value=Decimal(10_000), unit="Wh"))
    session.commit()
    payments()
    assert session.execute(select(ChargerCommand)).first() is None
    # 10 kWh: 5.00, the hold is used up.
    session.add(MeterValue(charger_id=charger.id, connector_id=1, transaction_id=tx_id,
                           timestamp=T0 + timedelta(minutes=12), value=Decimal(11_000), unit="Wh"))
    session.commit()
    caplog.set_level("INFO", logger="payments")
    payments()
    payments()
    cmd = session.execute(select(ChargerCommand)).scalar_one()
    assert (cmd.action, cmd.payload) == ("RemoteStopTransaction", {"transactionId": tx_id})
    assert "wallet ran out" in caplog.text
    # The charger stops a little later with a bit more energy: the hold is all it pays; the rest is noted.
    _stop(session, charger, tx_id, energy_wh=10_400)
    payments()
    payment = _payment(session, tx_id)
    assert (payment.status, payment.amount_captured) == ("captured", Decimal("5.00"))
    assert "0.20" in payment.note
    session.refresh(wallet)
    assert (wallet.balance, wallet.held) == (0, 0)


def test_a_card_session_is_preauthorized_captured_for_the_final_cost_at_cybersource(session, org, charger,
                                                                                     cybersource):
    configure_cybersource(session, org, cybersource)
    account = make_card(session, make_account(session, org)).customer_account_id
    tx_id = _start(session, charger, account)
    payments()
    payment = _payment(session, tx_id)
    assert (payment.gateway, payment.status, payment.amount_authorized) == ("cybersource", "authorized",
                                                                            Decimal("15.00"))
    _stop(session, charger, tx_id, energy_wh=8_000)
    payments()
    payment = _payment(session, tx_id)
    assert (payment.status, payment.amount_captured) == ("captured", Decimal("4.00"))
    report = httpx.get(f"{cybersource.url}/__report").json()["operations"]
    assert [(op["op"], op["amount"]) for op in report] == [("authorize", "15.00"), ("captures", "4.00")]
    # The capture is in the ledger too: the gateway owes what the customer paid for charging.
    entries = session.execute(select(LedgerEntry.bucket, LedgerEntry.amount).where(
        LedgerEntry.payment_id == payment.id).order_by(LedgerEntry.id)).all()
    assert entries == [("clearing", Decimal("-4.00")), ("revenue", Decimal("4.00"))]


def test_a_card_session_that_delivered_no_energy_is_voided_at_amex(session, org, charger, amex):
    configure_amex(session, org, amex)
    account = make_card(session, make_account(session, org), brand="amex").customer_account_id
    tx_id = _start(session, charger, account)
    _stop(session, charger, tx_id, energy_wh=0)
    payments()
    payment = _payment(session, tx_id)
    assert (payment.gateway, payment.status) == ("amex", "voided")
    assert _timeline(session, payment) == ["authorized", "voided"]
    report = httpx.get(f"{amex.url}/__report").json()["operations"]
    assert [op["op"] for op in report] == ["authorize", "void"]


def test_a_declined_card_stops_the_session(session, org, charger, cybersource):
    configure_cybersource(session, org, cybersource)
    account = make_card(session, make_account(session, org)).customer_account_id
    httpx.post(f"{cybersource.url}/__control", json={"fail": "decline", "times": 1})
    tx_id = _start(session, charger, account)
    payments()
    assert _payment(session, tx_id).status == "declined"
    assert session.execute(select(ChargerCommand.action)).scalar_one() == "RemoteStopTransaction"


def test_a_timed_out_authorization_is_resolved_by_query_and_charged_once(session, org, charger, cybersource):
    configure_cybersource(session, org, cybersource)
    account = make_card(session, make_account(session, org)).customer_account_id
    httpx.post(f"{cybersource.url}/__control", json={"fail": "timeout", "times": 1, "delay": 2.0})
    tx_id = _start(session, charger, account)
    payments()
    payment = _payment(session, tx_id)
    assert payment.status == "authorized"
    assert _timeline(session, payment) == ["timeout", "authorized"]
    report = httpx.get(f"{cybersource.url}/__report").json()["operations"]
    assert [op["op"] for op in report] == ["authorize"]


def test_a_gateway_that_is_down_falls_back_to_the_next_and_its_circuit_opens(session, org, charger, cybersource,
                                                                              amex):
    configure_cybersource(session, org, cybersource, priority=1)
    configure_amex(session, org, amex, priority=2)
    httpx.post(f"{cybersource.url}/__control", json={"fail": "error", "times": 10})
    ids = []
    for _ in range(3):
        account = make_card(session, make_account(session, org)).customer_account_id
        ids.append(_start(session, charger, account, at=T0 + timedelta(minutes=len(ids))))
    payments()
    # Each start closed the one before (one connector), so the earlier two were voided at once.
    assert [(_payment(session, i).gateway, _payment(session, i).status) for i in ids] == [
        ("amex", "voided"), ("amex", "voided"), ("amex", "authorized")]
    calls = [op for op in httpx.get(f"{cybersource.url}/__report").json()["operations"]]
    assert calls == []
    # Two failures in a row opened CyberSource's circuit: the third session went straight to Amex.
    assert _timeline(session, _payment(session, ids[0])) == ["unavailable", "authorized", "voided"]
    assert _timeline(session, _payment(session, ids[1])) == ["unavailable", "authorized", "voided"]
    assert _timeline(session, _payment(session, ids[2])) == ["authorized"]
