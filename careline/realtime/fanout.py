"""The hub: which of this node's sockets receive which event.

Sockets are indexed by conversation and by account. A committed event is pushed to the
sockets of its conversation's participants (all their devices, the sender's other devices
included) or, for account events, to that account's sockets. JSON is encoded once per
event, not once per socket.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Protocol

import orjson

from careline.auth.service import SESSION_REVOKED
from careline.conversations import service as conversation_service
from careline.conversations.service import (
    CONVERSATION_CREATED,
    PARTICIPANT_ADDED,
    PARTICIPANT_REMOVED,
)
from careline.db.tx import Actor, transaction
from careline.kit import tasks
from careline.kit.events import Event
from careline.messages.events import MESSAGE_SENT
from careline.monitoring import collector
from careline.realtime.person_sockets import LocalPersonSockets, PersonSockets
from careline.realtime.presence import OFFLINE, MemberKey, Presence, PresenceBook, TypingBook
from careline.realtime.protocol import CloseCode
from careline.realtime.render import timeline_frames

log = logging.getLogger(__name__)


class Socket(Protocol):
    conversations: set[uuid.UUID]

    @property
    def actor(self) -> Actor: ...

    @property
    def account_id(self) -> uuid.UUID: ...

    @property
    def tenant_id(self) -> uuid.UUID: ...

    @property
    def session_id(self) -> uuid.UUID | None: ...

    def push(self, frame: str) -> None: ...

    def push_timeline(self, conversation_id: uuid.UUID, seq: int, frame: str) -> None: ...

    def forget(self, conversation_id: uuid.UUID) -> None: ...

    def abort(self, code: CloseCode, reason: str) -> None: ...


LastSeenWriter = Callable[[uuid.UUID, uuid.UUID], Coroutine[Any, Any, None]]
TimelineDeliver = Callable[[Event, uuid.UUID, int], Awaitable[None]]

# How long a conversation's event waits for an earlier one that has committed but not
# been published yet (that takes well under a millisecond on one node). After that the
# hub sends what it holds and each socket fetches the gap from PostgreSQL.
REORDER_WAIT_SECONDS = 0.1


class SeqOrder:
    """Puts each conversation's timeline events back in seq order before fan-out.

    Commits in a conversation finish in seq order (its row lock orders them), but the
    coroutines that then publish them resume in whatever order the event loop picks. A
    socket that gets seq 8 before 7 has to fetch 7 from PostgreSQL: with twenty people
    sending into one conversation that was a catch-up transaction per socket, every few
    messages. Holding 8 until 7 is out costs microseconds instead.
    """

    def __init__(
        self, deliver: TimelineDeliver, spawn: Callable[[Coroutine[Any, Any, None]], None]
    ) -> None:
        self._deliver = deliver
        self._spawn = spawn
        self._last: dict[uuid.UUID, int] = {}
        self._held: dict[uuid.UUID, dict[int, Event]] = {}
        self._timers: dict[uuid.UUID, asyncio.TimerHandle] = {}

    async def put(self, event: Event, conversation_id: uuid.UUID, seq: int) -> None:
        last = self._last.get(conversation_id)
        if last is not None and seq > last + 1:
            self._held.setdefault(conversation_id, {})[seq] = event
            if conversation_id not in self._timers:
                self._timers[conversation_id] = asyncio.get_running_loop().call_later(
                    REORDER_WAIT_SECONDS, self._expire, conversation_id
                )
            return
        if last is None or seq > last:
            self._last[conversation_id] = seq
        try:
            await self._deliver(event, conversation_id, seq)
        finally:
            await self._drain(conversation_id, give_up=False)

    async def _drain(self, conversation_id: uuid.UUID, *, give_up: bool) -> None:
        """Send held events that are next in line; with give_up, all of them in order."""
        held = self._held.get(conversation_id)
        while held:
            seq = self._last[conversation_id] + 1
            if seq not in held:
                if not give_up:
                    return
                seq = min(held)
            event = held.pop(seq)
            self._last[conversation_id] = seq
            try:
                await self._deliver(event, conversation_id, seq)
            except Exception:
                # One bad event must not hold back the rest; sockets catch up by seq.
                log.exception("event delivery failed", extra={"event_type": event.type})
        self._held.pop(conversation_id, None)
        timer = self._timers.pop(conversation_id, None)
        if timer is not None:
            timer.cancel()

    def _expire(self, conversation_id: uuid.UUID) -> None:
        self._timers.pop(conversation_id, None)
        self._spawn(self._drain(conversation_id, give_up=True))

    def forget(self, conversation_id: uuid.UUID) -> None:
        """No socket here is in the conversation any more (held events still go out)."""
        if conversation_id not in self._held:
            self._last.pop(conversation_id, None)

    def close(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        self._held.clear()


class Hub:
    def __init__(
        self,
        *,
        typing_ttl: float,
        on_offline: LastSeenWriter | None = None,
        person_sockets: PersonSockets | None = None,
    ) -> None:
        self.by_conversation: dict[uuid.UUID, set[Socket]] = {}
        self.by_account: dict[uuid.UUID, set[Socket]] = {}
        self.presence: Presence = PresenceBook(self._presence_changed)
        self.typing = TypingBook(typing_ttl, self._typing_changed)
        self._on_offline = on_offline
        self._background: set[asyncio.Task[None]] = set()
        self._order = SeqOrder(self._deliver_timeline, self._spawn)
        # Every open socket of this node, authenticated or not (for graceful shutdown),
        # and whether that shutdown has begun.
        self.sockets: set[object] = set()
        self.draining = False
        # Each person's authenticated sockets, for the cap (CARELINE_WS_MAX_SOCKETS_PER_PERSON).
        self.person_sockets: PersonSockets = person_sockets or LocalPersonSockets()

    # registry -------------------------------------------------------------------------

    def attach(self, socket: Socket) -> None:
        self.by_account.setdefault(socket.account_id, set()).add(socket)
        for conversation_id in socket.conversations:
            self.by_conversation.setdefault(conversation_id, set()).add(socket)

    def detach(self, socket: Socket) -> None:
        for conversation_id in socket.conversations:
            self._discard(self.by_conversation, conversation_id, socket)
            if conversation_id not in self.by_conversation:
                self._order.forget(conversation_id)
        self.presence.set((socket.tenant_id, socket.account_id), socket, None)
        self._discard(self.by_account, socket.account_id, socket)

    @staticmethod
    def _discard(index: dict[uuid.UUID, set[Socket]], key: uuid.UUID, socket: Socket) -> None:
        sockets = index.get(key)
        if sockets is not None:
            sockets.discard(socket)
            if not sockets:
                del index[key]

    def _subscribe(
        self, tenant_id: uuid.UUID, account_id: uuid.UUID, conversation_id: uuid.UUID
    ) -> None:
        for socket in self.by_account.get(account_id, ()):
            if socket.tenant_id != tenant_id:
                continue  # the same person signed in to another organisation
            socket.conversations.add(conversation_id)
            self.by_conversation.setdefault(conversation_id, set()).add(socket)

    def _unsubscribe(self, account_id: uuid.UUID, conversation_id: uuid.UUID) -> None:
        self.typing.stop(conversation_id, account_id)
        for socket in list(self.by_account.get(account_id, ())):
            socket.conversations.discard(conversation_id)
            socket.forget(conversation_id)
            self._discard(self.by_conversation, conversation_id, socket)
        if conversation_id not in self.by_conversation:
            self._order.forget(conversation_id)

    # delivery -------------------------------------------------------------------------

    async def deliver(self, events: list[Event]) -> None:
        for event in events:
            try:
                await self._deliver_one(event)
            except Exception:
                # One bad event must not starve the rest; clients catch up by seq.
                log.exception("event delivery failed", extra={"event_type": event.type})

    async def _deliver_one(self, event: Event) -> None:
        if event.type == SESSION_REVOKED:
            revoked = set(event.data.get("session_ids", ()))
            for account_id in event.account_ids:
                for socket in list(self.by_account.get(account_id, ())):
                    if socket.session_id is not None and str(socket.session_id) in revoked:
                        socket.abort(CloseCode.UNAUTHENTICATED, "session ended")
            return
        conversation_id = event.conversation_id
        if conversation_id is not None and event.seq is not None:
            await self._order.put(event, conversation_id, event.seq)
            return
        frame = event.frame or orjson.dumps({"op": event.type, **event.data}).decode()
        if conversation_id is not None:
            for socket in list(self.by_conversation.get(conversation_id, ())):
                socket.push(frame)
        for account_id in event.account_ids:
            for socket in list(self.by_account.get(account_id, ())):
                # One account may be signed in to several organisations: an event for
                # this person in one of them reaches only the sockets acting there.
                if socket.tenant_id == event.tenant_id:
                    socket.push(frame)

    async def _deliver_timeline(self, event: Event, conversation_id: uuid.UUID, seq: int) -> None:
        if event.type == CONVERSATION_CREATED:
            for account_id in event.account_ids:
                self._subscribe(event.tenant_id, account_id, conversation_id)
        elif event.type == PARTICIPANT_ADDED:
            self._subscribe(event.tenant_id, uuid.UUID(event.data["account_id"]), conversation_id)
        frame = event.frame or await self._render(event, conversation_id, seq)
        # An intervention's entry is for staff (break-glass): a client's socket sees a gap
        # at its seq and steps over it by a catch-up read, where RLS hides the row.
        staff_only = bool(event.data.get("staff_only"))
        if frame is not None:
            frame = collector.stamp(frame, event.tenant_id, event.committed_at)
            for socket in list(self.by_conversation.get(conversation_id, ())):
                if not staff_only or socket.actor.role.is_staff:
                    socket.push_timeline(conversation_id, seq, frame)
        if event.type == PARTICIPANT_REMOVED:
            self._unsubscribe(uuid.UUID(event.data["account_id"]), conversation_id)
        elif event.type == MESSAGE_SENT and "sender_id" in event.data:
            self.typing.stop(conversation_id, uuid.UUID(event.data["sender_id"]))

    async def _render(self, event: Event, conversation_id: uuid.UUID, seq: int) -> str | None:
        """Render an event that arrived without its frame (from another node)."""
        async with transaction(Actor.system(event.tenant_id), readonly=True) as tx:
            rows = await conversation_service.internal_event(tx, conversation_id, seq)
            frames = await timeline_frames(tx, rows)
        return frames[0][1] if frames else None

    # presence and typing --------------------------------------------------------------

    def _peers_frame_targets(self, conversation_ids: set[uuid.UUID]) -> set[Socket]:
        targets: set[Socket] = set()
        for conversation_id in conversation_ids:
            targets.update(self.by_conversation.get(conversation_id, ()))
        return targets

    def _presence_changed(self, member: MemberKey, status: str, socket: Socket) -> None:
        tenant_id, account_id = member
        payload: dict[str, Any] = {
            "op": "presence.updated",
            "account_id": str(account_id),
            "status": status,
        }
        if status == OFFLINE:
            last_seen = self.presence.last_seen(member)
            payload["last_seen"] = last_seen.isoformat() if last_seen else None
        frame = orjson.dumps(payload).decode()
        # The socket's conversations are all of its own organisation.
        for target in self._peers_frame_targets(socket.conversations):
            target.push(frame)
        if status == OFFLINE and self._on_offline is not None:
            self._spawn(self._on_offline(tenant_id, account_id))

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        # Last-seen is best effort: during a database outage it is skipped, and said so.
        tasks.spawn(coro, into=self._background, name="hub.on_offline")

    def _typing_changed(
        self, conversation_id: uuid.UUID, account_id: uuid.UUID, typing: bool
    ) -> None:
        frame = orjson.dumps(
            {
                "op": "typing.updated",
                "conversation_id": str(conversation_id),
                "account_id": str(account_id),
                "typing": typing,
                # Seconds, always a float: the TTL while typing, 0.0 once stopped.
                "expires_in": float(self.typing.ttl) if typing else 0.0,
            }
        ).decode()
        for socket in list(self.by_conversation.get(conversation_id, ())):
            if socket.account_id != account_id:
                socket.push(frame)

    def presence_of(self, tenant_id: uuid.UUID, account_ids: set[uuid.UUID]) -> dict[str, str]:
        """Each account's presence as a member of `tenant_id`, and only there."""
        return {str(a): self.presence.status((tenant_id, a)) for a in account_ids}

    def last_seen_of(
        self, tenant_id: uuid.UUID, account_ids: set[uuid.UUID]
    ) -> dict[uuid.UUID, dt.datetime]:
        """When each offline account's last socket here went, where this node saw it."""
        seen = {a: self.presence.last_seen((tenant_id, a)) for a in account_ids}
        return {a: t for a, t in seen.items() if t is not None}

    async def close_all(self) -> None:
        self.typing.clear()
        self._order.close()
        for sockets in list(self.by_account.values()):
            for socket in list(sockets):
                socket.abort(CloseCode.GOING_AWAY, "server shutting down")
