"""The careline socket protocol, without I/O: frame parsing, op registry, close codes and
the connection state machine. docs/protocol.md is the reference for client authors."""

from __future__ import annotations

import enum
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import orjson
from pydantic import BaseModel, ConfigDict, ValidationError

from careline.kit import fields, limits, text

if TYPE_CHECKING:
    from careline.db.tx import Actor


class CloseCode(enum.IntEnum):
    """Close codes careline uses (docs/protocol.md#close-codes)."""

    NORMAL = 1000
    GOING_AWAY = 1001  # the server is shutting down: reconnect and resume
    TOO_BIG = 1009  # a frame over WS_FRAME_MAX_BYTES
    TRY_AGAIN_LATER = 1013  # the database is unavailable: reconnect after a short wait
    PROTOCOL_ERROR = 4000  # too many malformed frames
    UNAUTHENTICATED = 4001  # bad token, or the session ended (signed out, revoked, expired)
    AUTH_TIMEOUT = 4002  # no auth frame in time
    FORBIDDEN_ORIGIN = 4003  # Origin not allowed (also refused at the handshake)
    SLOW_CONSUMER = 4008  # the client did not read fast enough; reconnect and resume
    TOO_MANY_SOCKETS = 4029  # the person's oldest socket, over their cap: do not reconnect


class State(enum.Enum):
    AUTHENTICATING = "authenticating"
    READY = "ready"
    CLOSING = "closing"
    CLOSED = "closed"


TRANSITIONS: dict[State, frozenset[State]] = {
    State.AUTHENTICATING: frozenset({State.READY, State.CLOSING, State.CLOSED}),
    State.READY: frozenset({State.CLOSING, State.CLOSED}),
    State.CLOSING: frozenset({State.CLOSED}),
    State.CLOSED: frozenset(),
}

AUTH_TIMEOUT_SECONDS = 10.0
MAX_BAD_FRAMES = 20


class ProtocolError(Exception):
    """A frame that gets an error frame back (the connection stays open)."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        ref: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.ref = ref
        self.extra = extra or {}


@dataclass(frozen=True, slots=True)
class Frame:
    op: str
    ref: str
    args: dict[str, Any]


def parse_frame(raw: str | bytes) -> Frame:
    """Decode a client frame: a JSON object with a string `op` and `ref`."""
    if len(raw) > limits.WS_FRAME_MAX_BYTES:
        raise ProtocolError(
            "frame_too_large", f"frames are at most {limits.WS_FRAME_MAX_BYTES} bytes"
        )
    _refuse_unstorable(raw)
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ProtocolError("bad_frame", "a frame is one JSON object") from None
    if not isinstance(data, dict):
        raise ProtocolError("bad_frame", "a frame is one JSON object")
    ref = data.pop("ref", None)
    if not isinstance(ref, str) or not 0 < len(ref) <= 64:
        raise ProtocolError("bad_frame", "every request carries a string `ref` of 1-64 characters")
    op = data.pop("op", None)
    if not isinstance(op, str) or not 0 < len(op) <= 64:
        raise ProtocolError("bad_frame", "every request carries a string `op`", ref=ref)
    return Frame(op=op, ref=ref, args=data)


def _refuse_unstorable(raw: str | bytes) -> None:
    """Text PostgreSQL cannot hold (NUL, lone surrogates) is refused for every op in one
    place, naming the field, with the frame's ref when the ref itself is sound."""
    found = text.find_unstorable_json(raw)
    if found is None:
        return
    document, field = found
    ref = document.get("ref") if isinstance(document, dict) else None
    if not isinstance(ref, str) or not 0 < len(ref) <= 64 or not text.storable(ref):
        ref = None
    detail, extra = text.unstorable_problem(field or "frame")
    raise ProtocolError("invalid_text", detail, ref=ref, extra=extra)


def ack(ref: str, result: dict[str, Any] | None = None) -> str:
    return orjson.dumps({"op": "ack", "ref": ref, "result": result or {}}).decode()


def error(ref: str | None, code: str, message: str, **extra: Any) -> str:
    return orjson.dumps(
        {"op": "error", "ref": ref, "code": code, "message": message, **extra}
    ).decode()


class OpArgs(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Session(Protocol):
    """What an op handler may use of its connection (the gateway implements it)."""

    @property
    def actor(self) -> Actor: ...

    def in_conversation(self, conversation_id: uuid.UUID) -> bool: ...

    async def resume(self, cursors: dict[uuid.UUID, int]) -> dict[str, Any]: ...

    async def caught_up(self, conversation_id: uuid.UUID, seq: int) -> None: ...

    def set_presence(self, status: str) -> None: ...

    def set_typing(self, conversation_id: uuid.UUID, typing: bool) -> None: ...

    def push(self, frame: str) -> None:
        """Queue an event frame for this socket (a full queue closes it with 4008)."""


Handler = Callable[[Session, Any], Awaitable[dict[str, Any] | None]]


@dataclass(frozen=True, slots=True)
class OpSpec:
    name: str
    args: type[OpArgs]
    handler: Handler


OPS: dict[str, OpSpec] = {}


def op(name: str, args: type[OpArgs]) -> Callable[[Handler], Handler]:
    """Register a socket op handler. Handlers are thin: parse, one service call, result."""

    def register(handler: Handler) -> Handler:
        if name in OPS:
            raise RuntimeError(f"op {name!r} registered twice")
        OPS[name] = OpSpec(name, args, handler)
        return handler

    return register


log = logging.getLogger(__name__)

CloseHook = Callable[[Session], None]
CLOSE_HOOKS: list[CloseHook] = []


def on_close(hook: CloseHook) -> CloseHook:
    """Run `hook` when an authenticated socket closes (e.g. to forget what it said about
    itself); a hook is quick, synchronous and never raises."""
    CLOSE_HOOKS.append(hook)
    return hook


def closed(session: Session) -> None:
    for hook in CLOSE_HOOKS:
        try:
            hook(session)
        except Exception:
            log.exception("a socket close hook failed")


def validate_args(spec: OpSpec, frame: Frame) -> OpArgs:
    try:
        return spec.args.model_validate(frame.args)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False)
        details = [
            {"field": ".".join(str(p) for p in e["loc"]), "problem": e["msg"]} for e in errors
        ]
        code, extra = fields.error_code(errors)
        raise ProtocolError(
            code,
            f"invalid arguments for {spec.name}",
            ref=frame.ref,
            extra={"errors": details, **extra},
        ) from exc
