"""Refunds on partner invoices: a completed refund of an invoiced session is a partial credit note, once; a refund
of a session not invoiced yet is credited by the invoice that includes it; other organizations see neither."""
from __future__ import annotations

import json
import threading
import time
from datetime import UTC, date, datetime
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlmodel import Session

from core.clock import clock
from core.errors import NotFound
from models import Invoice, InvoiceLine, Refund
from services.access.scope import scope_for
from services.billing import invoicing
from services.billing.invoice_view import invoice_view
from services.billing.pdf import invoice_pdf
from services.billing.refund_credits import split
from services.payments import refunds, webhooks
from tests.services.billing.test_invoice_pdf_and_mail import pdf_text
from tests.services.payments.conftest import configure_cybersource
from tests.utils import standins
from tests.utils.factories import make_charger, make_org, make_tariff, make_user
from tests.utils.payments import make_account, make_card, make_wallet, paid_session

DAY = date(2026, 12, 1)  # the sessions stop on 1 December (tests.utils.payments.T0)
AFTER = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
AMOUNTS = ("amount_vat", "amount_ssc", "amount_gateway", "amount_platform", "amount_location_owner",
           "amount_net_payable")


@pytest.fixture
def org(session):
    # Taxes and commissions, so a partial credit note splits the refund over every column.
    return make_org(session, currency="USD", timezone="UTC", vat_rate=Decimal("8"), ssc_levy_rate=Decimal("2.5"),
                    platform_commission_rate=Decimal("10"), gateway_fee_percent=Decimal("1.4"),
                    gateway_fee_fixed=Decimal("0.25"))


@pytest.fixture
def charger(session, org):
    make_tariff(session, org, price_per_kwh="0.50")
    return make_charger(session, org)


@pytest.fixture
def accounts(session, org):
    user = make_user(session, role="accounts", orgs=[org])
    return user, scope_for(session, user)


@pytest.fixture
def cybersource(monkeypatch):
    from core.config import get_settings
    monkeypatch.setattr(get_settings(), "payments_gateway_timeout_seconds", 1.0)
    server = standins.cybersource()
    yield server
    server.shutdown()
    server.server_close()


def _invoice(session, org) -> invoicing.InvoiceDetail:
    clock.set(AFTER)
    outcome = invoicing.invoice_period(session=session, org=org, period_start=DAY, period_end=DAY)
    assert outcome.outcome == "made", outcome.reason
    return invoicing.get_invoice(session=session, scope=invoicing.SYSTEM_SCOPE, invoice_id=outcome.invoice_id)


def _refund(session, scope, user, payment, amount: str, reason: str = "Connector fault") -> refunds.RefundRow:
    r = refunds.request_refund(session=session, scope=scope, user_id=user.id, payment_id=payment.id, amount=amount,
                               reason=reason)
    session.commit()
    return r


def _credit_notes(session) -> list[Invoice]:
    session.expire_all()
    return session.execute(select(Invoice).where(Invoice.refund_id.is_not(None)).order_by(Invoice.id)).scalars().all()


def _settles(cn: invoicing.InvoiceDetail) -> bool:
    a = cn.amounts
    return (a["amount_gross"] == a["amount_subtotal"] + a["amount_vat"] + a["amount_ssc"]
            and a["amount_net_payable"] == a["amount_gross"] - sum(a[k] for k in AMOUNTS[:-1]))


