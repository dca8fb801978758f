"""HTTP: the notification centre (the bell): your records, newest first; how many are
unread; marking them read (your other devices follow)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from careline.auth.api import CurrentActor
from careline.db.tx import transaction
from careline.kit import limits
from careline.kit.pagination import clamp_limit, decode_time_cursor
from careline.notifications import service as notification_service
from careline.notifications.schemas import (
    MarkedRead,
    MarkRead,
    NotificationPage,
    NotificationSummary,
)
from careline.web.http import ERRORS

router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"], responses=ERRORS)


@router.get("", response_model=NotificationPage)
async def list_notifications(
    actor: CurrentActor,
    cursor: str | None = Query(None, max_length=500),
    limit: int | None = Query(None, ge=1, le=limits.PAGE_MAX),
) -> dict[str, Any]:
    """Your notifications in this organisation, most recently told first (a record told
    again, one more message, moves up), read ones included. Each names its conversation,
    kind, count and `first_seq`, the first message it covers (where a click opens)."""
    before = decode_time_cursor(cursor)
    async with transaction(actor, readonly=True) as tx:
        items, next_cursor = await notification_service.list_notifications(
            tx, before=before, limit=clamp_limit(limit)
        )
    return {"items": items, "next_cursor": next_cursor}


@router.get("/summary", response_model=NotificationSummary)
async def get_notification_summary(actor: CurrentActor) -> dict[str, int]:
    """What the bell shows: `unread` records and the `messages` they count."""
    async with transaction(actor, readonly=True) as tx:
        return await notification_service.summary(tx)


@router.post("/read", response_model=MarkedRead)
async def mark_notifications_read(body: MarkRead, actor: CurrentActor) -> dict[str, Any]:
    """Mark `ids` read, or `all: true`. Answers the ids that changed and the new
    summary; every device of yours gets `notification.read`. An id that is not yours
    is 404 `not_found` and nothing changes."""
    async with transaction(actor) as tx:
        ids = await notification_service.do_mark_read(tx, ids=None if body.all else body.ids)
        counts = await notification_service.summary(tx)
    return {"ids": ids, **counts}
