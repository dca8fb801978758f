"""Socket ops of the gateway itself: ping, resume, typing and presence."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import Field

from careline.kit import limits
from careline.kit.errors import InvalidInput, NotFound
from careline.kit.fields import Seq
from careline.realtime.presence import STATUSES
from careline.realtime.protocol import OpArgs, Session, op


class NoArgs(OpArgs):
    pass


class ResumeArgs(OpArgs):
    conversations: dict[uuid.UUID, Seq] = Field(max_length=limits.RESUME_MAX_CONVERSATIONS)


class TypingArgs(OpArgs):
    conversation_id: uuid.UUID


class PresenceArgs(OpArgs):
    status: str


@op("ping", NoArgs)
async def ping(session: Session, args: NoArgs) -> dict[str, Any]:
    return {}


@op("resume", ResumeArgs)
async def resume(session: Session, args: ResumeArgs) -> dict[str, Any]:
    """Replays what was missed, in seq order, before this op's ack."""
    return await session.resume(dict(args.conversations))


def _require(session: Session, conversation_id: uuid.UUID) -> None:
    if not session.in_conversation(conversation_id):
        raise NotFound("no such conversation")


@op("typing.start", TypingArgs)
async def typing_start(session: Session, args: TypingArgs) -> dict[str, Any]:
    _require(session, args.conversation_id)
    session.set_typing(args.conversation_id, True)
    return {}


@op("typing.stop", TypingArgs)
async def typing_stop(session: Session, args: TypingArgs) -> dict[str, Any]:
    _require(session, args.conversation_id)
    session.set_typing(args.conversation_id, False)
    return {}


@op("presence.set", PresenceArgs)
async def presence_set(session: Session, args: PresenceArgs) -> dict[str, Any]:
    if args.status not in STATUSES:
        raise InvalidInput("status is online or away", code="invalid_status")
    session.set_presence(args.status)
    return {"status": args.status}
