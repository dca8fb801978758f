"""One WebSocket per client at /api/v1/ws: handshake, first-frame auth, the read loop,
a bounded write queue, catch-up by seq, and op dispatch."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from careline.auth import service as auth_service
from careline.config import Settings
from careline.conversations import service as conversation_service
from careline.db.tx import Actor, transaction
from careline.kit import limits, tasks
from careline.kit.errors import AppError, DatabaseUnavailable, NotFound
from careline.realtime import protocol
from careline.realtime.fanout import Hub
from careline.realtime.presence import ONLINE
from careline.realtime.protocol import CloseCode, Frame, ProtocolError, State
from careline.realtime.render import timeline_frames

log = logging.getLogger(__name__)

_CATCH_UP_PAGE = 200
_CATCH_UP_RETRY_SECONDS = (0.5, 10.0)  # first wait and cap, doubling, while the db is down


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
        self.cursors: dict[uuid.UUID, int] = {}
        self._catching: dict[uuid.UUID, asyncio.Task[None]] = {}
        self._missed: set[uuid.UUID] = set()
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
        """Send a timeline event in seq order. A client that resumed a conversation gets
        every seq exactly once; a gap (events published out of order, or a missed bus
        message) is filled from PostgreSQL before anything later is sent."""
        cursor = self.cursors.get(conversation_id)
        if cursor is None or (seq == cursor + 1 and conversation_id not in self._catching):
            self.cursors[conversation_id] = seq
            self.push(frame)
        elif seq > cursor:
            # Out of order, or a catch-up is running: let the catch-up fetch it in order.
            self._missed.add(conversation_id)
            self._start_catch_up(conversation_id)

    def forget(self, conversation_id: uuid.UUID) -> None:
        self.cursors.pop(conversation_id, None)
        task = self._catching.pop(conversation_id, None)
        if task is not None:
            task.cancel()

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
        # A slow consumer's writer may be stuck on a full TCP buffer: close regardless.
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
            await self.ws.send_text(frame)

    # catch-up -------------------------------------------------------------------------

    def _start_catch_up(self, conversation_id: uuid.UUID) -> None:
        if conversation_id not in self._catching:
            self._catching[conversation_id] = self._spawn(
                self._catch_up(conversation_id), "socket.catch_up"
            )

    async def _catch_up(self, conversation_id: uuid.UUID) -> None:
        retry, cap = _CATCH_UP_RETRY_SECONDS
        try:
            while conversation_id in self.cursors and self.state is State.READY:
                self._missed.discard(conversation_id)
                after = self.cursors[conversation_id]
                try:
                    async with transaction(self.actor, readonly=True) as tx:
                        events = await conversation_service.timeline(
                            tx, conversation_id, after_seq=after, limit=_CATCH_UP_PAGE
                        )
                        frames = await timeline_frames(tx, events)
                except DatabaseUnavailable:
                    # The events wait in PostgreSQL: fetch them once it answers again.
                    self._missed.add(conversation_id)
                    await asyncio.sleep(retry)
                    retry = min(retry * 2, cap)
                    continue
                for seq, frame in frames:
                    if seq > self.cursors.get(conversation_id, seq):
                        self.cursors[conversation_id] = seq
                        # Replay waits for room: only live traffic a client cannot keep
                        # up with counts as slow.
                        await self.queue.put(frame)
                if events:
                    self.cursors[conversation_id] = max(
                        self.cursors[conversation_id], events[-1].seq
                    )
                if len(events) < _CATCH_UP_PAGE and conversation_id not in self._missed:
                    return
        except NotFound:
            self.forget(conversation_id)
        finally:
            if self._catching.get(conversation_id) is asyncio.current_task():
                del self._catching[conversation_id]

    async def resume(self, cursors: dict[uuid.UUID, int]) -> dict[str, Any]:
        """Replay, per conversation, every event after the client's seq, in order; then
        continue live. Too far behind: status "reset" (refetch history over REST)."""
        known = [c for c in cursors if c in self.conversations]
        async with transaction(self.actor, readonly=True) as tx:
            last = await conversation_service.last_seqs(tx, known)
        result: dict[str, Any] = {}
        waits = []
        for conversation_id, after in cursors.items():
            if conversation_id not in last:
                result[str(conversation_id)] = {"status": "not_found"}
                continue
            last_seq = last[conversation_id]
            if after > last_seq or last_seq - after > limits.RESUME_MAX_EVENTS:
                self.forget(conversation_id)
                self.cursors[conversation_id] = last_seq
                result[str(conversation_id)] = {"status": "reset", "last_seq": last_seq}
                continue
            self.forget(conversation_id)
            self.cursors[conversation_id] = after
            self._start_catch_up(conversation_id)
            waits.append(self._catching[conversation_id])
            result[str(conversation_id)] = {"status": "ok", "last_seq": last_seq}
        if waits:
            await asyncio.gather(*waits, return_exceptions=True)
        return {"conversations": result}

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
        writer = self._spawn(self._write_loop(), "socket.write")
        try:
            try:
                ref = await asyncio.wait_for(self._authenticate(), protocol.AUTH_TIMEOUT_SECONDS)
            except TimeoutError:
                await self.ws.close(CloseCode.AUTH_TIMEOUT, "no auth frame in time")
                return
            if ref is None:
                return
            async with transaction(self.actor, readonly=True) as tx:
                self.conversations = set(await conversation_service.list_conversation_ids(tx))
            self._move(State.READY)
            self.hub.attach(self)
            self.push(protocol.ack(ref, self._ready_payload()))
            self.set_presence(ONLINE)
            self._spawn(self._recheck_session(), "socket.recheck_session")
            await self._read_loop()
        except WebSocketDisconnect:
            pass
        except DatabaseUnavailable:
            # Only before READY (ops answer errors themselves): the client retries.
            with contextlib.suppress(Exception):
                await self.ws.close(CloseCode.TRY_AGAIN_LATER, "database unavailable")
        finally:
            if self.state is State.READY:
                self.hub.detach(self)
            for conversation_id in list(self._catching):
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
            "heartbeat_seconds": self.settings.ws_heartbeat_seconds,
            "typing_ttl_seconds": self.settings.typing_ttl_seconds,
            "away_after_seconds": self.settings.away_after_seconds,
            "limits": {
                "frame_bytes": limits.WS_FRAME_MAX_BYTES,
                "message_chars": limits.MESSAGE_TEXT_MAX_CHARS,
                "send_queue": self.settings.ws_send_queue_max,
                "resume_events": limits.RESUME_MAX_EVENTS,
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
            frame = protocol.parse_frame(raw)
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
        while self.state is State.READY:
            raw = await self._receive()
            if raw is None:
                return
            try:
                frame = protocol.parse_frame(raw)
                reply = await self._dispatch(frame)
            except ProtocolError as exc:
                bad_frames += 1
                reply = protocol.error(exc.ref, exc.code, exc.message, **exc.extra)
                if bad_frames > protocol.MAX_BAD_FRAMES:
                    self.abort(CloseCode.PROTOCOL_ERROR, "too many malformed frames")
            self.push(reply)

    async def _dispatch(self, frame: Frame) -> str:
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


async def websocket_endpoint(ws: WebSocket) -> None:
    settings: Settings = ws.app.state.settings
    origin = ws.headers.get("origin")
    # Browsers always send Origin; refusing foreign ones stops cross-site socket hijacking.
    # Clients that are not browsers send none and authenticate with a bearer token.
    if origin is not None and origin not in settings.allowed_origins:
        await ws.close(code=CloseCode.FORBIDDEN_ORIGIN)
        return
    await ws.accept()
    await Connection(ws, ws.app.state.hub, settings).run()
