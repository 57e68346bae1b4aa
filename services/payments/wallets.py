"""Wallets: one per customer account, in the organization's currency, moved only through the ledger.

  top-up        available +a   clearing -a
  hold          available -a   held +a        (a session starts)
  capture       held -a        revenue +a     (the session's final cost)
  release       held -a        available +a   (the hold's remainder)
  refund        revenue -a     available +a
  adjustment    available ±a   clearing ∓a    (with a reason)
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session

from core.errors import NotFound
from models import CustomerAccount, LedgerEntry, Organization, Wallet
from models.payment import Bucket
from services.payments.amounts import check_amount
from services.payments.ledger import Line, post


def open_wallet(session: Session, *, customer_account_id: int) -> Wallet:
    """The account's wallet, opened on first use in its organization's currency."""
    account = session.get(CustomerAccount, customer_account_id)
    if account is None:
        raise NotFound("No such customer account.")
    currency = session.get(Organization, account.organization_id).currency
    session.execute(insert(Wallet).values(organization_id=account.organization_id,
                                          customer_account_id=customer_account_id, currency=currency,
                                          balance=0, held=0)
                    .on_conflict_do_nothing(index_elements=["customer_account_id"]))
    return session.execute(select(Wallet).where(Wallet.customer_account_id == customer_account_id)).scalar_one()


def find_wallet(session: Session, customer_account_id: int) -> Wallet | None:
    return session.execute(select(Wallet).where(Wallet.customer_account_id == customer_account_id)).scalar_one_or_none()


def _post(session: Session, wallet: Wallet, lines: list[Line], *, payment_id: int | None, memo: str) -> str:
    return post(session, organization_id=wallet.organization_id, currency=wallet.currency, lines=lines,
                payment_id=payment_id, memo=memo)


def top_up(session: Session, *, wallet: Wallet, amount: object, currency: str, payment_id: int | None = None,
           memo: str = "top-up") -> str:
    a = check_amount(amount, currency, expected_currency=wallet.currency)
    return _post(session, wallet, [Line(Bucket.AVAILABLE, a, wallet.id), Line(Bucket.CLEARING, -a)],
                 payment_id=payment_id, memo=memo)


def hold(session: Session, *, wallet: Wallet, amount: Decimal, payment_id: int | None = None) -> str:
    return _post(session, wallet, [Line(Bucket.AVAILABLE, -amount, wallet.id), Line(Bucket.HELD, amount, wallet.id)],
                 payment_id=payment_id, memo="hold for a session")


def capture(session: Session, *, wallet: Wallet, amount: Decimal, payment_id: int | None = None) -> str:
    return _post(session, wallet, [Line(Bucket.HELD, -amount, wallet.id), Line(Bucket.REVENUE, amount)],
                 payment_id=payment_id, memo="session captured")


def release(session: Session, *, wallet: Wallet, amount: Decimal, payment_id: int | None = None) -> str:
    return _post(session, wallet, [Line(Bucket.HELD, -amount, wallet.id), Line(Bucket.AVAILABLE, amount, wallet.id)],
                 payment_id=payment_id, memo="hold released")


def refund(session: Session, *, wallet: Wallet, amount: Decimal, payment_id: int | None = None,
           memo: str = "refund") -> str:
    return _post(session, wallet, [Line(Bucket.REVENUE, -amount), Line(Bucket.AVAILABLE, amount, wallet.id)],
                 payment_id=payment_id, memo=memo)


def adjust(session: Session, *, wallet: Wallet, amount: object, currency: str, decrease: bool, reason: str) -> str:
    a = check_amount(amount, currency, expected_currency=wallet.currency)
    sign = -1 if decrease else 1
    return _post(session, wallet, [Line(Bucket.AVAILABLE, sign * a, wallet.id), Line(Bucket.CLEARING, -sign * a)],
                 payment_id=None, memo=f"adjustment: {reason}")


@dataclass(frozen=True)
class WalletEntry:
    id: int
    created_at: datetime
    bucket: str
    amount: Decimal
    currency: str
    memo: str
    payment_id: int | None


def history(session: Session, *, wallet_id: int, limit: int = 200) -> list[WalletEntry]:
    rows = session.execute(select(LedgerEntry).where(LedgerEntry.wallet_id == wallet_id)
                           .order_by(LedgerEntry.id.desc()).limit(limit)).scalars()
    return [WalletEntry(e.id, e.created_at, e.bucket, Decimal(e.amount), e.currency, e.memo, e.payment_id)
            for e in rows]


def charge(session: Session, *, wallet: Wallet, amount: Decimal, payment_id: int | None = None) -> str:
    """Take a session's cost above its hold straight from the balance (when the wallet has it)."""
    return _post(session, wallet, [Line(Bucket.AVAILABLE, -amount, wallet.id), Line(Bucket.REVENUE, amount)],
                 payment_id=payment_id, memo="session cost above the hold")