def test_a_partial_card_refund_of_an_invoiced_session_is_credited_once_when_the_gateway_confirms(
        session, org, charger, cybersource, accounts):
    user, scope = accounts
    configure_cybersource(session, org, cybersource)
    payment = paid_session(session, charger, make_card(session, make_account(session, org)).customer_account_id,
                           energy_wh=20_000)
    inv = _invoice(session, org)
    assert inv.amounts["amount_gross"] == payment.amount_captured

    asked = _refund(session, scope, user, payment, "4.00")
    assert asked.status == "pending" and asked.credit_note_id is None  # asked for, not given back yet
    assert _credit_notes(session) == []

    hooks = httpx.get(f"{cybersource.url}/__webhooks").json()["webhooks"]
    hook = next(w for w in hooks if w["body"]["payload"]["data"].get("operation") == "refunds")
    outcomes = []
    for _ in range(2):  # the same webhook twice
        outcomes.append(webhooks.receive_webhook(session=session, gateway_id=payment.payment_gateway_id,
                                                 headers=hook["headers"], body=json.dumps(hook["body"]).encode()))
        session.commit()
    assert outcomes == ["applied", "duplicate"]
    [cn_row] = _credit_notes(session)
    cn = invoicing.get_invoice(session=session, scope=scope, invoice_id=cn_row.id)
    assert cn.kind == "credit_note" and cn.credits_invoice_id == inv.id and cn.number.startswith("CN-")
    assert cn.amounts["amount_gross"] == Decimal("-4.00") and cn.refund_reference == asked.reference
    assert cn.refund_payment_id == payment.id and cn.session_count == 0 and _settles(cn)
    assert "gives back part of " + inv.number in invoice_view(cn).terms
    _, data = invoice_pdf(session=session, scope=scope, invoice_id=cn.id)  # the credit notes' one view, on paper
    text = " ".join(pdf_text(data).split())
    assert "Credit note" in text and cn.number in text and asked.reference in text
    [row] = refunds.list_refunds(session=session, scope=scope, payment_id=payment.id)
    assert (row.status, row.credit_note_id, row.credit_note_number) == ("succeeded", cn.id, cn.number)
    listed = invoicing.get_invoice(session=session, scope=scope, invoice_id=inv.id).credit_notes
    assert [(c.id, c.refund_reference, c.amount_gross) for c in listed] == [(cn.id, asked.reference,
                                                                              Decimal("-4.00"))]
    # The webhook applied again (the worker retrying its inbox) credits nothing more.
    refund = session.get(Refund, asked.id)
    assert refunds.confirm_refund(session, refund=refund, payment=payment, gateway_reference=None) is False
    assert len(_credit_notes(session)) == 1


def test_two_partial_wallet_refunds_are_two_credit_notes_summing_to_the_refunds(session, org, charger, accounts):
    user, scope = accounts
    wallet = make_wallet(session, org, balance="40.00")
    payment = paid_session(session, charger, wallet.customer_account_id, energy_wh=20_000)
    inv = _invoice(session, org)
    first = _refund(session, scope, user, payment, "1.00")
    second = _refund(session, scope, user, payment, "2.35", reason="Goodwill")
    notes = _credit_notes(session)
    assert [n.refund_id for n in notes] == [first.id, second.id]
    assert [first.credit_note_id, second.credit_note_id] == [n.id for n in notes]
    details = [invoicing.get_invoice(session=session, scope=scope, invoice_id=n.id) for n in notes]
    assert [d.amounts["amount_gross"] for d in details] == [Decimal("-1.00"), Decimal("-2.35")]
    assert all(_settles(d) for d in details)
    # The invoice's numbers stay gap-free: the invoice, then each credit note.
    assert [d.number[-5:] for d in details] == ["00002", "00003"] and inv.number.endswith("00001")
    after = invoicing.get_invoice(session=session, scope=scope, invoice_id=inv.id)
    assert [c.refund_reference for c in after.credit_notes] == [first.reference, second.reference]
    # A full correction would credit those refunds twice: refused.
    with pytest.raises(Exception, match="refund credit notes"):
        invoicing.correct_invoice(session=session, scope=scope, invoice_id=inv.id, reason="Tariff error")


def test_a_credit_note_never_exceeds_what_the_invoice_counted_for_the_session(session, org, charger, accounts):
    user, scope = accounts
    wallet = make_wallet(session, org, balance="40.00")
    payment = paid_session(session, charger, wallet.customer_account_id, energy_wh=20_000)
    _invoice(session, org)
    gross = payment.amount_captured
    _refund(session, scope, user, payment, str(gross - Decimal("0.01")))
    _refund(session, scope, user, payment, "0.01")
    total = session.execute(select(func.sum(InvoiceLine.amount_gross)).join(
        Invoice, Invoice.id == InvoiceLine.invoice_id).where(Invoice.refund_id.is_not(None))).scalar_one()
    assert total == -gross


