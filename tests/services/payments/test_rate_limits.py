"""Gateway rate limits are counted in Redis, so two processes share one allowance; an over-limit call waits,
then fails over instead of being dropped."""
from __future__ import annotations

import multiprocessing
import uuid

import pytest
from limits import RateLimitItemPerMinute

from core.config import get_settings
from services.payments import rate_limits
from services.payments.gateways.base import GatewayUnavailable


def _grab(gateway_id: int, tries: int, out) -> None:
    item = RateLimitItemPerMinute(7)
    out.put(sum(rate_limits.try_acquire(gateway_id, item) for _ in range(tries)))


def test_two_processes_share_one_allowance():
    # A per-minute allowance, so the count does not depend on how fast this machine runs the two processes.
    gateway_id = uuid.uuid4().int % 2**31
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_grab, args=(gateway_id, 10, out)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    granted = [out.get(timeout=5), out.get(timeout=5)]
    assert sum(granted) == 7  # not 7 each: the count lives in Redis, not in each process


def test_an_over_limit_call_fails_over_after_its_wait(monkeypatch):
    monkeypatch.setattr(get_settings(), "payments_rate_limit_wait_seconds", 0.05)
    gateway_id = uuid.uuid4().int % 2**31
    rate_limits.acquire(gateway_id, 1)
    with pytest.raises(GatewayUnavailable, match="rate limit"):
        rate_limits.acquire(gateway_id, 1)
