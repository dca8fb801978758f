"""Socket ops of notifications: `visibility.set`, what this device shows (docs/protocol.md)."""

from __future__ import annotations

import uuid
from typing import Any

from careline.kit.errors import NotFound
from careline.notifications import visibility
from careline.realtime import protocol
from careline.realtime.protocol import OpArgs, Session, op


class VisibilityArgs(OpArgs):
    conversation_id: uuid.UUID | None
    visible: bool


@op("visibility.set", VisibilityArgs)
async def visibility_set(session: Session, args: VisibilityArgs) -> dict[str, Any]:
    """The conversation this socket's page shows (null: none) and whether the page is
    visible. While one of a person's devices shows a conversation visibly, nothing of it
    is sent outside the app (push, e-mail): the person is already looking."""
    if args.conversation_id is not None and not session.in_conversation(args.conversation_id):
        raise NotFound("no such conversation")
    member = (session.actor.tenant, session.actor.account)
    shown = args.conversation_id if args.visible else None
    visibility.current().set(member, session, shown)
    return {
        "conversation_id": str(args.conversation_id) if args.conversation_id else None,
        "visible": args.visible,
    }


def _forget(session: Session) -> None:
    visibility.current().drop((session.actor.tenant, session.actor.account), session)


protocol.on_close(_forget)
