"""One WebSocket per client at /api/v1/ws: handshake, first-frame auth, the read loop,
a bounded write queue, catch-up by seq, and op dispatch."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid
from dataclasses import dataclass, field
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from careline import config
from careline.audit import service as audit_service
from careline.auth import service as auth_service
from careline.config import Settings
from careline.conversations import service as conversation_service
from careline.conversations.records import TimelineEvent
from careline.db.tx import Actor, Tx, transaction
from careline.kit import limits, tasks
from careline.kit.errors import AppError, DatabaseUnavailable
from careline.messages.events import MESSAGE_EVENTS
from careline.realtime import protocol
from careline.realtime.fanout import Hub
from careline.realtime.presence import ONLINE
from careline.realtime.protocol import CloseCode, Frame, ProtocolError, State
from careline.realtime.render import event_frames

log = logging.getLogger(__name__)

_CATCH_UP_RETRY_SECONDS = (0.5, 10.0)  # first wait and cap, doubling, while the db is down
# How long a sender's ack waits for its own message.sent: the live event first, then a
# read from PostgreSQL.
_CAUGHT_UP_WAIT_SECONDS = (1.0, 4.0)
# A client that sends no request this long after its auth ack (a pure listener) gets its
# live events from then on; held until then, they cannot overtake a prompt resume.
_FIRST_REQUEST_GRACE_SECONDS = 5.0


@dataclass(eq=False, slots=True)
class _Behind:
    """A conversation waiting for catch-up. `last_seq`: the seq its replay goes up to
    (None: not known yet), set once - by the resume's read, else by the first catch-up
    read - and never moved on by a later read: everything committed after that read was
    published after the conversation began holding, so the held live frames carry it.
    Chasing each read's last seq instead never ended while people kept sending (the
    resume ack never came). The replay is done once the cursor reaches it and the held
    frames continue from there; a gap in them moves it to just before the first held
    frame (everything before a committed seq has committed too)."""

    last_seq: int | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)


async def _audit_replay(
    tx: Tx,
    reads: list[tuple[uuid.UUID, _Behind, int, int]],
    frames: list[tuple[TimelineEvent, str]],
) -> None:
    """One `conversation.caught_up` per conversation whose replay carries messages: what
    a client reads when it resumes (or fills a gap) rather than live."""
    counts: dict[uuid.UUID, int] = {}
    for event, _ in frames:
        if event.type in MESSAGE_EVENTS:
            counts[event.conversation_id] = counts.get(event.conversation_id, 0) + 1
    for conversation_id, _, after, _ in reads:
        if count := counts.get(conversation_id):
            await audit_service.record(
                tx,
                "conversation.caught_up",
                conversation_id=conversation_id,
                detail={"after_seq": after, "count": count},
            )


class Connection:
    """One authenticated socket. Implements protocol.Session for op handlers and
    fanout.Socket for the hub."""

    def __init__(self, ws: WebSocket, hub: Hub, settings: Settings) -> None:
        self.ws = ws
        self.hub = hub
        self.settings = settings
        self.state = State.AUTHENTICATING
        self.queue: asyncio.Queue[str | None] = asyncio.Queue(maxsize=settings.ws_send_queue_max)
        self._actor: Actor | None = None
        self._token = ""
        self.conversations: set[uuid.UUID] = set()
        # Per conversation: the highest seq this socket has sent. It only moves forward,
        # and a timeline frame goes out only above it: seq strictly increases.
        self.cursors: dict[uuid.UUID, int] = {}
        # Live timeline frames held back, per conversation, while it catches up (or until
        # the first request after auth says where the client is); bounded by the queue.
        self._held: dict[uuid.UUID, dict[int, str]] = {}
        # Per conversation: the seq this socket's stream started after (the client had
        # everything up to it, or the socket's first frame was the next one).
        self._start: dict[uuid.UUID, int] = {}
        self._holding: set[uuid.UUID] = set()
        self._before_first_request = True
        # Conversations waiting for the catch-up task, in the order they fell behind.
        self._behind: dict[uuid.UUID, _Behind] = {}
        self._catcher: asyncio.Task[None] | None = None
        self._waiters: dict[uuid.UUID, list[tuple[int, asyncio.Future[None]]]] = {}
        self._draining = False
        self._idle = asyncio.Event()
        self._idle.set()
        self._writer: asyncio.Task[None] | None = None
        self._done = asyncio.Event()
        self._close_code = CloseCode.NORMAL
        self._close_reason = ""
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closing: asyncio.Task[Any] | None = None

    # identity -------------------------------------------------------------------------

    @property
    def actor(self) -> Actor:
        assert self._actor is not None
        return self._actor

    @property
    def account_id(self) -> uuid.UUID:
        return self.actor.account

    @property
    def tenant_id(self) -> uuid.UUID:
        return self.actor.tenant

    @property
    def session_id(self) -> uuid.UUID | None:
        return self.actor.session_id

    def _move(self, new: State) -> None:
        if new not in protocol.TRANSITIONS[self.state]:
            raise RuntimeError(f"socket cannot go from {self.state} to {new}")
        self.state = new

    # output ---------------------------------------------------------------------------

    def push(self, frame: str) -> None:
        if self.state is not State.READY:
            return
        try:
            self.queue.put_nowait(frame)
        except asyncio.QueueFull:
            self.abort(CloseCode.SLOW_CONSUMER, "too slow: reconnect and resume")

    def push_timeline(self, conversation_id: uuid.UUID, seq: int, frame: str) -> None:
        """Send a live timeline event in seq order. While the conversation catches up
        (or before the first request after auth) it is held, and sent after the replay
        unless the replay had it; a gap (events published out of order, or a missed bus
        message) is filled from PostgreSQL before anything later is sent."""
        if self._before_first_request or conversation_id in self._holding:
            self._hold(conversation_id, seq, frame)
            return
        cursor = self.cursors.get(conversation_id)
        if cursor is None or seq == cursor + 1:
            self._send_timeline(conversation_id, seq, frame)
        elif seq > cursor:
            self._hold(conversation_id, seq, frame)
            self._start_catch_up(conversation_id)

    def _send_timeline(self, conversation_id: uuid.UUID, seq: int, frame: str) -> None:
        if conversation_id not in self.cursors:
            self._start[conversation_id] = seq - 1
        if seq > self.cursors.get(conversation_id, -1):
            self.push(frame)
            self._advance(conversation_id, seq)

    def _advance(self, conversation_id: uuid.UUID, seq: int) -> None:
        self.cursors[conversation_id] = seq
        waiters = self._waiters.get(conversation_id)
        if waiters:
            for target, future in [w for w in waiters if w[0] <= seq]:
                waiters.remove((target, future))
                if not future.done():
                    future.set_result(None)

    def _hold(self, conversation_id: uuid.UUID, seq: int, frame: str) -> None:
        # Few conversations hold frames at once (those catching up), so counting is cheap.
        if sum(map(len, self._held.values())) >= self.settings.ws_send_queue_max:
            self.abort(CloseCode.SLOW_CONSUMER, "too slow: reconnect and resume")
            return
        held = self._held.setdefault(conversation_id, {})
        if seq not in held:
            held[seq] = frame

    def _release_held(self, conversation_id: uuid.UUID) -> bool:
        """Send the held frames that continue the cursor; drop those the replay sent.
        True when none is left (no gap to fill from PostgreSQL)."""
        held = self._held.pop(conversation_id, {})
        for seq in sorted(held):
            cursor = self.cursors.get(conversation_id, seq - 1)
            if seq <= cursor:
                continue
            if seq != cursor + 1:
                rest = {s: f for s, f in held.items() if s >= seq}
                self._held[conversation_id] = rest
                return False
            self._send_timeline(conversation_id, seq, held[seq])
        return True

    def _release_first(self) -> None:
        """The first request after auth: what nobody resumes streams live from here."""
        if not self._before_first_request:
            return
        self._before_first_request = False
        for conversation_id in list(self._held):
            if conversation_id not in self._holding and not self._release_held(conversation_id):
                self._start_catch_up(conversation_id)

    async def _release_first_later(self) -> None:
        await asyncio.sleep(_FIRST_REQUEST_GRACE_SECONDS)
        if self.state is State.READY:
            self._release_first()

    async def caught_up(self, conversation_id: uuid.UUID, seq: int) -> None:
        """Return once this socket has sent the conversation's events up to `seq` (a
        sender's own message.sent goes out before its ack). Bounded: on one node the
        event is normally out already; a late one is fetched from PostgreSQL."""
        for attempt in range(2):
            if self.cursors.get(conversation_id, -1) >= seq or self.state is not State.READY:
                return
            future = asyncio.get_running_loop().create_future()
            self._waiters.setdefault(conversation_id, []).append((seq, future))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(future, _CAUGHT_UP_WAIT_SECONDS[attempt])
            if conversation_id in self.cursors and conversation_id not in self._holding:
                self._start_catch_up(conversation_id)

    def forget(self, conversation_id: uuid.UUID) -> None:
        self.cursors.pop(conversation_id, None)
        self._start.pop(conversation_id, None)
        self._holding.discard(conversation_id)
        self._held.pop(conversation_id, None)
        self._caught_up(conversation_id)

    def abort(self, code: CloseCode, reason: str) -> None:
        if self.state in (State.CLOSING, State.CLOSED):
            return
        was_ready = self.state is State.READY
        self._move(State.CLOSING)
        if was_ready:
            self.hub.detach(self)  # nothing more is queued for a socket that is going
        self._close_code, self._close_reason = code, reason
        with contextlib.suppress(asyncio.QueueFull):
            self.queue.put_nowait(None)
        self._closing = self._spawn(self._close_soon(), "socket.close")

    async def _close_soon(self) -> None:
        # A slow consumer's writer may be stuck on a full TCP buffer: close regardless. If
        # the close frame cannot be written either, the transport aborts the connection at
        # the write deadline (transport.py) and this returns.
        await asyncio.sleep(0.05)
        with contextlib.suppress(Exception):
            await self.ws.close(code=self._close_code, reason=self._close_reason)

    def _spawn(self, coro: Any, name: str) -> asyncio.Task[Any]:
        return tasks.spawn(coro, into=self._tasks, name=name)

    async def _write_loop(self) -> None:
        while True:
            frame = await self.queue.get()
            if frame is None:
                return
            try:
                await self.ws.send_text(frame)
            except WebSocketDisconnect:
                # Gone, or aborted because it stopped reading (transport.py logs that):
                # the read loop sees the disconnect and frees the rest.
                return

    # catch-up -------------------------------------------------------------------------

    def _start_catch_up(self, conversation_id: uuid.UUID) -> None:
        """Hold the conversation's live frames and have the socket's catch-up task fill
        it from PostgreSQL. One task per socket reads every conversation that is behind,
        a batch at a time: a socket holds at most one pooled connection for catch-up,
        however many conversations it resumes."""
        self._holding.add(conversation_id)
        if conversation_id not in self._behind:
            self._behind[conversation_id] = _Behind()
        if self._catcher is None:
            self._catcher = self._spawn(self._catch_up(), "socket.catch_up")

    async def _catch_up(self) -> None:
        """Replay from PostgreSQL after each cursor, then the held live frames. Every
        held seq has committed, and so has everything before it: when the held frames do
        not continue the replay, one more read fills the gap. While the database is down
        the live frames stay held (bounded by the send queue) and the read is retried."""
        first_retry, cap = _CATCH_UP_RETRY_SECONDS
        retry = first_retry
        try:
            while self.state is State.READY and self._behind:
                # Empty only once every conversation was released.
                reads = self._plan_reads()
                if not reads:
                    # Every conversation left has something to read (a target above
                    # its cursor), so this is empty only once all were released; were
                    # it not, looping here without an await would never yield.
                    break
                try:
                    await self._replay_batch(reads)
                    retry = first_retry
                except DatabaseUnavailable:
                    # The events wait in PostgreSQL: fetch them once it answers again.
                    await asyncio.sleep(retry)
                    retry = min(retry * 2, cap)
        finally:
            # Normally none is left. When the socket goes (or on a bug) the resume that
            # waits must not wait forever; a later gap starts another task.
            self._catcher = None
            for conversation_id in list(self._behind):
                self._caught_up(conversation_id)

    def _plan_reads(self) -> list[tuple[uuid.UUID, _Behind, int, int]]:
        """Release the conversations that are caught up; the next batch of reads for the
        rest: (conversation, entry, after_seq, limit), at most CATCH_UP_READ_EVENTS events.
        No await: a live frame arrives either before a release (held, released here) or
        after it (sent directly)."""
        reads: list[tuple[uuid.UUID, _Behind, int, int]] = []
        room = limits.CATCH_UP_READ_EVENTS
        for conversation_id, behind in list(self._behind.items()):
            if self._release_if_caught_up(conversation_id, behind):
                continue
            cursor = self.cursors.get(conversation_id)
            if cursor is None:
                # Not reached: a release without a cursor sends the first held frame,
                # which sets one. Were it reached, the stream starts live from here.
                self._caught_up(conversation_id)
                continue
            if room:
                wanted = limits.CATCH_UP_READ_EVENTS_PER_CONVERSATION
                if behind.last_seq is not None:
                    wanted = min(wanted, behind.last_seq - cursor)
                reads.append((conversation_id, behind, cursor, min(wanted, room)))
                room -= reads[-1][3]
        return reads

    def _release_if_caught_up(self, conversation_id: uuid.UUID, behind: _Behind) -> bool:
        """Done if the cursor is where the latest read saw the conversation end and the
        held frames continue from there; otherwise it has a cursor and must be read."""
        cursor = self.cursors.get(conversation_id)
        # Without a cursor (the resume's read failed) the held frames go first.
        if cursor is None or (behind.last_seq is not None and cursor >= behind.last_seq):
            if self._release_held(conversation_id):
                self._caught_up(conversation_id)
                return True
            # The held frames left a gap (a bus message lost or late): read up to the
            # first of them, which has committed, and so has everything before it.
            behind.last_seq = min(self._held[conversation_id]) - 1
        return False

    async def _replay_batch(self, reads: list[tuple[uuid.UUID, _Behind, int, int]]) -> None:
        """One transaction, one statement for the events: send each conversation's page
        after its cursor, in seq order, and note how far it has to go."""
        async with transaction(self.actor) as tx:
            found = await conversation_service.timelines(tx, [(c, a, n) for c, _, a, n in reads])
            frames = await event_frames(tx, [e for _, events in found.values() for e in events])
            await _audit_replay(tx, reads, frames)
        by_conversation: dict[uuid.UUID, list[tuple[int, str]]] = {}
        for event, frame in frames:
            by_conversation.setdefault(event.conversation_id, []).append((event.seq, frame))
        for conversation_id, behind, after, limit in reads:
            if self._behind.get(conversation_id) is not behind:
                continue  # forgotten meanwhile (left the conversation, or the socket went)
            if conversation_id not in found:
                self.forget(conversation_id)  # no longer a participant
                continue
            last_seq, _ = found[conversation_id]
            for seq, frame in by_conversation.get(conversation_id, ()):
                if self._behind.get(conversation_id) is not behind:
                    break
                if seq > self.cursors.get(conversation_id, seq):
                    # Replay waits for room: only live traffic a client cannot keep up
                    # with counts as slow. The cursor moves once the frame is queued.
                    await self.queue.put(frame)
                    self._advance(conversation_id, seq)
            if self._behind.get(conversation_id) is not behind:
                continue
            # Past the events with no frame too (a message this actor may not read): the
            # read had every event of its range up to last_seq.
            read_to = min(after + limit, last_seq)
            self._advance(conversation_id, max(self.cursors[conversation_id], read_to))
            if behind.last_seq is None:
                behind.last_seq = last_seq  # the target, from now on (see _Behind)

    def _caught_up(self, conversation_id: uuid.UUID) -> None:
        self._holding.discard(conversation_id)
        behind = self._behind.pop(conversation_id, None)
        if behind is not None:
            behind.done.set()

    async def resume(self, cursors: dict[uuid.UUID, int]) -> dict[str, Any]:
        """Replay, per conversation, every event after the client's seq, in order; then
        continue live. Too far behind: status "reset" (refetch history over REST).
        Nothing this socket sent already is sent again: the replay starts after the
        client's seq or the socket's cursor, whichever is higher.

        One statement reads every named conversation's last seq; only those with events
        after their cursor are read again, in batches (the catch-up task). The resume
        holds one pooled connection, then the catch-up task's one."""
        known = [c for c in cursors if c in self.conversations]
        self._holding.update(known)  # before any await: live frames wait from here
        self._release_first()
        try:
            async with transaction(self.actor, readonly=True) as tx:
                last = await conversation_service.last_seqs(tx, known)
        finally:
            for conversation_id in known:
                self._start_catch_up(conversation_id)
        result: dict[str, Any] = {}
        for conversation_id, after in cursors.items():
            if conversation_id not in last:
                result[str(conversation_id)] = {"status": "not_found"}
            else:
                result[str(conversation_id)] = self._resumed(
                    conversation_id, after, last[conversation_id]
                )
        for conversation_id in known:
            entry = self._behind.get(conversation_id)
            if entry is not None:
                await entry.done.wait()
        return {"conversations": result}

    def _resumed(self, conversation_id: uuid.UUID, after: int, last_seq: int) -> dict[str, Any]:
        """Where the replay of one conversation starts, and its status. No await."""
        sent = self.cursors.get(conversation_id)
        # A socket that streamed this conversation from later than `after` cannot
        # send what came before without breaking seq order: that is a reset too.
        streamed_later = sent is not None and after < self._start.get(conversation_id, 0)
        status, start = "ok", after
        if streamed_later or after > last_seq or last_seq - after > limits.RESUME_MAX_EVENTS:
            status, start = "reset", last_seq
        if sent is None:
            self._start[conversation_id] = start
        self._advance(conversation_id, max(start, -1 if sent is None else sent))
        entry = self._behind.get(conversation_id)
        if entry is not None:
            # What the read saw sizes the replay; where nothing is new, it is done.
            entry.last_seq = last_seq
            self._release_if_caught_up(conversation_id, entry)
        return {"status": status, "last_seq": last_seq}

    # protocol.Session -----------------------------------------------------------------

    def in_conversation(self, conversation_id: uuid.UUID) -> bool:
        return conversation_id in self.conversations

    def set_presence(self, status: str) -> None:
        self.hub.presence.set((self.tenant_id, self.account_id), self, status)

    def set_typing(self, conversation_id: uuid.UUID, typing: bool) -> None:
        if typing:
            self.hub.typing.start(conversation_id, self.account_id)
        else:
            self.hub.typing.stop(conversation_id, self.account_id)

    # lifecycle ------------------------------------------------------------------------

    async def run(self) -> None:
        writer = self._writer = self._spawn(self._write_loop(), "socket.write")
        self.hub.sockets.add(self)
        counted = False
        try:
            try:
                ref = await asyncio.wait_for(self._authenticate(), protocol.AUTH_TIMEOUT_SECONDS)
            except TimeoutError:
                await self.ws.close(CloseCode.AUTH_TIMEOUT, "no auth frame in time")
                return
            if ref is None or self._draining:
                return
            async with transaction(self.actor, readonly=True) as tx:
                self.conversations = set(await conversation_service.list_conversation_ids(tx))
            self._move(State.READY)
            self.hub.attach(self)
            counted = True
            await self.hub.person_sockets.opened(self, self.settings.ws_max_sockets_per_person)
            self.push(protocol.ack(ref, self._ready_payload()))
            self.set_presence(ONLINE)
            self._spawn(self._recheck_session(), "socket.recheck_session")
            self._spawn(self._release_first_later(), "socket.release_first")
            await self._read_loop()
        except WebSocketDisconnect:
            pass
        except DatabaseUnavailable:
            # Only before READY (ops answer errors themselves): the client retries.
            with contextlib.suppress(Exception):
                await self.ws.close(CloseCode.TRY_AGAIN_LATER, "database unavailable")
        finally:
            self.hub.sockets.discard(self)
            if counted:
                protocol.closed(self)
                await self.hub.person_sockets.closed(self)
            self._done.set()
            if self.state is State.READY:
                self.hub.detach(self)
            for conversation_id in list(self._behind):
                self.forget(conversation_id)
            with contextlib.suppress(asyncio.QueueFull):
                self.queue.put_nowait(None)
            if self.state is not State.CLOSED:
                self.state = State.CLOSED
            if self._closing is not None:
                # Let the close frame with its code go out before the handler returns.
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(asyncio.shield(self._closing), 5)
            for task in list(self._tasks):
                if task is not writer:
                    task.cancel()
            writer.cancel()

    def _ready_payload(self) -> dict[str, Any]:
        actor = self.actor
        return {
            "account_id": str(actor.account_id),
            "tenant_id": str(actor.tenant_id),
            "role": actor.role.value,
            "session_id": str(actor.session_id),
            # Durations are always JSON floats (seconds, may have a fraction); sizes and
            # counts are always integers (docs/protocol.md#connecting-and-authenticating).
            "heartbeat_seconds": float(self.settings.ws_heartbeat_seconds),
            "typing_ttl_seconds": float(self.settings.typing_ttl_seconds),
            "away_after_seconds": float(self.settings.away_after_seconds),
            "limits": {
                "frame_bytes": limits.WS_FRAME_MAX_BYTES,
                "message_chars": limits.MESSAGE_TEXT_MAX_CHARS,
                "send_queue": self.settings.ws_send_queue_max,
                "resume_events": limits.RESUME_MAX_EVENTS,
                "sockets_per_person": self.settings.ws_max_sockets_per_person,
                # As the services read them (docs/limits.md#per-person-budgets), so a
                # client can pace itself rather than learn them from refusals.
                "budgets": _budgets(config.current()),
            },
        }

    async def _receive(self) -> str | bytes | None:
        message = await self.ws.receive()
        if message["type"] == "websocket.disconnect":
            return None
        text: str | bytes | None = message.get("text")
        return text if text is not None else message.get("bytes") or b""

    async def _authenticate(self) -> str | None:
        """The first frame must be `auth`. Returns its ref, or None after closing."""
        raw = await self._receive()
        if raw is None:
            return None
        try:
            frame = _decode(raw)
        except ProtocolError as exc:
            await self.ws.close(CloseCode.UNAUTHENTICATED, exc.message)
            return None
        token = frame.args.get("token")
        if frame.op != "auth":
            await self.ws.close(CloseCode.UNAUTHENTICATED, "the first frame must be auth")
            return None
        if not isinstance(token, str):
            # A browser authenticates with its session cookie, plus the CSRF token that
            # only a page of careline's own origin can read.
            token = self.ws.cookies.get(auth_service.SESSION_COOKIE, "")
            csrf = frame.args.get("csrf")
            if not token or not isinstance(csrf, str) or csrf != auth_service.csrf_token(token):
                await self.ws.close(CloseCode.UNAUTHENTICATED, "invalid credentials")
                return None
        actor = await auth_service.authenticate(token)
        if actor is None:
            await self.ws.close(CloseCode.UNAUTHENTICATED, "invalid or expired session")
            return None
        self._actor, self._token = actor, token
        log.info("socket ready", extra={"account_id": str(actor.account_id)})
        return frame.ref

    async def _recheck_session(self) -> None:
        """Sessions also end by expiry; touching keeps an in-use session from idling out.
        The first wait is a random part of the period: sockets that connected together
        (after a restart, or a network blip) would otherwise all recheck in the same
        instant, every minute - two transactions each, queued ahead of people's sends."""
        period = self.settings.ws_session_recheck_seconds
        delay = period * (1.0 - random.random())  # noqa: S311 - spreading
        while self.state is State.READY:
            await asyncio.sleep(delay)
            delay = period
            try:
                if await auth_service.authenticate(self._token) is None:
                    self.abort(CloseCode.UNAUTHENTICATED, "session ended")
                    return
                await auth_service.touch(self.actor)
            except DatabaseUnavailable:
                continue  # check again next period; the socket stays up meanwhile

    async def _read_loop(self) -> None:
        bad_frames = 0
        # A draining socket reads on until the client answers the close frame (what it
        # still sends is refused with shutting_down, and goes nowhere).
        while self.state is State.READY or self._draining:
            raw = await self._receive()
            if raw is None:
                return
            self._idle.clear()  # an op is in flight: shutdown waits for its reply
            try:
                try:
                    frame = _decode(raw)
                    if frame.op != "resume":
                        self._release_first()
                    reply = await self._dispatch(frame)
                except ProtocolError as exc:
                    bad_frames += 1
                    reply = protocol.error(exc.ref, exc.code, exc.message, **exc.extra)
                    if bad_frames > protocol.MAX_BAD_FRAMES:
                        self.abort(CloseCode.PROTOCOL_ERROR, "too many malformed frames")
                self.push(reply)
            finally:
                self._release_first()
                self._idle.set()

    async def _dispatch(self, frame: Frame) -> str:
        if self._draining:
            # Nothing new starts once shutdown began; the client retries after resuming.
            return protocol.error(
                frame.ref, "shutting_down", "the server is restarting: reconnect and retry"
            )
        spec = protocol.OPS.get(frame.op)
        if spec is None:
            raise ProtocolError("unknown_op", f"unknown op {frame.op!r}", ref=frame.ref)
        args = protocol.validate_args(spec, frame)
        try:
            result = await spec.handler(self, args)
        except AppError as exc:
            return protocol.error(frame.ref, exc.code, exc.detail, **exc.extra)
        except Exception:
            log.exception("socket op failed", extra={"op": frame.op})
            return protocol.error(frame.ref, "internal_error", "something went wrong")
        return protocol.ack(frame.ref, result)

    # shutdown -------------------------------------------------------------------------

    async def shut_down(self, deadline: float) -> None:
        """Graceful shutdown of this socket: no new ops; the op in flight finishes (until
        `deadline`, loop time) and its reply is written; then close with 1001."""
        self._draining = True
        loop = asyncio.get_running_loop()
        if self.state is State.READY:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._idle.wait(), max(0.0, deadline - loop.time()))
            self._move(State.CLOSING)
            self.hub.detach(self)
            with contextlib.suppress(asyncio.QueueFull):
                self.queue.put_nowait(None)
            if self._writer is not None:
                # Every reply queued so far goes out before the close frame.
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(
                        asyncio.shield(self._writer), max(0.0, deadline - loop.time())
                    )
        with contextlib.suppress(Exception):
            await self.ws.close(code=CloseCode.GOING_AWAY, reason="server shutting down")
        # Wait for the handler to end. uvicorn hands it a disconnect as soon as the close
        # frame is sent; the client's half of the handshake is the protocol's to wait for
        # (realtime/transport.py, DeadlineWebSocketProtocol.shutdown).
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._done.wait(), max(1.0, deadline - loop.time()))


