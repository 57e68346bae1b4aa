"""Payment rows and their timelines: references, events, status changes (each also sent as a live event)."""
from __future__ import annotations

from decimal import Decimal

from sqlmodel import Session

from core.clock import utcnow
from core.config import get_settings
from core.events import EventType, notify
from models import Payment, PaymentEvent


def session_reference(transaction_id: int) -> str:
    """A session's payment reference, from its session id: every gateway call for it carries this."""
    return f"{get_settings().payments_reference_prefix}-S{transaction_id}"


def top_up_reference(payment_id: int) -> str:
    return f"{get_settings().payments_reference_prefix}-T{payment_id}"


def op_reference(payment: Payment, operation: str, n: int = 1) -> str:
    """An operation's own reference, `<payment reference>.<operation><n>`: a retry sends the same one."""
    return f"{payment.reference}.{operation}{n}"


def event(session: Session, payment: Payment, kind: str, *, amount: Decimal | None = None,
          gateway_reference: str | None = None, detail: str = "") -> None:
    session.add(PaymentEvent(payment_id=payment.id, kind=kind, amount=amount, gateway_reference=gateway_reference,
                             detail=detail[:500]))


def set_status(session: Session, payment: Payment, status: str) -> None:
    payment.status = status
    payment.updated_at = utcnow()
    session.add(payment)
    session.flush()
    notify(session, {"type": EventType.PAYMENT, "organization_id": payment.organization_id,
                     "payment_id": payment.id, "status": status})
