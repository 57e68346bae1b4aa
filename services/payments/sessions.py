"""The money path around a charging session, off the OCPP event loop.

StartTransaction and StopTransaction each write a `payment_intent` row inside the Start/Stop's own database
transaction (`enqueue`: one INSERT, no commit of its own); the worker takes the intents in order and does the rest:
- start: an account with a default card is pre-authorized for the hold through the routed gateway; otherwise
  its wallet holds the hold (or what it has). A declined card or an empty wallet stops the session.
- stop: the session's final price is captured (card) or taken from the hold (wallet); the hold's remainder is
  released; a card session that delivered no energy is voided.
- running wallet sessions whose estimated cost reaches their hold are stopped (`exhausted`), once, and the
  customer is told.
Sessions without a customer account are not paid here (their intents are marked done).
A gateway call that timed out is resolved by a query before anything else; every call carries references
derived from the session id, so a retry never charges twice.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select, text
from sqlmodel import Session

from core.clock import utcnow
from core.config import get_settings
from core.db import SYSTEM, session_scope
from core.money import round_money
from models import Charger, Organization, Payment, PaymentCard, PaymentGateway, PaymentIntent, Tariff, Transaction
from models.payment import IntentStatus, PaymentMethod, PaymentPurpose, PaymentStatus
from models.transaction import TransactionStatus
from services.charging.pricing import resolve_tariff
from services.payments import ledger, routing, wallets
from services.payments.calls import call, happened
from services.payments.gateway_config import adapter_for
from services.payments.gateways.base import (
    Answer,
    GatewayError,
    GatewayTimeout,
    GatewayUnavailable,
    Outcome,
)
from services.payments.notices import tell_customer
from services.payments.records import event, op_reference, session_reference, set_status
from services.payments.routing import FUEL_CARD

log = logging.getLogger("payments")
MAX_ATTEMPTS = 20


# Plain SQL on the session's connection: the same transaction as the Start/Stop, a quarter of the CPU of the
# ORM statement (bench/payments.py), and no autoflush of the stop's own rows charged to the money path.
_ENQUEUE = text("INSERT INTO payment_intent (transaction_id, action, status, attempts) VALUES (:tx, :action, "
                f"'{IntentStatus.PENDING.value}', 0) ON CONFLICT ON CONSTRAINT uq_payment_intent DO NOTHING")


def enqueue(*, session: Session, transaction_id: int, action: str) -> None:
    """Write the session's payment intent with the Start/StopTransaction (same transaction, no commit; once)."""
    session.connection().execute(_ENQUEUE, {"tx": transaction_id, "action": action})


@dataclass(frozen=True)
class StopRequest:
    """A session to stop with RemoteStopTransaction (the worker sends it through the command channel)."""
    charger_id: int
    transaction_id: int
    reason: str


# ------------------------------------------------------------------------------------------- amounts


def estimate(tariff: Tariff | None, org: Organization, *, kwh: Decimal, minutes: Decimal) -> Decimal:
    """The tariff's price of `kwh` over `minutes`, taxes included (a hold, or a running session's cost so far).
    Time-of-day bands are not applied: a hold is an upper estimate, and the capture uses the real price."""
    if tariff is None:
        return Decimal(0)
    prices = [Decimal(tariff.price_per_kwh)] + [Decimal(b.get("price_per_kwh", 0)) for b in tariff.bands or []]
    subtotal = Decimal(tariff.session_fee) + kwh * max(prices) + minutes * Decimal(tariff.price_per_minute)
    if not tariff.vat_inclusive:
        subtotal *= 1 + (Decimal(org.vat_rate) + Decimal(org.ssc_levy_rate)) / 100
    return round_money(subtotal, org.currency)


def hold_size(session: Session, tx: Transaction) -> Decimal:
    settings = get_settings()
    charger = session.get(Charger, tx.charger_id)
    org = session.get(Organization, tx.organization_id)
    return estimate(resolve_tariff(session, charger, org), org, kwh=Decimal(settings.payments_hold_kwh),
                    minutes=Decimal(settings.payments_hold_minutes))


# ------------------------------------------------------------------------------------------- the worker


def pending_intents(*, session: Session, limit: int = 200) -> list[int]:
    """The intents to take one by one, oldest first, after closing in one statement those of sessions no
    customer account pays (most sessions of a network without customer accounts)."""
    session.execute(text(
        "UPDATE payment_intent SET status = 'done', done_at = now() FROM charging_session cs"
        " WHERE cs.id = payment_intent.transaction_id AND cs.customer_account_id IS NULL"
        " AND payment_intent.status = 'pending'"))
    return list(session.execute(select(PaymentIntent.id).where(PaymentIntent.status == IntentStatus.PENDING)
                                .order_by(PaymentIntent.id).limit(limit)).scalars())


