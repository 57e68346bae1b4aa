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
