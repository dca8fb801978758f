"""The live dashboard over the socket: which sockets watch which scope, and the one loop
that builds each watched scope's snapshot once per `monitor_interval_seconds` and pushes
the same encoded frame to every socket watching it (docs/protocol.md, `monitor.*`).

Per node: each node's sockets get snapshots built on that node (connected counts are
that node's; the database's and the queues' figures are the whole instance's)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from typing import Any, Protocol

import orjson

from careline import config
from careline.db.tx import Actor, transaction
from careline.kit import clock
from careline.kit.errors import DatabaseUnavailable
from careline.monitoring import dashboard
from careline.monitoring import service as monitor_service
from careline.monitoring.records import Snapshot

log = logging.getLogger(__name__)

MONITOR_UPDATED = "monitor.updated"
MONITOR_ENDED = "monitor.ended"
# Every this many intervals (30 s at the default 2 s), each watcher's right to watch is
# read again: a socket keeps the role it signed in with, and a demoted admin or a removed
# operator must stop seeing the dashboard without having to reconnect.
RECHECK_EVERY = 15

ScopeKey = tuple[monitor_service.Scope, uuid.UUID | None]  # ("tenant", id) | ("instance", None)


class Watcher(Protocol):
    """A socket that watches (careline/realtime/gateway.py's Connection)."""

    @property
    def actor(self) -> Actor: ...

    def push(self, frame: str) -> None: ...


class Monitor:
    def __init__(self) -> None:
        self.hub: dashboard.Connections | None = None
        self._watching: dict[ScopeKey, set[Watcher]] = {}
        self._scope_of: dict[Watcher, ScopeKey] = {}
        self._latest: dict[ScopeKey, tuple[float, Snapshot]] = {}
        self._shared: tuple[float, dashboard.Shared] | None = None
        self._task: asyncio.Task[None] | None = None
        self.builds = 0  # snapshots built since start (tests count them)

    def watchers(self, key: ScopeKey) -> int:
        return len(self._watching.get(key, ()))

    async def subscribe(self, watcher: Watcher, key: ScopeKey) -> dict[str, Any]:
        """Watch `key` (instead of what this socket watched before): the current
        snapshot now, `monitor.updated` every interval from then on."""
        self.unsubscribe(watcher)
        self._watching.setdefault(key, set()).add(watcher)
        self._scope_of[watcher] = key
        snapshot = await self._current(key)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="monitor")
        return dashboard.snapshot_read(snapshot)

    def unsubscribe(self, watcher: Watcher) -> bool:
        key = self._scope_of.pop(watcher, None)
        if key is None:
            return False
        watching = self._watching.get(key)
        if watching is not None:
            watching.discard(watcher)
            if not watching:
                del self._watching[key]
                self._latest.pop(key, None)
        return True

    async def snapshot(self, key: ScopeKey) -> Snapshot:
        """One snapshot of `key` (GET /api/v1/admin/monitoring): the loop's latest while
        it is fresh, so a page that also watches costs no second build."""
        return await self._current(key)

    async def _current(self, key: ScopeKey) -> Snapshot:
        latest = self._latest.get(key)
        if latest is not None and clock.monotonic() - latest[0] < _interval():
            return latest[1]
        return await self._build(key)

    async def _common(self) -> dashboard.Shared:
        """The parts and queues, read at most once per interval for every scope."""
        if self._shared is not None and clock.monotonic() - self._shared[0] < _interval():
            return self._shared[1]
        common = await dashboard.shared(config.current(), self._shared[1] if self._shared else None)
        self._shared = (clock.monotonic(), common)
        return common

    async def _build(self, key: ScopeKey) -> Snapshot:
        if self.hub is None:
            raise RuntimeError("the monitor has no hub: careline is not serving")
        previous = self._latest.get(key)
        snapshot = await dashboard.build(
            self.hub,
            key[1],
            common=await self._common(),
            previous=previous[1] if previous else None,
        )
        self.builds += 1
        if key in self._watching:
            self._latest[key] = (clock.monotonic(), snapshot)
        return snapshot

    async def _run(self) -> None:
        """Until nobody watches: every interval, each watched scope once."""
        ticks = 0
        while self._watching:
            await asyncio.sleep(_interval())
            self._shared = None  # a new tick reads the parts and queues afresh, once
            ticks += 1
            if ticks % RECHECK_EVERY == 0:
                await self._recheck()
            for key in list(self._watching):
                try:
                    snapshot = await self._build(key)
                except Exception:
                    # The next tick tries again; one scope's failure starves no other.
                    log.exception("monitor snapshot failed", extra={"scope": key[0]})
                    continue
                frame = orjson.dumps(
                    {"op": MONITOR_UPDATED, "snapshot": dashboard.snapshot_read(snapshot)}
                ).decode()
                for watcher in list(self._watching.get(key, ())):
                    watcher.push(frame)

    async def _recheck(self) -> None:
        """Stop sending to those who may no longer watch their scope; they are told with
        `monitor.ended`. While the database does not answer, everyone stays."""
        for watcher, key in list(self._scope_of.items()):
            try:
                async with transaction(watcher.actor, readonly=True) as tx:
                    allowed = await monitor_service.still_allowed(tx, key[0])
            except DatabaseUnavailable:
                return
            except Exception:
                log.exception("monitor access recheck failed")
                continue
            if not allowed and self._scope_of.get(watcher) == key:
                self.unsubscribe(watcher)
                code = "operator_only" if key[0] == "instance" else "admin_only"
                watcher.push(orjson.dumps({"op": MONITOR_ENDED, "code": code}).decode())

    async def stop(self) -> None:
        self._watching.clear()
        self._scope_of.clear()
        self._latest.clear()
        self._shared = None
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self.hub = None


def _interval() -> float:
    return float(config.current().monitor_interval_seconds)


_monitor = Monitor()


def current() -> Monitor:
    return _monitor


def start(hub: dashboard.Connections) -> None:
    """At server start: the hub whose sockets are counted."""
    _monitor.hub = hub


async def stop() -> None:
    await _monitor.stop()
