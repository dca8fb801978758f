"""Socket ops of notifications (docs/protocol.md): `notifications.read`, mark your
records read as `POST /api/v1/notifications/read` does; `visibility.set`, what this
device shows."""

from __future__ import annotations

import uuid
from typing import Any

from careline.db.tx import transaction
from careline.kit.errors import NotFound
from careline.notifications import service as notification_service
from careline.notifications import visibility
from careline.notifications.schemas import MarkRead
from careline.realtime import protocol
from careline.realtime.protocol import OpArgs, Session, op


class MarkReadArgs(MarkRead, OpArgs):
    pass


@op("notifications.read", MarkReadArgs)
async def mark_read(session: Session, args: MarkReadArgs) -> dict[str, Any]:
    async with transaction(session.actor) as tx:
        ids = await notification_service.do_mark_read(tx, ids=None if args.all else args.ids)
        counts = await notification_service.summary(tx)
    return {"ids": [str(i) for i in ids], **counts}


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
