"""Per-gateway rate limits, counted in shared storage (Redis through the `limits` library) so every process
— web, worker, several of each — draws from the same allowance. An over-limit call waits for its turn; past
PAYMENTS_RATE_LIMIT_WAIT_SECONDS it fails over like an unavailable gateway (the caller tries the next one or
retries the intent later): it is never dropped."""
from __future__ import annotations

import logging
import threading
import time
from functools import lru_cache

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from core.config import get_settings
from services.payments.gateways.base import GatewayUnavailable

log = logging.getLogger("payments")


_LOCK = threading.Lock()


@lru_cache(maxsize=4)
def _limiter(url: str) -> MovingWindowRateLimiter:
    # Built and checked under a lock: the library's lazy import of its Redis client is not thread-safe.
    with _LOCK:
        storage = storage_from_string(url)
        storage.check()
        return MovingWindowRateLimiter(storage)


def try_acquire(gateway_id: int, item: RateLimitItem) -> bool:
    """One call's turn, if the gateway's allowance has one now."""
    try:
        return _limiter(get_settings().payments_rate_limit_storage).hit(item, "payment-gateway", str(gateway_id))
    except Exception as exc:  # the counter store is down: calling beats dropping the payment
        log.warning("rate limit storage unavailable (%s); calling gateway %s unlimited", exc, gateway_id)
        return True


def acquire(gateway_id: int, per_second: int) -> None:
    """Wait for a turn within the gateway's calls-per-second, or raise GatewayUnavailable after the wait."""
    item = RateLimitItemPerSecond(per_second)
    deadline = time.monotonic() + get_settings().payments_rate_limit_wait_seconds
    while not try_acquire(gateway_id, item):
        if time.monotonic() >= deadline:
            raise GatewayUnavailable(f"gateway {gateway_id} is at its rate limit of {per_second}/s")
        time.sleep(0.01)