def process_intent(intent_id: int) -> list[StopRequest]:
    """Do one intent in its own transaction (locked, so two workers never do it twice); the worker's job."""
    with session_scope(SYSTEM) as session:
        intent = session.execute(select(PaymentIntent).where(PaymentIntent.id == intent_id,
                                                             PaymentIntent.status == IntentStatus.PENDING)
                                 .with_for_update(skip_locked=True)).scalar_one_or_none()
        if intent is None:
            return []
        tx = session.execute(select(Transaction).where(Transaction.id == intent.transaction_id)
                             .with_for_update()).scalar_one()
        intent.attempts += 1
        stops: list[StopRequest] = []
        try:
            if intent.action == "stop":
                start = session.execute(select(PaymentIntent).where(
                    PaymentIntent.transaction_id == tx.id, PaymentIntent.action == "start",
                    PaymentIntent.status == IntentStatus.PENDING).with_for_update()).scalar_one_or_none()
                if start is not None:  # the stop overtook its start: take the start first
                    stops += _start(session, tx)
                    _done(start)
                done = _stop(session, tx)
            else:
                stops += _start(session, tx)
                done = True
        except (GatewayUnavailable, GatewayTimeout, GatewayError) as exc:
            intent.last_error = str(exc)[:500]
            done = False
        if done:
            _done(intent)
        elif intent.attempts >= MAX_ATTEMPTS:
            intent.status = IntentStatus.FAILED
            log.warning("payment intent %s (%s of session %s) failed: %s", intent.id, intent.action, tx.id,
                        intent.last_error)
        session.add(intent)
        return stops


def _done(intent: PaymentIntent) -> None:
    intent.status = IntentStatus.DONE
    intent.done_at = utcnow()


def session_payment(session: Session, transaction_id: int) -> Payment | None:
    return session.execute(select(Payment).where(Payment.transaction_id == transaction_id,
                                                 Payment.purpose == PaymentPurpose.SESSION)
                           .with_for_update()).scalar_one_or_none()


def _start(session: Session, tx: Transaction) -> list[StopRequest]:
    if tx.customer_account_id is None:
        return []
    payment = session_payment(session, tx.id)
    if payment is not None and payment.status != PaymentStatus.PENDING:
        return []
    card = paying_card(session, tx)
    amount = hold_size(session, tx)
    if payment is None:
        method = PaymentMethod.WALLET if card is None else (
            PaymentMethod.FUEL_CARD if card.brand == FUEL_CARD else PaymentMethod.CARD)
        payment = Payment(organization_id=tx.organization_id, customer_account_id=tx.customer_account_id,
                          transaction_id=tx.id, purpose=PaymentPurpose.SESSION, method=method,
                          gateway="pending" if card else "wallet", currency=tx.currency,
                          reference=session_reference(tx.id), card_token=card.token if card else None,
                          card_last4=card.last4 if card else None)
        session.add(payment)
        session.flush()
    if payment.method == PaymentMethod.WALLET:
        return _start_wallet(session, tx, payment, amount)
    return _start_card(session, tx, payment, card, amount)


def paying_card(session: Session, tx: Transaction) -> PaymentCard | None:
    """The card that pays a session: a Dialog fuel card whose UID is the session's idTag, else the account's
    default card; None means the wallet pays."""
    fuel = session.execute(select(PaymentCard).where(
        PaymentCard.customer_account_id == tx.customer_account_id, PaymentCard.brand == FUEL_CARD,
        PaymentCard.token == tx.id_tag)).scalars().first()
    if fuel is not None:
        return fuel
    return session.execute(select(PaymentCard).where(PaymentCard.customer_account_id == tx.customer_account_id,
                                                     PaymentCard.is_default.is_(True),
                                                     PaymentCard.brand != FUEL_CARD)
                           .order_by(PaymentCard.id.desc())).scalars().first()


def _start_wallet(session: Session, tx: Transaction, payment: Payment, amount: Decimal) -> list[StopRequest]:
    wallet = wallets.open_wallet(session, customer_account_id=tx.customer_account_id)
    held = min(amount, Decimal(wallet.balance))
    payment.wallet_id = wallet.id
    if held <= 0:
        payment.note = "The wallet was empty when the session started."
        event(session, payment, "declined", amount=Decimal(0), detail=payment.note)
        set_status(session, payment, PaymentStatus.DECLINED)
        tell_customer(session, organization_id=tx.organization_id, customer_account_id=tx.customer_account_id,
                      kind="wallet_empty", message="Your wallet is empty; the charging session was stopped.",
                      payment_id=payment.id, transaction_id=tx.id)
        return [StopRequest(tx.charger_id, tx.id, "wallet empty")] if tx.status == TransactionStatus.ACTIVE else []
    wallets.hold(session, wallet=wallet, amount=held, payment_id=payment.id)
    payment.amount_authorized = held
    event(session, payment, "authorized", amount=held, detail="wallet hold")
    set_status(session, payment, PaymentStatus.AUTHORIZED)
    return []


