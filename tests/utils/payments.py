"""Factories for the payments tests: customer accounts (made directly, as the customers work will), wallets, cards."""
from __future__ import annotations

import itertools
from decimal import Decimal

from sqlmodel import Session

from models import CustomerAccount, Organization, PaymentCard, Wallet
from services.payments import wallets

_seq = itertools.count(1)


def make_account(session: Session, org: Organization, *, name: str | None = None) -> CustomerAccount:
    account = CustomerAccount(organization_id=org.id, kind="consumer", status="active",
                              name=name or f"Driver {next(_seq)}")
    session.add(account)
    session.commit()
    return account


def make_wallet(session: Session, org: Organization, *, balance: str | None = None,
                account: CustomerAccount | None = None) -> Wallet:
    account = account or make_account(session, org)
    wallet = wallets.open_wallet(session, customer_account_id=account.id)
    if balance is not None:
        wallets.top_up(session, wallet=wallet, amount=Decimal(balance), currency=wallet.currency)
    session.commit()
    return wallet


def make_card(session: Session, account: CustomerAccount, *, brand: str = "visa", bin: str = "411111",
              last4: str = "1111") -> PaymentCard:
    card = PaymentCard(customer_account_id=account.id, brand=brand, bin=bin, last4=last4,
                       token=f"tok_{brand}_{next(_seq)}")
    session.add(card)
    session.commit()
    return card


# --- A whole session through the OCPP service and the worker's payments job -----------------------------------
from datetime import UTC, datetime, timedelta  # noqa: E402

from sqlalchemy import select, update  # noqa: E402

from core.clock import clock  # noqa: E402
from models import Charger, Payment, Transaction  # noqa: E402
from services.ocpp import transactions as ocpp_tx  # noqa: E402
from worker.jobs import payments as payments_job  # noqa: E402

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def start_session(session: Session, charger: Charger, account_id: int, *, at: datetime = T0,
                  meter_start: int = 1000, connector_id: int = 1) -> int:
    clock.set(at)
    result = ocpp_tx.start_transaction(session=session, charger_id=charger.id, connector_id=connector_id,
                                       id_tag="TAG-PAY", meter_start=meter_start, timestamp=at, reservation_id=None,
                                       now=at)
    assert result.created
    # The customers work names the paying account at start; here it is set directly.
    session.execute(update(Transaction).where(Transaction.id == result.transaction_id)
                    .values(customer_account_id=account_id))
    session.commit()
    return result.transaction_id


def stop_session(session: Session, charger: Charger, tx_id: int, *, energy_wh: int, minutes: int = 30,
                 meter_start: int = 1000) -> None:
    tx = session.get(Transaction, tx_id)
    at = tx.started_at + timedelta(minutes=minutes)
    clock.set(at)
    ocpp_tx.stop_transaction(session=session, charger_id=charger.id, transaction_id=tx_id,
                             meter_stop=meter_start + energy_wh, timestamp=at, reason=None, id_tag=None,
                             transaction_data=None, now=at)
    session.commit()


def paid_session(session: Session, charger: Charger, account_id: int, *, energy_wh: int,
                 at: datetime = T0) -> Payment:
    """Start, pay, stop and settle one session; its payment."""
    tx_id = start_session(session, charger, account_id, at=at)
    payments_job()
    stop_session(session, charger, tx_id, energy_wh=energy_wh)
    payments_job()
    session.expire_all()
    return session.execute(select(Payment).where(Payment.transaction_id == tx_id)).scalar_one()
