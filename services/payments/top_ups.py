"""A customer tops up its wallet by card through a gateway, from the customer portal.

The portal gives each top-up form a key of its own (a random hex string); the payment's reference is derived from
the account and that key, so a retried request (a double click, a lost answer) finds the same payment and never
charges twice. The gateway is called with that reference: authorize, then capture the whole amount, each carrying
its idempotency reference; a call that timed out is resolved by a query first. Everything happens in one database
transaction: if it fails half-way, the retry repeats the same calls, which the gateway answers as before.

Ledger (double entry): available +a (the wallet), clearing -a (the gateway owes it to us).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session

from core.config import get_settings
from core.errors import NotFound, ValidationError
from core.money import round_money
from models import Payment, PaymentCard, PaymentGateway
from models.payment import PaymentMethod, PaymentPurpose, PaymentStatus
from services.access.permissions import PermissionDenied
from services.access.scope import Scope
from services.payments import routing, wallets
from services.payments.amounts import check_amount
from services.payments.calls import call, happened
from services.payments.gateway_config import adapter_for
from services.payments.gateways.base import Answer, GatewayError, GatewayTimeout, GatewayUnavailable, Outcome
from services.payments.records import event, op_reference, set_status

_KEY = re.compile(r"^[0-9a-f]{16,32}$")
MAX_TOP_UP = Decimal("1000000")


@dataclass(frozen=True)
class TopUpResult:
    payment_id: int
    status: str               # captured, or declined
    amount: Decimal
    currency: str
    balance: Decimal          # the wallet's balance after it
    message: str
    repeated: bool            # the same key again: the first answer, nothing charged


def top_up_reference(account_id: int, key: str) -> str:
    return f"{get_settings().payments_reference_prefix}-W{account_id}-{key}"


@dataclass(frozen=True)
class SavedCard:
    id: int
    brand: str
    last4: str


def saved_cards(*, session: Session, scope: Scope, account_id: int) -> list[SavedCard]:
    """The account's saved cards that can pay a top-up (not fuel cards)."""
    _own_account(scope, account_id)
    rows = session.execute(select(PaymentCard).where(PaymentCard.customer_account_id == account_id,
                                                     PaymentCard.brand != routing.FUEL_CARD)
                           .order_by(PaymentCard.is_default.desc(), PaymentCard.id)).scalars()
    return [SavedCard(c.id, c.brand, c.last4) for c in rows]


def _own_account(scope: Scope, account_id: int) -> None:
    if not scope.is_customer or account_id not in (scope.customer_account_ids or ()):
        raise PermissionDenied("Only the customer tops up its own wallet.")


def card_top_up(*, session: Session, scope: Scope, account_id: int, card_id: int, amount: object,
                key: str) -> TopUpResult:
    _own_account(scope, account_id)
    if not _KEY.match(key or ""):
        raise ValidationError("The form has expired; reload the page.", "key")
    wallet = wallets.open_wallet(session, customer_account_id=account_id)
    value = check_amount(amount, wallet.currency, expected_currency=wallet.currency)
    if value > MAX_TOP_UP:
        raise ValidationError(f"A top-up is at most {MAX_TOP_UP} {wallet.currency}.", "amount")
    card = session.execute(select(PaymentCard).where(PaymentCard.id == card_id,
                                                     PaymentCard.customer_account_id == account_id,
                                                     PaymentCard.brand != routing.FUEL_CARD)).scalar_one_or_none()
    if card is None:
        raise NotFound("No such saved card.")
    reference = top_up_reference(account_id, key)
    # Once per key: a second request with the same key waits here for the first to commit, then finds it.
    session.execute(insert(Payment).values(
        organization_id=wallet.organization_id, customer_account_id=account_id, wallet_id=wallet.id,
        purpose=PaymentPurpose.TOP_UP, method=PaymentMethod.CARD, gateway="pending", status=PaymentStatus.PENDING,
        currency=wallet.currency, reference=reference, card_token=card.token, card_last4=card.last4,
        amount_authorized=0, amount_captured=0, amount_refunded=0).on_conflict_do_nothing(index_elements=["reference"]))
    payment = session.execute(select(Payment).where(Payment.reference == reference).with_for_update()).scalar_one()
    if payment.status != PaymentStatus.PENDING:
        if payment.customer_account_id != account_id:
            raise ValidationError("The form has expired; reload the page.", "key")
        session.refresh(wallet)
        return TopUpResult(payment.id, payment.status, round_money(Decimal(payment.amount_captured or value),
                                                                    payment.currency),
                           payment.currency, round_money(Decimal(wallet.balance), wallet.currency),
                           payment.note or "", True)
    answer, g = _authorize(session, payment, card, value)
    if answer.outcome == Outcome.DECLINED:
        payment.note = f"Declined: {answer.message}"[:500]
        event(session, payment, "declined", amount=value, gateway_reference=answer.gateway_reference,
              detail=answer.message)
        set_status(session, payment, PaymentStatus.DECLINED)
        return TopUpResult(payment.id, payment.status, value, payment.currency,
                           round_money(Decimal(wallet.balance), wallet.currency), payment.note, False)
    payment.gateway_reference = answer.gateway_reference
    payment.amount_authorized = value
    event(session, payment, "authorized", amount=value, gateway_reference=answer.gateway_reference,
          detail=f"{g.gateway} authorization for a wallet top-up")
    _capture(session, payment, g, value)
    payment.amount_captured = value
    event(session, payment, "captured", amount=value, detail="credited to the wallet")
    wallets.top_up(session, wallet=wallet, amount=value, currency=wallet.currency, payment_id=payment.id,
                   memo=f"card top-up •••• {card.last4}")
    set_status(session, payment, PaymentStatus.CAPTURED)
    session.refresh(wallet)
    return TopUpResult(payment.id, payment.status, value, payment.currency,
                       round_money(Decimal(wallet.balance), wallet.currency), "", False)


