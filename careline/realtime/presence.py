"""Presence (online / away / offline) and typing: ephemeral, never stored as history.

Presence is kept per membership, (tenant_id, account_id): a person who belongs to two
organisations is online in the one they have a socket open for, and nothing of it shows
in the other. It is aggregated over that membership's sockets on this node: online if
any socket says online, away if all say away, offline when none is left (then last_seen
is stored, on the membership, and kept here too: the moment this node saw them go).
A socket that goes silent (no pong within the heartbeat window) is closed by the
transport (docs/protocol.md#heartbeats), so a device that dropped off the network goes
offline too, within 2 x `ws_heartbeat_seconds`.

Per node for now, behind `Presence`: a Redis version would keep each membership's
sockets and last seen across nodes (one hash per membership) and publish the changes.
Typing expires by itself `typing_ttl_seconds` after the last `typing.start`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any, Protocol

from careline.kit import clock

ONLINE, AWAY, OFFLINE = "online", "away", "offline"
STATUSES = frozenset({ONLINE, AWAY})


MemberKey = tuple[uuid.UUID, uuid.UUID]  # (tenant_id, account_id)


class Presence(Protocol):
    def status(self, member: MemberKey) -> str:
        """online, away or offline."""

    def set(self, member: MemberKey, conn: Any, status: str | None) -> None:
        """Set (or, with None, drop) one socket's status; reports aggregate changes."""

    def last_seen(self, member: MemberKey) -> dt.datetime | None:
        """When the member's last socket went, as far as this presence knows (None:
        online now, or not seen since it started; the membership stores it too)."""


class PresenceBook:
    """This node's presence (implements `Presence`)."""

    def __init__(self, on_change: Callable[[MemberKey, str, Any], None]) -> None:
        self._by_member: dict[MemberKey, dict[Any, str]] = {}
        self._last_seen: dict[MemberKey, dt.datetime] = {}
        self._on_change = on_change

    def last_seen(self, member: MemberKey) -> dt.datetime | None:
        if member in self._by_member:
            return None
        return self._last_seen.get(member)

    def status(self, member: MemberKey) -> str:
        statuses = self._by_member.get(member)
        if not statuses:
            return OFFLINE
        return ONLINE if ONLINE in statuses.values() else AWAY

    def set(self, member: MemberKey, conn: Any, status: str | None) -> None:
        """Set (or, with None, drop) one socket's status; reports aggregate changes."""
        before = self.status(member)
        statuses = self._by_member.setdefault(member, {})
        if status is None:
            statuses.pop(conn, None)
            if not statuses:
                del self._by_member[member]
                if before != OFFLINE:
                    self._last_seen[member] = clock.now()
        else:
            statuses[conn] = status
        after = self.status(member)
        if after != before:
            self._on_change(member, after, conn)


class TypingBook:
    def __init__(self, ttl: float, on_change: Callable[[uuid.UUID, uuid.UUID, bool], None]) -> None:
        self._ttl = ttl
        self._timers: dict[tuple[uuid.UUID, uuid.UUID], asyncio.TimerHandle] = {}
        self._on_change = on_change

    @property
    def ttl(self) -> float:
        return self._ttl

    def start(self, conversation_id: uuid.UUID, account_id: uuid.UUID) -> None:
        key = (conversation_id, account_id)
        timer = self._timers.pop(key, None)
        if timer is not None:
            timer.cancel()
        else:
            self._on_change(conversation_id, account_id, True)
        loop = asyncio.get_running_loop()
        self._timers[key] = loop.call_later(self._ttl, self.stop, conversation_id, account_id)

    def stop(self, conversation_id: uuid.UUID, account_id: uuid.UUID) -> None:
        timer = self._timers.pop((conversation_id, account_id), None)
        if timer is not None:
            timer.cancel()
            self._on_change(conversation_id, account_id, False)

    def clear(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
