"""Calling a gateway: every call is timed and recorded (health, circuit breaker) in its own transaction, so the
record survives whatever the caller does next."""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from core.db import SYSTEM, session_scope
from models import GatewayCall
from services.payments.gateways.base import Answer, GatewayError, GatewayTimeout, GatewayUnavailable, Status
from services.payments.rate_limits import acquire

T = TypeVar("T")


def _outcome(result: object) -> str:
    return result.outcome.value if isinstance(result, Answer) else "approved"


def call(gateway_id: int, operation: str, fn: Callable[[], T], *, payment_id: int | None = None,
         per_second: int | None = None) -> T:
    """Call `fn` (one adapter call) within the gateway's rate limit, and record it."""
    if per_second:
        acquire(gateway_id, per_second)
    started = time.perf_counter()
    outcome = "error"
    try:
        result = fn()
        outcome = _outcome(result)
        return result
    except GatewayTimeout:
        outcome = "timeout"
        raise
    except GatewayUnavailable:
        outcome = "unavailable"
        raise
    except GatewayError:
        outcome = "error"
        raise
    finally:
        ms = int((time.perf_counter() - started) * 1000)
        with session_scope(SYSTEM) as s:  # the call's record, whoever made it
            s.add(GatewayCall(gateway_id=gateway_id, payment_id=payment_id, operation=operation, outcome=outcome,
                              latency_ms=ms))


def happened(status: Status, op_ref: str) -> bool:
    """Whether a gateway's `query` answer shows our operation `op_ref` done (a timed-out call resolved)."""
    for op in status.operations:
        ref = op.get("id") if "type" in op else (op.get("clientReferenceInformation") or {}).get("code")
        if ref == op_ref and op.get("status") not in ("DECLINED",) and op.get("result") not in ("FAILURE",):
            return True
    return False
