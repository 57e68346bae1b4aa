"""The ledger: balanced journals, wallets equal to the sums of their entries, never below zero, never edited."""
from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from core.errors import ValidationError
from models import Wallet
from services.payments import ledger, wallets
from services.payments.ledger import InsufficientFunds
from tests.utils.factories import make_org
from tests.utils.payments import make_account, make_wallet

cents = st.integers(min_value=1, max_value=50_000).map(lambda c: Decimal(c) / 100)
ops = st.lists(st.one_of(
    st.tuples(st.just("top_up"), cents),
    st.tuples(st.just("session"), cents, cents),      # hold, final cost
    st.tuples(st.just("refund"), cents),
    st.tuples(st.just("reverse_top_up"), st.integers(min_value=0, max_value=20)),
    st.tuples(st.just("adjust_down"), cents),
), max_size=25)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=ops)
def test_any_sequence_keeps_every_wallet_equal_to_its_entries_and_never_below_zero(session, steps):
    org = make_org(session, currency="EUR")
    wallet = make_wallet(session, org)
    top_ups: list[str] = []
    captured = Decimal(0)
    for step in steps:
        nested = session.begin_nested()
        try:
            if step[0] == "top_up":
                top_ups.append(wallets.top_up(session, wallet=wallet, amount=step[1], currency="EUR"))
            elif step[0] == "session":
                held = min(step[1], Decimal(wallet.balance))
                wallets.hold(session, wallet=wallet, amount=held)
                cost = min(step[2], held)
                wallets.capture(session, wallet=wallet, amount=cost)
                wallets.release(session, wallet=wallet, amount=held - cost)
                captured += cost
            elif step[0] == "refund":
                amount = min(step[1], captured)
                wallets.refund(session, wallet=wallet, amount=amount)
                captured -= amount
            elif step[0] == "reverse_top_up" and top_ups:
                ledger.reverse(session, journal=top_ups[step[1] % len(top_ups)])
            elif step[0] == "adjust_down":
                wallets.adjust(session, wallet=wallet, amount=step[1], currency="EUR", decrease=True, reason="test")
            nested.commit()
        except InsufficientFunds:
            nested.rollback()
        session.refresh(wallet)
        assert wallet.balance >= 0 and wallet.held == 0
        assert ledger.wallet_sums(session, wallet.id) == (wallet.balance, wallet.held)
    session.commit()
    assert ledger.check_wallets(session) == []
    assert ledger.unbalanced_journals(session) == []


def test_a_hold_then_capture_and_release_moves_the_money_once(session):
    org = make_org(session, currency="LKR")
    wallet = make_wallet(session, org, balance="5000.00")
    wallets.hold(session, wallet=wallet, amount=Decimal("1500.00"))
    assert (wallet.balance, wallet.held) == (Decimal("3500.00"), Decimal("1500.00"))
    wallets.capture(session, wallet=wallet, amount=Decimal("1234.56"))
    wallets.release(session, wallet=wallet, amount=Decimal("265.44"))
    session.commit()
    assert (wallet.balance, wallet.held) == (Decimal("3765.44"), Decimal("0"))
    assert ledger.check_wallets(session) == []


@pytest.mark.parametrize("amount", ["0", "-5", "NaN", "Infinity", "abc", "1.001", None])
def test_a_bad_top_up_amount_is_refused_and_writes_nothing(session, amount):
    wallet = make_wallet(session, make_org(session, currency="EUR"))
    with pytest.raises(ValidationError):
        wallets.top_up(session, wallet=wallet, amount=amount, currency="EUR")
    session.rollback()
    assert ledger.wallet_sums(session, wallet.id) == (0, 0)


def test_a_top_up_in_another_currency_is_refused(session):
    wallet = make_wallet(session, make_org(session, currency="EUR"))
    with pytest.raises(ValidationError, match="EUR"):
        wallets.top_up(session, wallet=wallet, amount="10", currency="USD")


def test_a_hold_above_the_balance_is_refused(session):
    wallet = make_wallet(session, make_org(session, currency="EUR"), balance="10.00")
    with pytest.raises(InsufficientFunds):
        wallets.hold(session, wallet=wallet, amount=Decimal("10.01"))
    session.rollback()
    assert session.get(Wallet, wallet.id).balance == Decimal("10.00")


def test_ledger_entries_cannot_be_edited_or_deleted(session):
    wallet = make_wallet(session, make_org(session, currency="EUR"), balance="10.00")
    for statement in ("UPDATE ledger_entry SET amount = 99", "DELETE FROM ledger_entry"):
        with pytest.raises(DBAPIError, match="only reversed"):
            session.execute(text(statement))
        session.rollback()
    assert ledger.wallet_sums(session, wallet.id) == (Decimal("10.00"), 0)


def test_the_check_finds_a_cache_that_drifted_from_the_entries(session):
    wallet = make_wallet(session, make_org(session, currency="EUR"), balance="10.00")
    session.execute(text("UPDATE wallet SET balance = 11 WHERE id = :id"), {"id": wallet.id})
    session.commit()
    [mismatch] = ledger.check_wallets(session)
    assert (mismatch.wallet_id, mismatch.cached_balance, mismatch.ledger_balance) == (wallet.id, 11, 10)


def test_one_wallet_per_account(session):
    org = make_org(session, currency="EUR")
    account = make_account(session, org)
    first = wallets.open_wallet(session, customer_account_id=account.id)
    assert wallets.open_wallet(session, customer_account_id=account.id).id == first.id
    assert first.currency == "EUR"
