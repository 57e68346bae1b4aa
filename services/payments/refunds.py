"""Refunds: full or partial, repeated up to the captured amount, with a reason; above
PAYMENTS_REFUND_APPROVAL_ABOVE a second user approves. A wallet payment is refunded to the wallet (a ledger
entry); a card payment through its gateway, its state then following the gateway's answer and webhooks.
An uncaptured payment is voided, not refunded (`void_payment`).
A refund that completes (a wallet refund at once, a card refund when the gateway confirms it) is credited on the
partner invoice that includes its session, in the same transaction (services/billing/refund_credits.py)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlmodel import Session

from core.clock import utcnow
from core.config import get_settings
from core.errors import ValidationError
from core.money import round_money
from core.validation import check_text
from models import Payment, PaymentGateway, Refund
from models.payment import PaymentMethod, PaymentStatus, RefundStatus
from services.access.permissions import Cap
from services.access.scope import Scope
from services.billing.refund_credits import credit_refund, refund_credit_notes
from services.payments import ledger, wallets
from services.payments.amounts import check_amount
from services.payments.calls import call
from services.payments.gateway_config import adapter_for
from services.payments.gateways.base import GatewayError, GatewayTimeout, GatewayUnavailable, Outcome
from services.payments.notices import tell_customer
from services.payments.queries import payment_in_scope
from services.payments.records import event, op_reference, set_status

REASON_MAX = 500
OPEN = (RefundStatus.AWAITING_APPROVAL, RefundStatus.PENDING, RefundStatus.SUCCEEDED)


@dataclass(frozen=True)
class RefundRow:
    id: int
    payment_id: int
    transaction_id: int | None
    amount: Decimal
    currency: str
    reason: str
    status: str
    reference: str
    message: str | None
    created_at: datetime
    credit_note_id: int | None = None  # the partial credit note on the session's invoice, once credited
    credit_note_number: str | None = None


def row(r: Refund, credit_note: tuple[int, str] | None = None) -> RefundRow:
    cn_id, cn_number = credit_note or (None, None)
    return RefundRow(r.id, r.payment_id, r.transaction_id, round_money(Decimal(r.amount), r.currency), r.currency,
                     r.reason, r.status, r.reference, r.message, r.created_at, cn_id, cn_number)


def _row(session: Session, r: Refund) -> RefundRow:
    return row(r, refund_credit_notes(session, [r.id]).get(r.id))


def refundable(session: Session, payment: Payment) -> Decimal:
    """What can still be refunded: captured less every refund not failed or rejected."""
    taken = session.execute(select(func.coalesce(func.sum(Refund.amount), 0)).where(
        Refund.payment_id == payment.id, Refund.status.in_(OPEN))).scalar_one()
    return round_money(Decimal(payment.amount_captured) - Decimal(taken), payment.currency)


def request_refund(*, session: Session, scope: Scope, user_id: int | None, payment_id: int, amount: object,
                   reason: str) -> RefundRow:
    scope.require(Cap.MANAGE_PAYMENTS)
    payment = payment_in_scope(session, scope, payment_id, lock=True)
    reason = check_text((reason or "").strip(), "reason")
    if not reason:
        raise ValidationError("Give a reason for the refund.", "reason")
    if len(reason) > REASON_MAX:
        raise ValidationError(f"The reason is at most {REASON_MAX} characters.", "reason")
    if payment.purpose != "session":
        raise ValidationError("A wallet top-up is taken back with a wallet adjustment, not a refund.", "payment")
    if payment.status == PaymentStatus.VOIDED:
        raise ValidationError("This payment was voided; there is nothing to refund.", "amount")
    if payment.status == PaymentStatus.AUTHORIZED:
        raise ValidationError("This payment is not captured yet: void it instead of refunding it.", "amount")
    if payment.status not in (PaymentStatus.CAPTURED, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED):
        raise ValidationError(f"A {payment.status.replace('_', ' ')} payment cannot be refunded.", "amount")
    value = check_amount(amount, payment.currency)
    left = refundable(session, payment)
    if value > left:
        raise ValidationError(f"At most {left} {payment.currency} can still be refunded.", "amount")
    n = session.execute(select(func.count()).select_from(Refund).where(Refund.payment_id == payment.id)).scalar_one()
    refund = Refund(payment_id=payment.id, organization_id=payment.organization_id,
                    transaction_id=payment.transaction_id, amount=value, currency=payment.currency, reason=reason,
                    status=RefundStatus.PENDING, requested_by_id=user_id or None,
                    reference=op_reference(payment, "refund", n + 1))
    if value > Decimal(get_settings().payments_refund_approval_above):
        refund.status = RefundStatus.AWAITING_APPROVAL
        session.add(refund)
        session.flush()
        event(session, payment, "refund_requested", amount=value, detail=f"awaiting approval: {reason}")
        return row(refund)
    session.add(refund)
    session.flush()
    _execute(session, payment, refund)
    return _row(session, refund)


def approve_refund(*, session: Session, scope: Scope, user_id: int, refund_id: int, approve: bool = True) -> RefundRow:
    scope.require(Cap.APPROVE_PAYMENTS)
    refund = session.execute(select(Refund).where(Refund.id == refund_id).with_for_update()).scalar_one_or_none()
    if refund is None:
        raise ValidationError("No such refund.", "refund")
    payment = payment_in_scope(session, scope, refund.payment_id, lock=True)
    if refund.status != RefundStatus.AWAITING_APPROVAL:
        raise ValidationError("This refund is not awaiting approval.", "refund")
    if refund.requested_by_id == user_id:
        raise ValidationError("A second user approves a refund: not the one who asked for it.", "refund")
    refund.approved_by_id = user_id
    if not approve:
        refund.status = RefundStatus.REJECTED
        session.add(refund)
        event(session, payment, "refund_rejected", amount=Decimal(refund.amount))
        return row(refund)
    refund.status = RefundStatus.PENDING
    _execute(session, payment, refund)
    return _row(session, refund)


def _execute(session: Session, payment: Payment, refund: Refund) -> None:
    amount = Decimal(refund.amount)
    if payment.method == PaymentMethod.WALLET:
        wallet = wallets.open_wallet(session, customer_account_id=payment.customer_account_id)
        wallets.refund(session, wallet=wallet, amount=amount, payment_id=payment.id,
                       memo=f"refund: {refund.reason}"[:200])
        _succeeded(session, payment, refund, None)
        return
    g = session.get(PaymentGateway, payment.payment_gateway_id)
    adapter = adapter_for(g)
    try:
        answer = call(g.id, "refund", lambda: adapter.refund(
            reference=payment.reference, op_reference=refund.reference, gateway_reference=payment.gateway_reference,
            amount=amount, currency=payment.currency), payment_id=payment.id, per_second=g.rate_limit_per_second)
    except (GatewayTimeout, GatewayUnavailable) as exc:
        # The same reference is sent again on retry, so a refund that did happen is not made twice.
        refund.message = f"{g.gateway}: {exc}; retry the refund"[:300]
        refund.status = RefundStatus.FAILED if isinstance(exc, GatewayUnavailable) else RefundStatus.PENDING
        session.add(refund)
        event(session, payment, "refund_" + refund.status, amount=amount, detail=refund.message)
        return
    except GatewayError as exc:
        refund.status, refund.message = RefundStatus.FAILED, str(exc)[:300]
        session.add(refund)
        event(session, payment, "refund_failed", amount=amount, detail=refund.message)
        return
    if answer.outcome == Outcome.DECLINED:
        refund.status, refund.message = RefundStatus.FAILED, answer.message[:300]
        session.add(refund)
        event(session, payment, "refund_failed", amount=amount, detail=answer.message)
        return
    refund.gateway_reference = answer.operation_reference
    if answer.outcome == Outcome.PENDING:
        session.add(refund)
        event(session, payment, "refund_pending", amount=amount, gateway_reference=answer.operation_reference,
              detail=f"{g.gateway} confirms by webhook")
        _move_refunded(session, payment, amount)
        return
    _succeeded(session, payment, refund, answer.operation_reference)


def _move_refunded(session: Session, payment: Payment, amount: Decimal) -> None:
    if payment.method != PaymentMethod.WALLET:  # a wallet refund's entries are the wallet's own
        ledger.card_refunded(session, organization_id=payment.organization_id, currency=payment.currency,
                             amount=amount, payment_id=payment.id)
    payment.amount_refunded = Decimal(payment.amount_refunded) + amount
    set_status(session, payment, PaymentStatus.REFUNDED if payment.amount_refunded >= payment.amount_captured
               else PaymentStatus.PARTIALLY_REFUNDED)


def _succeeded(session: Session, payment: Payment, refund: Refund, gateway_reference: str | None) -> None:
    refund.status = RefundStatus.SUCCEEDED
    refund.updated_at = utcnow()
    session.add(refund)
    event(session, payment, "refunded", amount=Decimal(refund.amount), gateway_reference=gateway_reference,
          detail=refund.reason)
    _move_refunded(session, payment, Decimal(refund.amount))
    tell_customer(session, organization_id=payment.organization_id, customer_account_id=payment.customer_account_id,
                  kind="refunded", message=f"{refund.amount} {refund.currency} was refunded: {refund.reason}",
                  payment_id=payment.id, transaction_id=payment.transaction_id)
    credit_refund(session, refund=refund)


def confirm_refund(session: Session, *, refund: Refund, payment: Payment, gateway_reference: str | None) -> bool:
    """A webhook confirmed a pending refund (already counted in the payment's refunded amount)."""
    if refund.status != RefundStatus.PENDING:
        return False
    refund.status, refund.updated_at = RefundStatus.SUCCEEDED, utcnow()
    refund.gateway_reference = refund.gateway_reference or gateway_reference
    session.add(refund)
    event(session, payment, "refunded", amount=Decimal(refund.amount), gateway_reference=gateway_reference,
          detail="confirmed by webhook")
    session.flush()
    credit_refund(session, refund=refund)
    return True


def void_payment(*, session: Session, scope: Scope, payment_id: int) -> None:
    """Void an authorized, uncaptured payment (release a wallet hold, or void at the gateway)."""
    scope.require(Cap.MANAGE_PAYMENTS)
    payment = payment_in_scope(session, scope, payment_id, lock=True)
    if payment.status != PaymentStatus.AUTHORIZED:
        raise ValidationError("Only an authorized, uncaptured payment can be voided.", "payment")
    amount = Decimal(payment.amount_authorized)
    if payment.method == PaymentMethod.WALLET:
        wallet = wallets.open_wallet(session, customer_account_id=payment.customer_account_id)
        wallets.release(session, wallet=wallet, amount=amount, payment_id=payment.id)
    else:
        g = session.get(PaymentGateway, payment.payment_gateway_id)
        answer = call(g.id, "void", lambda: adapter_for(g).void(
            reference=payment.reference, op_reference=op_reference(payment, "void"),
            gateway_reference=payment.gateway_reference, amount=amount, currency=payment.currency),
            payment_id=payment.id, per_second=g.rate_limit_per_second)
        if answer.outcome != Outcome.APPROVED:
            raise ValidationError(f"{g.gateway} did not void it: {answer.message}", "payment")
    event(session, payment, "voided", amount=amount, detail="voided by a user")
    set_status(session, payment, PaymentStatus.VOIDED)


def list_refunds(*, session: Session, scope: Scope, payment_id: int | None = None, status: str | None = None,
                 limit: int = 200) -> list[RefundRow]:
    scope.require(Cap.VIEW_PAYMENTS)
    q = select(Refund).where(scope.payment_filter(Refund))
    if payment_id is not None:
        q = q.where(Refund.payment_id == payment_id)
    if status:
        q = q.where(Refund.status == status)
    found = session.execute(q.order_by(Refund.id.desc()).limit(limit)).scalars().all()
    notes = refund_credit_notes(session, [r.id for r in found])
    return [row(r, notes.get(r.id)) for r in found]