async def drain(hub: Hub, grace_seconds: float) -> None:
    """Graceful shutdown of every socket on this node, within `grace_seconds`."""
    hub.draining = True
    deadline = asyncio.get_running_loop().time() + grace_seconds
    sockets = [s for s in hub.sockets if isinstance(s, Connection)]
    if sockets:
        log.info("closing sockets for shutdown", extra={"sockets": len(sockets)})
        await asyncio.gather(*(s.shut_down(deadline) for s in sockets), return_exceptions=True)


def _decode(raw: str | bytes) -> Frame:
    if isinstance(raw, bytes):
        # Frames are text (docs/protocol.md#frames): a binary frame is refused, not guessed.
        raise ProtocolError("bad_frame", "frames are UTF-8 JSON sent as text frames")
    return protocol.parse_frame(raw)


def _budgets(settings: Settings) -> dict[str, str]:
    return {
        "sends_per_conversation": settings.budget_sends_per_conversation,
        "sends": settings.budget_sends,
        "reactions": settings.budget_reactions,
        "receipts": settings.budget_receipts,
        "typing": settings.budget_typing,
        "uploads": settings.budget_uploads,
    }


async def websocket_endpoint(ws: WebSocket) -> None:
    settings: Settings = ws.app.state.settings
    origin = ws.headers.get("origin")
    # Browsers always send Origin; refusing foreign ones stops cross-site socket hijacking.
    # Clients that are not browsers send none and authenticate with a bearer token.
    if origin is not None and origin not in settings.allowed_origins:
        await ws.close(code=CloseCode.FORBIDDEN_ORIGIN)
        return
    hub: Hub = ws.app.state.hub
    await ws.accept()
    if hub.draining:
        await ws.close(code=CloseCode.GOING_AWAY, reason="server shutting down")
        return
    await Connection(ws, hub, settings).run()
