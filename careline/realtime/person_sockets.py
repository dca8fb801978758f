"""How many sockets each person has open, and closing the oldest over their cap
(issue 16: one person opened 500). Per node for now, behind `PersonSockets`: a Redis
version would keep one sorted set per person (socket id, opened at) across nodes and ask
the node holding the oldest to close it over the bus."""

from __future__ import annotations

import uuid
from typing import Protocol

from careline.realtime.protocol import CloseCode

# The close reason the oldest socket gets (docs/protocol.md#close-codes).
REPLACED = "too many sockets open for this person: this, the oldest, was closed"


class Capped(Protocol):
    @property
    def account_id(self) -> uuid.UUID: ...

    def abort(self, code: CloseCode, reason: str) -> None: ...


class PersonSockets(Protocol):
    async def opened(self, socket: Capped, cap: int) -> None:
        """Count `socket` as its person's newest; while they have more than `cap`, close
        their oldest with 4029."""

    async def closed(self, socket: Capped) -> None:
        """`socket` is gone (also fine for one already closed over the cap)."""


class LocalPersonSockets:
    """This node's sockets per person, oldest first (a dict keeps insertion order)."""

    def __init__(self) -> None:
        self._open: dict[uuid.UUID, dict[Capped, None]] = {}

    def count(self, account_id: uuid.UUID) -> int:
        return len(self._open.get(account_id, ()))

    async def opened(self, socket: Capped, cap: int) -> None:
        mine = self._open.setdefault(socket.account_id, {})
        mine[socket] = None
        while len(mine) > cap:
            oldest = next(iter(mine))
            del mine[oldest]
            oldest.abort(CloseCode.TOO_MANY_SOCKETS, REPLACED)

    async def closed(self, socket: Capped) -> None:
        mine = self._open.get(socket.account_id)
        if mine is not None:
            mine.pop(socket, None)
            if not mine:
                del self._open[socket.account_id]
