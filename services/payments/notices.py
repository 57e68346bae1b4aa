"""Telling the customer: the one call site the notifications work will take over. Until then a logged event."""
from __future__ import annotations

import logging

from sqlmodel import Session

from core.events import EventType, notify

log = logging.getLogger("payments")


def tell_customer(session: Session, *, organization_id: int, customer_account_id: int | None, kind: str,
                  message: str, payment_id: int | None = None, transaction_id: int | None = None) -> None:
    """`kind`: wallet_ran_out, card_declined, wallet_empty, refunded. Sent with the caller's transaction."""
    log.info("customer %s told (%s): %s", customer_account_id, kind, message)
    notify(session, {"type": EventType.PAYMENT_NOTICE, "organization_id": organization_id,
                     "customer_account_id": customer_account_id, "kind": kind, "message": message[:300],
                     "payment_id": payment_id, "transaction_id": transaction_id})
