"""The event bus: how committed events reach every node's sockets.

One node: in-process, a direct call. Several nodes: a Redis pub/sub bus implements the
same interface. The bus only wakes sockets; catch-up after a missed event always reads
PostgreSQL, so a lost bus message costs latency, never data.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from careline.kit.events import Event

Deliver = Callable[[list[Event]], Awaitable[None]]


class Bus(Protocol):
    async def start(self, deliver: Deliver) -> None: ...

    async def publish(self, events: list[Event]) -> None: ...

    async def stop(self) -> None: ...


class InProcessBus:
    """Single node: events go straight to this process's hub, frames and all."""

    def __init__(self) -> None:
        self._deliver: Deliver | None = None

    async def start(self, deliver: Deliver) -> None:
        self._deliver = deliver

    async def publish(self, events: list[Event]) -> None:
        if self._deliver is not None:
            await self._deliver(events)

    async def stop(self) -> None:
        self._deliver = None
