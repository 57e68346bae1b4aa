"""The action → handler table the connection dispatches on; handler modules register with `@handles`."""
from __future__ import annotations

from collections.abc import Awaitable, Callable

Handler = Callable[..., Awaitable[dict]]
HANDLERS: dict[str, Handler] = {}


def handles(action: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        HANDLERS[action] = fn
        return fn

    return register
