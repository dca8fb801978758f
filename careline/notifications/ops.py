"""Socket op notifications.read: mark your notification records read, as
`POST /api/v1/notifications/read` does (docs/protocol.md)."""

from __future__ import annotations

from typing import Any

from careline.db.tx import transaction
from careline.notifications import service as notification_service
from careline.notifications.schemas import MarkRead
from careline.realtime.protocol import OpArgs, Session, op


class MarkReadArgs(MarkRead, OpArgs):
    pass


@op("notifications.read", MarkReadArgs)
async def mark_read(session: Session, args: MarkReadArgs) -> dict[str, Any]:
    async with transaction(session.actor) as tx:
        ids = await notification_service.do_mark_read(tx, ids=None if args.all else args.ids)
        counts = await notification_service.summary(tx)
    return {"ids": [str(i) for i in ids], **counts}
