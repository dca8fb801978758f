"""Presence (online / away / offline) and typing: ephemeral, never stored as history.

Presence is kept per membership, (tenant_id, account_id): a person who belongs to two
organisations is online in the one they have a socket open for, and nothing of it shows
in the other. It is aggregated over that membership's sockets on this node: online if
any socket says online, away if all say away, offline when none is left (then last_seen
is stored, on the membership).
Typing expires by itself `typing_ttl_seconds` after the last `typing.start`.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

ONLINE, AWAY, OFFLINE = "online", "away", "offline"
STATUSES = frozenset({ONLINE, AWAY})


MemberKey = tuple[uuid.UUID, uuid.UUID]  # (tenant_id, account_id)


class PresenceBook:
    def __init__(self, on_change: Callable[[MemberKey, str, Any], None]) -> None:
        self._by_member: dict[MemberKey, dict[Any, str]] = {}
        self._on_change = on_change

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
