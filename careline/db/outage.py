"""Telling a database outage from a bug, and saying once when one starts and ends.

An outage is a failure of the connection itself: PostgreSQL down or restarting, the
socket gone, too many connections. Anything else PostgreSQL or asyncpg raises (bad SQL,
a constraint, a misuse of the driver) is a bug and stays one: it must never be retried
as if it were passing.
"""

from __future__ import annotations

import logging

import asyncpg

from careline.kit import clock

log = logging.getLogger("careline.db")

# SQLSTATEs that mean "not now" rather than "wrong": the server shutting down, crashed,
# starting up or in recovery, and out of connection slots. Class 08 (connection
# exceptions) counts whole; class 57 does not (57014 is a statement timeout).
_OUTAGE_STATES = frozenset({"57P01", "57P02", "57P03", "53300"})
_DRIVER_ERRORS = (asyncpg.InterfaceError, asyncpg.exceptions.InternalClientError)


def is_outage(exc: BaseException, *, connecting: bool, connection_closed: bool) -> bool:
    """Whether `exc` means the database could not be reached (or was lost).

    `connecting`: raised while getting a connection, where an OSError (refused, socket
    missing, timed out) can only be the network. `connection_closed`: the connection the
    work ran on is closed now, so a driver error on it ("connection is closed", a
    protocol state left behind by the lost socket) comes from losing it.
    """
    if isinstance(exc, asyncpg.PostgresConnectionError):
        return True
    if isinstance(exc, asyncpg.PostgresError):
        return exc.sqlstate in _OUTAGE_STATES
    if connecting and isinstance(exc, OSError):
        return True
    return connection_closed and isinstance(exc, _DRIVER_ERRORS)


class Reachability:
    """Whether the database answers: one log line when it stops, one when it answers
    again, however many requests fail in between.

    "Again" means a success at least SETTLE_SECONDS after the last failure: right
    after a postmaster dies, its backends serve a few more queries until they notice,
    and the first seconds of a restart can mix answers and refusals. One outage is one
    pair of lines, not a flutter of them.
    """

    SETTLE_SECONDS = 1.0

    def __init__(self) -> None:
        self.down = False
        self._last_failure = 0.0

    def lost(self, exc: BaseException) -> None:
        self._last_failure = clock.monotonic()
        if not self.down:
            self.down = True
            log.error("database unreachable", extra={"reason": type(exc).__name__})

    def answered(self) -> None:
        if self.down and clock.monotonic() - self._last_failure >= self.SETTLE_SECONDS:
            self.down = False
            log.warning("database reachable again")


reachability = Reachability()
