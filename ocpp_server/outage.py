"""Whether the database is reachable, as the OCPP server sees it.

While it is not, a CALL that needs it is answered CALLERROR InternalError (the charger keeps the message and
sends it again, OCPP-J §4.8) and handshakes are refused with 503. One log line marks each change of state
(down, back up): an outage must not write a traceback per message.
"""
from __future__ import annotations

import logging

import psycopg
from sqlalchemy import exc as sa_exc

log = logging.getLogger("ocpp_server")

# SQLSTATEs that mean the server cannot be used now (class 08: connection exception; 57P0x: shutting down).
_UNAVAILABLE_STATES = ("57P01", "57P02", "57P03")


class DatabaseUnavailable(Exception):
    """The database cannot be reached; nothing was written."""


def is_unavailable(exc: BaseException) -> bool:
    """A lost or refused connection (or no pooled connection in time), not an error in what was asked."""
    if isinstance(exc, sa_exc.TimeoutError):
        return True
    orig = exc.orig if isinstance(exc, sa_exc.DBAPIError) else exc
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    if not isinstance(orig, psycopg.OperationalError | psycopg.InterfaceError):
        return False
    state = orig.sqlstate
    return state is None or state.startswith("08") or state in _UNAVAILABLE_STATES


class Availability:
    """The database's state: `failed()` and `ok()` after each use; a log line only when the state changes."""

    def __init__(self) -> None:
        self.down = False

    def failed(self, exc: BaseException) -> None:
        if not self.down:
            self.down = True
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            log.warning("database down: answering InternalError and refusing handshakes with 503 (%s)", reason)

    def ok(self) -> None:
        if self.down:
            self.down = False
            log.warning("database back up")