def _authorize(session: Session, payment: Payment, card: PaymentCard, value: Decimal
               ) -> tuple[Answer, PaymentGateway]:
    routes = routing.routes(session, organization_id=payment.organization_id, method=card.brand, bin=card.bin,
                            currency=payment.currency, amount=value)
    if not routes:
        raise ValidationError("Card payments are not available right now; try again later.", "card")
    for g in routes:
        payment.payment_gateway_id, payment.gateway = g.id, g.gateway
        session.add(payment)
        try:
            answer = call(g.id, "authorize", lambda g=g: adapter_for(g).authorize(
                reference=payment.reference, amount=value, currency=payment.currency, token=payment.card_token or ""),
                payment_id=payment.id, per_second=g.rate_limit_per_second)
        except GatewayUnavailable as exc:
            event(session, payment, "unavailable", detail=f"{g.gateway}: {exc}; trying the next gateway")
            continue
        except GatewayError as exc:
            raise ValidationError(f"The card payment was refused: {exc}", "card") from None
        except GatewayTimeout:
            status = call(g.id, "query", lambda g=g: adapter_for(g).query(reference=payment.reference,
                                                                           gateway_reference=None),
                          payment_id=payment.id, per_second=g.rate_limit_per_second)
            if not status.found:
                continue
            answer = Answer(Outcome.APPROVED, status.gateway_reference, None, status.authorized, "found by query")
        return answer, g
    raise ValidationError("The card payment could not be made now; nothing was charged. Try again.", "card")


def _capture(session: Session, payment: Payment, g: PaymentGateway, value: Decimal) -> None:
    adapter = adapter_for(g)
    op_ref = op_reference(payment, "capture")
    try:
        answer = call(g.id, "capture", lambda: adapter.capture(
            reference=payment.reference, op_reference=op_ref, gateway_reference=payment.gateway_reference or "",
            amount=value, currency=payment.currency), payment_id=payment.id, per_second=g.rate_limit_per_second)
    except GatewayTimeout:
        status = call(g.id, "query", lambda: adapter.query(reference=op_ref,
                                                           gateway_reference=payment.gateway_reference),
                      payment_id=payment.id, per_second=g.rate_limit_per_second)
        if not happened(status, op_ref):
            raise ValidationError("The card payment did not complete; try again (you will not be charged twice).",
                                  "card") from None
        return
    except (GatewayUnavailable, GatewayError):
        raise ValidationError("The card payment did not complete; try again (you will not be charged twice).",
                              "card") from None
    if answer.outcome == Outcome.DECLINED:
        raise ValidationError(f"The card payment was declined at capture: {answer.message}", "card")


@dataclass(frozen=True)
class MyWallet:
    wallet_id: int
    currency: str
    balance: Decimal
    held: Decimal
    history: list[wallets.WalletEntry]
    cards: list[SavedCard]


def my_wallet(*, session: Session, scope: Scope, account_id: int, limit: int = 20) -> MyWallet:
    """A customer's own wallet: balance, money held for running sessions, recent entries, cards to top up with."""
    _own_account(scope, account_id)
    wallet = wallets.open_wallet(session, customer_account_id=account_id)
    return MyWallet(wallet.id, wallet.currency, round_money(Decimal(wallet.balance), wallet.currency),
                    round_money(Decimal(wallet.held), wallet.currency),
                    [e for e in wallets.history(session, wallet_id=wallet.id, limit=limit)
                     if e.bucket == "available"],
                    saved_cards(session=session, scope=scope, account_id=account_id))