def _start_card(session: Session, tx: Transaction, payment: Payment, card: PaymentCard | None,
                amount: Decimal) -> list[StopRequest]:
    org_id = tx.organization_id
    # A call that timed out earlier is resolved at that gateway before any other is tried.
    if payment.payment_gateway_id is not None:
        g = session.get(PaymentGateway, payment.payment_gateway_id)
        status = call(g.id, "query", lambda: adapter_for(g).query(reference=payment.reference,
                                                                   gateway_reference=None),
                      payment_id=payment.id, per_second=g.rate_limit_per_second)
        if status.found:
            return _authorized(session, payment, g, Answer(Outcome.APPROVED, status.gateway_reference,
                                                           None, status.authorized, "found by query"))
    routes = routing.routes(session, organization_id=org_id, method=card.brand if card else "visa",
                            bin=card.bin if card else None, currency=tx.currency, amount=amount)
    if not routes:
        raise GatewayUnavailable("no gateway takes this payment now (none configured, or every circuit open)")
    for g in routes:
        payment.payment_gateway_id, payment.gateway = g.id, g.gateway
        session.add(payment)
        try:
            answer = call(g.id, "authorize", lambda g=g: adapter_for(g).authorize(
                reference=payment.reference, amount=amount, currency=tx.currency, token=payment.card_token or ""),
                payment_id=payment.id, per_second=g.rate_limit_per_second)
        except GatewayUnavailable as exc:
            event(session, payment, "unavailable", detail=f"{g.gateway}: {exc}; trying the next gateway")
            continue
        except GatewayTimeout:
            event(session, payment, "timeout", detail=f"{g.gateway}: no answer; resolving by query")
            status = call(g.id, "query", lambda g=g: adapter_for(g).query(reference=payment.reference,
                                                                           gateway_reference=None),
                          payment_id=payment.id, per_second=g.rate_limit_per_second)
            if not status.found:
                continue
            answer = Answer(Outcome.APPROVED, status.gateway_reference, None, status.authorized, "found by query")
        if answer.outcome == Outcome.DECLINED:
            event(session, payment, "declined", amount=amount, gateway_reference=answer.gateway_reference,
                  detail=answer.message)
            set_status(session, payment, PaymentStatus.DECLINED)
            tell_customer(session, organization_id=org_id, customer_account_id=tx.customer_account_id,
                          kind="card_declined", message=f"Your {_card_word(payment)} was declined"
                          f" ({answer.message}); the charging session was stopped.",
                          payment_id=payment.id, transaction_id=tx.id)
            return [StopRequest(tx.charger_id, tx.id, "card declined")] if tx.status == "active" else []
        return _authorized(session, payment, g, answer)
    raise GatewayUnavailable("every gateway for this payment is unavailable")


def _card_word(payment: Payment) -> str:
    return "fuel card" if payment.method == PaymentMethod.FUEL_CARD else "card"


def _authorized(session: Session, payment: Payment, g: PaymentGateway, answer: Answer) -> list[StopRequest]:
    payment.payment_gateway_id, payment.gateway = g.id, g.gateway
    payment.gateway_reference = answer.gateway_reference
    payment.amount_authorized = answer.amount or Decimal(0)
    event(session, payment, "authorized", amount=payment.amount_authorized,
          gateway_reference=answer.gateway_reference, detail=f"{g.gateway} pre-authorization")
    set_status(session, payment, PaymentStatus.AUTHORIZED)
    return []


def _stop(session: Session, tx: Transaction) -> bool:
    """Settle a stopped session; False to try again later (not priced yet)."""
    if tx.customer_account_id is None or tx.status != TransactionStatus.COMPLETED:
        return tx.customer_account_id is None
    payment = session_payment(session, tx.id)
    if payment is None or payment.status != PaymentStatus.AUTHORIZED:
        return True  # declined, already settled, or nothing to settle
    cost = round_money(Decimal(tx.amount_gross or 0), tx.currency)
    if payment.method == PaymentMethod.WALLET:
        _stop_wallet(session, tx, payment, cost)
    else:
        _stop_card(session, tx, payment, cost)
    return True


