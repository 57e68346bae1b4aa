"""Webhooks: verified by the gateway's adapter, kept once per provider event id in an inbox, applied in order.

A forged webhook raises ForgedWebhook and writes nothing. A repeated one (same event id) is answered and
changes nothing. One older than the last applied for its payment (the gateway's sequence) is kept as late and
changes nothing. One for a payment not committed yet waits in the inbox; the worker applies it later.
"""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session

from core.clock import utcnow
from core.errors import NotFound
from models import Payment, PaymentGateway, Refund, WebhookInbox
from services.payments.gateway_config import adapter_for
from services.payments.records import event
from services.payments.refunds import confirm_refund


def receive_webhook(*, session: Session, gateway_id: int, headers: dict[str, str], body: bytes) -> str:
    """'applied', 'late', 'waiting' (payment not known yet) or 'duplicate'."""
    g = session.get(PaymentGateway, gateway_id) if 0 < gateway_id < 2**31 else None
    if g is None:
        raise NotFound("No such gateway.")
    ev = adapter_for(g).parse_webhook(headers=headers, body=body)  # ForgedWebhook: nothing written
    payload = {**ev.payload, "_kind": ev.kind, "_sequence": ev.sequence, "_organization_id": g.organization_id,
               "_amount": str(ev.amount) if ev.amount is not None else None}
    inbox_id = session.execute(insert(WebhookInbox).values(
        gateway=g.gateway, event_id=ev.event_id[:128], payment_reference=(ev.payment_reference or "")[:64] or None,
        payload=payload, received_at=utcnow()).on_conflict_do_nothing(constraint="uq_webhook_event")
        .returning(WebhookInbox.id)).scalar_one_or_none()
    if inbox_id is None:
        return "duplicate"
    return apply(session, session.get(WebhookInbox, inbox_id))


def apply(session: Session, item: WebhookInbox) -> str:
    org_id = item.payload.get("_organization_id")
    payment = session.execute(select(Payment).where(Payment.reference == item.payment_reference,
                                                    Payment.organization_id == org_id)
                              .with_for_update()).scalar_one_or_none() if item.payment_reference else None
    if payment is None:
        return "waiting"
    sequence = item.payload.get("_sequence")
    last = session.execute(select(func.max(WebhookInbox.payload["_sequence"].as_integer())).where(
        WebhookInbox.gateway == item.gateway, WebhookInbox.payment_reference == item.payment_reference,
        WebhookInbox.applied_at.is_not(None), WebhookInbox.outcome == "applied")).scalar()
    kind = item.payload.get("_kind", "updated")
    amount = Decimal(item.payload["_amount"]) if item.payload.get("_amount") else None
    item.applied_at = utcnow()
    if sequence is not None and last is not None and sequence <= last:
        item.outcome = "late"
        event(session, payment, "webhook_late", amount=amount, detail=f"{item.gateway} {kind} (late; no change)")
    else:
        item.outcome = "applied"
        event(session, payment, "webhook", amount=amount, detail=f"{item.gateway} confirms {kind}")
        if kind == "refunded":
            refund = session.execute(select(Refund).where(
                Refund.reference == item.payload.get("operation_reference"), Refund.payment_id == payment.id)
                .with_for_update()).scalar_one_or_none()
            if refund is not None:
                confirm_refund(session, refund=refund, payment=payment, gateway_reference=None)
    session.add(item)
    return item.outcome


def apply_waiting(*, session: Session, limit: int = 200) -> int:
    """Apply inbox items whose payment was not committed when they arrived, oldest first."""
    items = session.execute(select(WebhookInbox).where(WebhookInbox.applied_at.is_(None))
                            .order_by(WebhookInbox.id).limit(limit).with_for_update(skip_locked=True)).scalars().all()
    return sum(1 for item in items if apply(session, item) != "waiting")
