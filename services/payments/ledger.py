"""The double-entry ledger: every movement is one journal of entries in one currency that sums to zero.

Entries are never edited (a trigger refuses it); a mistake is put right by `reverse`. A wallet's cached
`balance` and `held` move with its entries in the same transaction and never go below zero; `check_wallets`
compares the caches with the sums (a test and the nightly job call it).
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlmodel import Session

from core.errors import ValidationError
from core.money import round_money
from models import LedgerEntry, Wallet
from models.payment import Bucket

WALLET_BUCKETS = (Bucket.AVAILABLE, Bucket.HELD)


@dataclass(frozen=True)
class Line:
    bucket: Bucket
    amount: Decimal
    wallet_id: int | None = None


class InsufficientFunds(ValidationError):
    """A movement would take a wallet's balance or hold below zero."""


def post(session: Session, *, organization_id: int, currency: str, lines: list[Line], payment_id: int | None = None,
         memo: str = "", journal: str | None = None) -> str:
    """Write one balanced journal and move the wallets' caches with it. Returns the journal id."""
    lines = [ln for ln in lines if ln.amount != 0]
    if not lines:
        return ""
    for ln in lines:
        if ln.amount != round_money(ln.amount, currency):
            raise ValidationError(f"{ln.amount} has more decimals than {currency} allows.", "amount")
        if (ln.wallet_id is not None) != (ln.bucket in WALLET_BUCKETS):
            raise ValueError(f"ledger line {ln} names a wallet only for wallet buckets")
    if sum((ln.amount for ln in lines), Decimal(0)) != 0:
        raise ValueError(f"unbalanced journal: {lines}")
    journal = journal or uuid.uuid4().hex
    wallet_ids = sorted({ln.wallet_id for ln in lines if ln.wallet_id is not None})
    # Locked in id order, so two journals on the same wallets cannot deadlock.
    wallets = {w.id: w for w in session.execute(
        select(Wallet).where(Wallet.id.in_(wallet_ids)).order_by(Wallet.id).with_for_update()).scalars()}
    for ln in lines:
        if ln.wallet_id is None:
            continue
        w = wallets[ln.wallet_id]
        if w.currency != currency:
            raise ValidationError(f"The wallet holds {w.currency}, not {currency}.", "currency")
        if ln.bucket == Bucket.AVAILABLE:
            w.balance = Decimal(w.balance) + ln.amount
        else:
            w.held = Decimal(w.held) + ln.amount
        if w.balance < 0:
            raise InsufficientFunds("The wallet's balance is too low for this.", "amount")
        if w.held < 0:
            raise ValueError(f"wallet {w.id} would hold less than nothing")
    for w in wallets.values():
        session.add(w)
    for ln in lines:
        session.add(LedgerEntry(journal=journal, organization_id=organization_id, wallet_id=ln.wallet_id,
                                payment_id=payment_id, bucket=ln.bucket, currency=currency, amount=ln.amount,
                                memo=memo[:200]))
    session.flush()
    return journal


def reverse(session: Session, *, journal: str, memo: str = "") -> str:
    """Post the mirror image of a journal (the only way to undo one)."""
    entries = session.execute(select(LedgerEntry).where(LedgerEntry.journal == journal)).scalars().all()
    if not entries:
        raise ValidationError("There is no such ledger journal.", "journal")
    first = entries[0]
    return post(session, organization_id=first.organization_id, currency=first.currency,
                payment_id=first.payment_id, memo=memo or f"reversal of {journal}",
                lines=[Line(Bucket(e.bucket), -Decimal(e.amount), e.wallet_id) for e in entries])


def wallet_sums(session: Session, wallet_id: int) -> tuple[Decimal, Decimal]:
    """(available, held) from the entries themselves."""
    rows = dict(session.execute(
        select(LedgerEntry.bucket, func.sum(LedgerEntry.amount)).where(LedgerEntry.wallet_id == wallet_id)
        .group_by(LedgerEntry.bucket)).all())
    return Decimal(rows.get(Bucket.AVAILABLE, 0)), Decimal(rows.get(Bucket.HELD, 0))


@dataclass(frozen=True)
class WalletMismatch:
    wallet_id: int
    cached_balance: Decimal
    ledger_balance: Decimal
    cached_held: Decimal
    ledger_held: Decimal


def check_wallets(session: Session) -> list[WalletMismatch]:
    """Every wallet whose cached balance or hold differs from the sum of its ledger entries."""
    sums = (select(LedgerEntry.wallet_id,
                   func.coalesce(func.sum(LedgerEntry.amount).filter(LedgerEntry.bucket == Bucket.AVAILABLE), 0)
                   .label("available"),
                   func.coalesce(func.sum(LedgerEntry.amount).filter(LedgerEntry.bucket == Bucket.HELD), 0)
                   .label("held"))
            .where(LedgerEntry.wallet_id.is_not(None)).group_by(LedgerEntry.wallet_id).subquery())
    rows = session.execute(
        select(Wallet.id, Wallet.balance, func.coalesce(sums.c.available, 0), Wallet.held,
               func.coalesce(sums.c.held, 0))
        .outerjoin(sums, sums.c.wallet_id == Wallet.id)).all()
    return [WalletMismatch(r[0], r[1], r[2], r[3], r[4]) for r in rows if r[1] != r[2] or r[3] != r[4]]


def unbalanced_journals(session: Session) -> list[str]:
    """Journals whose entries do not sum to zero (there should be none)."""
    return list(session.execute(select(LedgerEntry.journal).group_by(LedgerEntry.journal)
                                .having(func.sum(LedgerEntry.amount) != 0)).scalars())


def card_captured(session: Session, *, organization_id: int, currency: str, amount: Decimal, payment_id: int) -> str:
    """A card capture: the gateway owes us (clearing) what the customer paid for charging (revenue)."""
    return post(session, organization_id=organization_id, currency=currency, payment_id=payment_id,
                memo="card captured", lines=[Line(Bucket.CLEARING, -amount), Line(Bucket.REVENUE, amount)])


def card_refunded(session: Session, *, organization_id: int, currency: str, amount: Decimal, payment_id: int) -> str:
    return post(session, organization_id=organization_id, currency=currency, payment_id=payment_id,
                memo="card refunded", lines=[Line(Bucket.REVENUE, -amount), Line(Bucket.CLEARING, amount)])


@dataclass(frozen=True)
class BookImbalance:
    organization_id: int
    currency: str
    total: Decimal


def unbalanced_books(session: Session) -> list[BookImbalance]:
    """Organizations and currencies whose ledger entries, over every account, do not sum to zero."""
    rows = session.execute(select(LedgerEntry.organization_id, LedgerEntry.currency, func.sum(LedgerEntry.amount))
                           .group_by(LedgerEntry.organization_id, LedgerEntry.currency)
                           .having(func.sum(LedgerEntry.amount) != 0)
                           .order_by(LedgerEntry.organization_id, LedgerEntry.currency)).all()
    return [BookImbalance(org, cur, Decimal(total)) for org, cur, total in rows]


@dataclass(frozen=True)
class LedgerCheck:
    books: list[BookImbalance]
    journals: list[str]
    wallets: list[WalletMismatch]

    @property
    def ok(self) -> bool:
        return not (self.books or self.journals or self.wallets)


def check_ledger(session: Session) -> LedgerCheck:
    """The nightly check: every account sums to zero per organization and currency, every journal balances, every
    wallet's cached balance and hold equal the sums of its entries."""
    return LedgerCheck(unbalanced_books(session), unbalanced_journals(session), check_wallets(session))