def _stop_wallet(session: Session, tx: Transaction, payment: Payment, cost: Decimal) -> None:
    wallet = wallets.open_wallet(session, customer_account_id=tx.customer_account_id)
    held = Decimal(payment.amount_authorized)
    from_hold = min(cost, held)
    if from_hold:
        wallets.capture(session, wallet=wallet, amount=from_hold, payment_id=payment.id)
    if held - from_hold:
        wallets.release(session, wallet=wallet, amount=held - from_hold, payment_id=payment.id)
        event(session, payment, "released", amount=held - from_hold, detail="the hold's remainder")
    session.refresh(wallet)
    extra = min(cost - from_hold, Decimal(wallet.balance))
    if extra > 0:
        wallets.charge(session, wallet=wallet, amount=extra, payment_id=payment.id)
    payment.amount_captured = from_hold + extra
    if cost > payment.amount_captured:
        payment.note = f"{cost - payment.amount_captured} of the session's {cost} was left unpaid."
    event(session, payment, "captured", amount=payment.amount_captured, detail=payment.note or "")
    set_status(session, payment, PaymentStatus.CAPTURED)


def _stop_card(session: Session, tx: Transaction, payment: Payment, cost: Decimal) -> None:
    g = session.get(PaymentGateway, payment.payment_gateway_id)
    adapter = adapter_for(g)
    void = (tx.energy_wh or 0) == 0 or cost == 0
    op = "void" if void else "capture"
    op_ref = op_reference(payment, op)
    amount = Decimal(payment.amount_authorized) if void else min(cost, Decimal(payment.amount_authorized))
    fn = adapter.void if void else adapter.capture
    try:
        answer = call(g.id, op, lambda: fn(reference=payment.reference, op_reference=op_ref,
                                           gateway_reference=payment.gateway_reference, amount=amount,
                                           currency=payment.currency),
                      payment_id=payment.id, per_second=g.rate_limit_per_second)
    except GatewayTimeout:
        status = call(g.id, "query", lambda: adapter.query(reference=op_ref,
                                                           gateway_reference=payment.gateway_reference),
                      payment_id=payment.id, per_second=g.rate_limit_per_second)
        if not happened(status, op_ref):
            raise
        answer = Answer(Outcome.APPROVED, payment.gateway_reference, op_ref, amount, "found by query")
    if answer.outcome == Outcome.DECLINED:
        raise GatewayError(f"{g.gateway} declined the {op}: {answer.message}")
    if void:
        event(session, payment, "voided", amount=amount, gateway_reference=answer.operation_reference,
              detail="the session delivered no energy")
        set_status(session, payment, PaymentStatus.VOIDED)
        return
    payment.amount_captured = amount
    ledger.card_captured(session, organization_id=payment.organization_id, currency=payment.currency, amount=amount,
                         payment_id=payment.id)
    if cost > amount:
        payment.note = f"{cost - amount} of the session's {cost} was above the pre-authorization."
    event(session, payment, "captured", amount=amount, gateway_reference=answer.operation_reference)
    set_status(session, payment, PaymentStatus.CAPTURED)


# ------------------------------------------------------------------------------------------- running out

_LAST_ENERGY = text(
    "SELECT CASE WHEN unit = 'kWh' THEN value * 1000 ELSE value END FROM meter_value"
    " WHERE transaction_id = :tx AND measurand = 'Energy.Active.Import.Register' AND phase IS NULL"
    " ORDER BY timestamp DESC, id DESC LIMIT 1")


def exhausted(session: Session) -> list[StopRequest]:
    """Running wallet and fuel card sessions whose estimated cost has used up their hold: asked to stop once,
    customer told."""
    rows = session.execute(
        select(Payment, Transaction).join(Transaction, Transaction.id == Payment.transaction_id)
        .where(Payment.method.in_((PaymentMethod.WALLET, PaymentMethod.FUEL_CARD)),
               Payment.status == PaymentStatus.AUTHORIZED,
               Payment.stop_requested_at.is_(None), Transaction.status == TransactionStatus.ACTIVE)
        .with_for_update(of=Payment, skip_locked=True)).all()
    now = utcnow()
    stops = []
    for payment, tx in rows:
        reading = session.execute(_LAST_ENERGY, {"tx": tx.id}).scalar()
        kwh = max(Decimal(reading or tx.meter_start) - tx.meter_start, Decimal(0)) / 1000
        minutes = Decimal(max((now - tx.started_at).total_seconds(), 0)) / 60
        org = session.get(Organization, tx.organization_id)
        cost = estimate(resolve_tariff(session, session.get(Charger, tx.charger_id), org), org, kwh=kwh,
                        minutes=minutes)
        if cost < payment.amount_authorized:
            continue
        payment.stop_requested_at = now
        session.add(payment)
        event(session, payment, "ran_out", amount=cost, detail="the hold is used up; RemoteStopTransaction sent")
        what = "fuel card" if payment.method == PaymentMethod.FUEL_CARD else "wallet"
        tell_customer(session, organization_id=tx.organization_id, customer_account_id=tx.customer_account_id,
                      kind=f"{what.replace(' ', '_')}_ran_out",
                      message=f"Your {what} ran out; the charging session was stopped.",
                      payment_id=payment.id, transaction_id=tx.id)
        stops.append(StopRequest(tx.charger_id, tx.id, f"{what} ran out"))
    return stops
