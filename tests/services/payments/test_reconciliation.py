"""The daily reconciliation against the stand-ins' settlement reports over real HTTP, the worker's jobs for it
and for the nightly ledger check."""
from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
from sqlalchemy import select

from core.clock import clock
from models import LedgerEntry, Payment, PaymentCard, ReconciliationMismatch, ReconciliationRun, Wallet
from services.payments import reconciliation
from services.payments.refunds import request_refund
from tests.services.payments.conftest import ADMIN, configure_amex, configure_cybersource, configure_dialog
from tests.utils.payments import make_account, make_card, make_wallet, paid_session
from worker.jobs import ledger_check
from worker.jobs import reconciliation as reconciliation_job

UID = "04A1B2C3D4"


def _now():
    return datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)


def _today():
    return datetime.now(UTC).date()


def _mismatches(session, gateway):
    session.expire_all()
    return [(m.kind, m.payment_reference, m.gateway_amount, m.ledger_amount) for m in session.execute(
        select(ReconciliationMismatch).where(ReconciliationMismatch.gateway == gateway)
        .order_by(ReconciliationMismatch.payment_reference)).scalars()]


def test_a_captured_and_partly_refunded_card_session_reconciles_with_the_gateways_report(session, org, charger,
                                                                                        cybersource, amex):
    configure_cybersource(session, org, cybersource, priority=1, methods=["visa"])
    configure_amex(session, org, amex, priority=2, methods=["amex"])
    visa = make_card(session, make_account(session, org)).customer_account_id
    amex_account = make_card(session, make_account(session, org), brand="amex").customer_account_id
    p1 = paid_session(session, charger, visa, energy_wh=20_000, at=_now())
    p2 = paid_session(session, charger, amex_account, energy_wh=8_000, at=_now() + timedelta(minutes=40))
    assert (p1.gateway, p2.gateway) == ("cybersource", "amex")
    request_refund(session=session, scope=ADMIN, user_id=None, payment_id=p2.id, amount="1.50", reason="slow")
    session.commit()
    clock.set(None)
    runs = reconciliation.reconcile_now(session=session, scope=ADMIN)
    session.commit()
    assert sorted((r.gateway, r.status, r.gateway_lines, r.mismatches) for r in runs) == [
        ("amex", "matched", 2, 0), ("cybersource", "matched", 1, 0)]


def test_the_fuel_card_file_shows_a_debit_we_lack_a_different_amount_and_one_the_gateway_lacks(session, org,
                                                                                              charger, dialog):
    dialog.add_card(UID, Decimal("100.00"), "USD")
    configure_dialog(session, org, dialog)
    account = make_account(session, org)
    session.add(PaymentCard(customer_account_id=account.id, brand="fuel_card", bin="", last4="C3D4", token=UID,
                            is_default=False))
    session.commit()
    from tests.services.payments.test_dialog import _start, _stop
    from worker.jobs import payments
    refs = []
    for n in range(3):
        at = _now() + timedelta(minutes=10 * n)
        tx_id = _start(session, charger, account.id, UID, at=at)
        payments()
        _stop(session, charger, tx_id, energy_wh=4_000 * (n + 1), at=at + timedelta(minutes=5))
        payments()
        refs.append(f"VD-S{tx_id}")
    clock.set(None)
    ops = dialog.state.operations
    # The gateway lost the third debit, and shows the second for more than we took; and a debit we never made.
    dialog.state.operations = [op for op in ops if op["payment_reference"] != refs[2]]
    for op in dialog.state.operations:
        if op["payment_reference"] == refs[1]:
            op["amount"] = "4.50"
    day = _today().isoformat()
    dialog.add_settled(day=day, reference="VD-S999999.capture1", payment_reference="VD-S999999", uid=UID,
                       amount=Decimal("12.50"), currency="USD")
    run = reconciliation.reconcile_now(session=session, scope=ADMIN)[0]
    session.commit()
    assert (run.status, run.gateway_lines, run.ledger_payments, run.mismatches) == ("mismatched", 3, 3, 3)
    assert _mismatches(session, "dialog") == sorted([
        ("amount_differs", refs[1], Decimal("4.5000"), Decimal("4.0000")),
        ("missing_at_gateway", refs[2], None, Decimal("6.0000")),
        ("missing_in_ledger", "VD-S999999", Decimal("12.5000"), None)], key=lambda m: m[1])
    # Run again: the day's run is replaced, not added to.
    reconciliation.reconcile_now(session=session, scope=ADMIN)
    session.commit()
    assert len(_mismatches(session, "dialog")) == 3
    assert session.execute(select(ReconciliationRun)).scalars().all().__len__() == 1
    panel = reconciliation.panel(session=session, scope=ADMIN)
    assert {m.payment_reference for m in panel.mismatches} == {refs[1], refs[2], "VD-S999999"}


def test_the_worker_reconciles_each_closed_day_once_and_retries_a_report_it_could_not_read(session, org, dialog,
                                                                                          cybersource):
    configure_dialog(session, org, dialog)
    cs = configure_cybersource(session, org, cybersource)
    yesterday = (_today() - timedelta(days=1)).isoformat()
    dialog.add_settled(day=yesterday, reference="VD-S424242.capture1", payment_reference="VD-S424242", uid=UID,
                       amount=Decimal("3.00"), currency="USD")
    httpx.post(f"{cybersource.url}/__control", json={"fail": "report_error", "times": 3}).raise_for_status()
    first = reconciliation_job()
    assert first == {"runs": 6, "mismatches": 1, "failed": 3}  # three closed days each; CyberSource was down
    session.expire_all()
    runs = session.execute(select(ReconciliationRun.gateway, ReconciliationRun.day, ReconciliationRun.status)
                           .order_by(ReconciliationRun.gateway, ReconciliationRun.day)).all()
    assert [r.status for r in runs if r.gateway == "cybersource"] == ["failed"] * 3
    assert [(r.day.isoformat(), r.status) for r in runs if r.gateway == "dialog"][-1] == (yesterday, "mismatched")
    again = reconciliation_job()
    assert again == {"runs": 3, "mismatches": 0, "failed": 0}  # only CyberSource's failed days again
    assert reconciliation_job() == {"runs": 0, "mismatches": 0, "failed": 0}
    assert cs.id


def test_the_nightly_ledger_check_passes_balanced_books_and_alerts_on_a_drift(session, org, caplog):
    wallet = make_wallet(session, org, balance="25.00")
    assert ledger_check() is True
    # A journal that does not balance (written past the ledger's own checks) and a wallet cache that drifted.
    session.add(LedgerEntry(journal="forged", organization_id=org.id, bucket="revenue", currency="USD",
                            amount=Decimal("1.00")))
    session.get(Wallet, wallet.id).balance = Decimal("30.00")
    session.commit()
    with caplog.at_level(logging.ERROR, logger="worker"):
        assert ledger_check() is False
    alerts = [r.getMessage() for r in caplog.records if "LEDGER ALERT" in r.getMessage()]
    assert any("sum to 1.0000" in a and "USD" in a for a in alerts), alerts
    assert any("journal forged" in a for a in alerts)
    assert any(f"wallet {wallet.id}" in a for a in alerts)
    assert session.execute(select(Payment)).first() is None