def test_a_refund_of_a_session_not_yet_invoiced_is_credited_by_the_invoice_that_includes_it(
        session, org, charger, accounts):
    user, scope = accounts
    wallet = make_wallet(session, org, balance="40.00")
    payment = paid_session(session, charger, wallet.customer_account_id, energy_wh=20_000)
    asked = _refund(session, scope, user, payment, "2.50")
    assert asked.status == "succeeded" and asked.credit_note_id is None
    assert _credit_notes(session) == []

    inv = _invoice(session, org)
    [cn] = inv.credit_notes
    assert (cn.refund_reference, cn.amount_gross) == (asked.reference, Decimal("-2.50"))
    [row] = refunds.list_refunds(session=session, scope=scope, payment_id=payment.id)
    assert row.credit_note_id == cn.id
    # Invoicing the period again makes nothing twice.
    assert invoicing.invoice_period(session=session, org=org, period_start=DAY, period_end=DAY).outcome == "skipped"
    assert len(_credit_notes(session)) == 1


def test_another_organizations_cpo_sees_neither_the_refund_nor_its_credit_note(session, org, charger, accounts):
    user, scope = accounts
    wallet = make_wallet(session, org, balance="40.00")
    payment = paid_session(session, charger, wallet.customer_account_id, energy_wh=20_000)
    inv = _invoice(session, org)
    asked = _refund(session, scope, user, payment, "1.00")
    other = make_org(session, currency="USD", timezone="UTC")
    stranger = scope_for(session, make_user(session, role="cpo", orgs=[other]))
    assert refunds.list_refunds(session=session, scope=stranger) == []
    for invoice_id in (inv.id, asked.credit_note_id):
        with pytest.raises(NotFound):
            invoicing.get_invoice(session=session, scope=stranger, invoice_id=invoice_id)
    listed, _ = invoicing.list_invoices(session=session, scope=stranger)
    assert listed == []


def test_the_split_rounds_each_part_once_and_adds_back_to_the_refund():
    from models import Transaction
    tx = Transaction(currency="USD", amount_energy=Decimal("12.35"), amount_time=Decimal("0"),
                     amount_session_fee=Decimal("0.50"), amount_idle=Decimal("0"), amount_subtotal=Decimal("12.85"),
                     amount_vat=Decimal("2.44"), amount_ssc=Decimal("0.32"), amount_gross=Decimal("15.61"),
                     amount_gateway=Decimal("0.47"), amount_platform=Decimal("1.29"),
                     amount_location_owner=Decimal("0.64"), amount_net_cpo=Decimal("10.45"))
    for amount in (Decimal("0.01"), Decimal("3.33"), Decimal("15.61")):
        parts = split(tx, amount)
        assert parts["amount_gross"] == amount
        assert parts["amount_subtotal"] + parts["amount_vat"] + parts["amount_ssc"] == amount
        assert all(v == v.quantize(Decimal("0.01")) for v in parts.values())
    whole = split(tx, Decimal("15.61"))
    assert (whole["amount_vat"], whole["amount_net_payable"]) == (Decimal("2.44"), Decimal("10.45"))


def test_a_refund_completing_while_its_period_is_invoiced_is_credited_once(session, engine, org, charger, accounts):
    # The race: the invoice has read the period's refunds (none yet) but is not committed when the refund
    # completes. The refund waits on the organization's invoice counter, then finds the committed invoice.
    user, scope = accounts
    wallet = make_wallet(session, org, balance="40.00")
    payment = paid_session(session, charger, wallet.customer_account_id, energy_wh=20_000)
    clock.set(AFTER)
    invoicer = Session(engine, expire_on_commit=False)
    outcome = invoicing._invoice_one(invoicer, invoicer.get(type(org), org.id), DAY, DAY, None)
    assert outcome.outcome == "made"
    errors: list[Exception] = []

    def refund() -> None:
        try:
            with Session(engine, expire_on_commit=False) as s:
                refunds.request_refund(session=s, scope=scope, user_id=user.id, payment_id=payment.id,
                                       amount="3.00", reason="Connector fault")
                s.commit()
        except Exception as exc:  # surfaced below
            errors.append(exc)

    worker = threading.Thread(target=refund)
    worker.start()
    for _ in range(2000):  # until the refund waits for the invoice's lock (or, were it not to wait, is done)
        waiting = session.execute(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                       "AND query LIKE '%invoice_number_sequence%'")).scalar_one()
        session.rollback()
        if waiting or not worker.is_alive():
            break
        time.sleep(0.01)
    invoicer.commit()
    invoicer.close()
    worker.join()
    assert not errors
    [cn] = _credit_notes(session)
    assert (cn.credits_invoice_id, cn.amount_gross) == (outcome.invoice_id, Decimal("-3.00"))
