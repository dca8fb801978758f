"""Socket ops of the gateway itself: ping, resume, typing and presence."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import Field

from careline import config
from careline.db.tx import transaction
from careline.kit import budgets, limits
from careline.kit.errors import InvalidInput, NotFound
from careline.kit.fields import Seq
from careline.notifications import service as notification_service
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
    """Replays what was missed, in seq order, before this op's ack; the ack also carries
    the notification centre (summary and newest records), read after the replay."""
    resumed = await session.resume(dict(args.conversations))
    async with transaction(session.actor, readonly=True) as tx:
        resumed["notifications"] = await notification_service.centre(tx)
    return resumed


def _require(session: Session, conversation_id: uuid.UUID) -> None:
    if not session.in_conversation(conversation_id):
        raise NotFound("no such conversation")


async def _typing(session: Session, conversation_id: uuid.UUID, *, on: bool) -> dict[str, Any]:
    """Over the typing budget a frame is acknowledged with `dropped: true` and does
    nothing, rather than errored: typing is a hint that expires by itself, the web client
    sends it as a side effect of keystrokes and has nothing to show for an error, and
    the next frame after the wait says the same thing again."""
    _require(session, conversation_id)
    try:
        await budgets.spend(
            budgets.charge("typing", config.current().budget_typing, str(session.actor.account))
        )
    except budgets.OverBudget as over:
        return {"dropped": True, "budget": over.budget, "retry_after_ms": over.retry_after_ms}
    session.set_typing(conversation_id, on)
    return {}


@op("typing.start", TypingArgs)
async def typing_start(session: Session, args: TypingArgs) -> dict[str, Any]:
    return await _typing(session, args.conversation_id, on=True)


@op("typing.stop", TypingArgs)
async def typing_stop(session: Session, args: TypingArgs) -> dict[str, Any]:
    return await _typing(session, args.conversation_id, on=False)


@op("presence.set", PresenceArgs)
async def presence_set(session: Session, args: PresenceArgs) -> dict[str, Any]:
    if args.status not in STATUSES:
        raise InvalidInput("status is online or away", code="invalid_status")
    session.set_presence(args.status)
    return {"status": args.status}
