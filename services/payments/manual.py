"""Manual payments (cash, bank transfer, cheque) into a wallet, recorded by an Accounts user with a reference.
Above PAYMENTS_MANUAL_APPROVAL_ABOVE a second user approves before the money reaches the wallet (maker–checker).
Also the wallet adjustment, which always has a reason."""
from __future__ import annotations

import uuid
from decimal import Decimal

from sqlmodel import Session

from core.config import get_settings
from core.errors import ValidationError
from core.validation import check_text
from models import Payment
from models.payment import PaymentMethod, PaymentPurpose, PaymentStatus
from services.access.permissions import Cap
from services.access.scope import Scope
from services.payments import wallets
from services.payments.amounts import check_amount
from services.payments.queries import payment_in_scope, wallet_in_scope
from services.payments.records import event, set_status, top_up_reference

KINDS = ("cash", "bank_transfer", "cheque")


def _text(value: str | None, field: str, limit: int) -> str:
    value = check_text((value or "").strip(), field)
    if not value:
        raise ValidationError(f"Enter the {field.replace('_', ' ')}.", field)
    if len(value) > limit:
        raise ValidationError(f"The {field.replace('_', ' ')} is at most {limit} characters.", field)
    return value


def record_manual_top_up(*, session: Session, scope: Scope, user_id: int | None, wallet_id: int, amount: object,
                         currency: str, kind: str, reference: str) -> int:
    """Record the payment; it tops up the wallet at once, or after a second user's approval. Returns its id."""
    scope.require(Cap.MANAGE_PAYMENTS)
    wallet = wallet_in_scope(session, scope, wallet_id, lock=True)
    value = check_amount(amount, currency, expected_currency=wallet.currency)
    if kind not in KINDS:
        raise ValidationError(f"The kind is one of: {', '.join(KINDS)}.", "kind")
    their_reference = _text(reference, "reference", 100)
    payment = Payment(organization_id=wallet.organization_id, customer_account_id=wallet.customer_account_id,
                      wallet_id=wallet.id, purpose=PaymentPurpose.TOP_UP, method=PaymentMethod.MANUAL, gateway="manual",
                      currency=wallet.currency, reference=f"tmp-{uuid.uuid4().hex}", gateway_reference=their_reference,
                      amount_authorized=value, recorded_by_id=user_id or None, note=kind.replace("_", " "))
    session.add(payment)
    session.flush()
    payment.reference = top_up_reference(payment.id)
    event(session, payment, "recorded", amount=value, gateway_reference=their_reference,
          detail=f"{kind.replace('_', ' ')} recorded")
    if value > Decimal(get_settings().payments_manual_approval_above):
        set_status(session, payment, PaymentStatus.AWAITING_APPROVAL)
    else:
        _credit(session, payment)
    return payment.id


def approve_manual_top_up(*, session: Session, scope: Scope, user_id: int, payment_id: int,
                          approve: bool = True) -> None:
    scope.require(Cap.APPROVE_PAYMENTS)
    payment = payment_in_scope(session, scope, payment_id, lock=True)
    if payment.status != PaymentStatus.AWAITING_APPROVAL:
        raise ValidationError("This payment is not awaiting approval.", "payment")
    if payment.recorded_by_id == user_id:
        raise ValidationError("A second user approves a manual payment: not the one who recorded it.", "payment")
    payment.approved_by_id = user_id
    if not approve:
        event(session, payment, "rejected", amount=Decimal(payment.amount_authorized))
        set_status(session, payment, PaymentStatus.FAILED)
        return
    event(session, payment, "approved", amount=Decimal(payment.amount_authorized))
    _credit(session, payment)


def _credit(session: Session, payment: Payment) -> None:
    wallet = wallets.open_wallet(session, customer_account_id=payment.customer_account_id)
    wallets.top_up(session, wallet=wallet, amount=payment.amount_authorized, currency=payment.currency,
                   payment_id=payment.id, memo=f"manual top-up {payment.reference}")
    payment.amount_captured = payment.amount_authorized
    event(session, payment, "captured", amount=Decimal(payment.amount_captured), detail="credited to the wallet")
    set_status(session, payment, PaymentStatus.CAPTURED)




def adjust_wallet(*, session: Session, scope: Scope, wallet_id: int, amount: object, currency: str, decrease: bool,
                  reason: str) -> str:
    scope.require(Cap.MANAGE_PAYMENTS)
    wallet = wallet_in_scope(session, scope, wallet_id, lock=True)
    return wallets.adjust(session, wallet=wallet, amount=amount, currency=currency, decrease=decrease,
                          reason=_text(reason, "reason", 180))
