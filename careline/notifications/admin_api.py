"""HTTP for admins: every attempt a channel made, without content (docs/api.md)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel

from careline.auth.api import CurrentActor
from careline.db.tx import transaction
from careline.kit import limits
from careline.kit.errors import InvalidInput
from careline.kit.pagination import clamp_limit, decode_time_cursor, encode_cursor
from careline.notifications import attempts
from careline.tenants import service as tenant_service
from careline.web.http import ERRORS


class AttemptRead(BaseModel):
    """One attempt, for admins: ids, the channel, the outcome and codes; no content."""

    id: int
    account_id: uuid.UUID
    notification_id: uuid.UUID | None
    channel: Literal["push", "email", "digest"]
    kind: str
    outcome: Literal["sent", "retrying", "refused", "failed", "removed"]
    reason: str | None
    status: int | None
    at: dt.datetime


class AttemptsPage(BaseModel):
    items: list[AttemptRead]
    next_cursor: str | None


_LAST_ID = 2**63 - 1  # attempts are numbered (bigint); a cursor carries the last one seen

admin = APIRouter(prefix="/api/v1/admin", tags=["admin"], responses=ERRORS)


@admin.get("/notifications/attempts", response_model=AttemptsPage)
async def list_notification_attempts(
    actor: CurrentActor,
    failed: bool = Query(False, description="Only attempts that did not send."),
    cursor: str | None = Query(None, max_length=500),
    limit: int | None = Query(None, ge=1, le=limits.PAGE_MAX),
) -> dict[str, Any]:
    """Admins: what careline tried to send outside the app (web push, e-mail, digests),
    newest first: who (an account id), which record, which channel, the outcome and a
    reason code (e.g. `push_410`, `smtp_550`). Never an address, an endpoint or text."""
    decoded = decode_time_cursor(cursor)
    if decoded is not None and decoded[1].int > _LAST_ID:
        raise InvalidInput("not a cursor this list gave out", code="invalid_cursor")
    before = (decoded[0], decoded[1].int) if decoded else None
    size = clamp_limit(limit)
    async with transaction(actor, readonly=True) as tx:
        tenant_service.require_admin(tx)
        found = await attempts.list_attempts(tx, before=before, failed=failed, limit=size)
    last = found[-1] if len(found) == size else None
    return {
        "items": [
            {
                "id": row["id"],
                "account_id": str(row["account_id"]),
                "notification_id": str(row["notification_id"]) if row["notification_id"] else None,
                "channel": row["channel"],
                "kind": row["kind"],
                "outcome": row["outcome"],
                "reason": row["reason"],
                "status": row["status"],
                "at": row["at"].isoformat(),
            }
            for row in found
        ],
        "next_cursor": (
            encode_cursor([last["at"].isoformat(), str(uuid.UUID(int=last["id"]))])
            if last
            else None
        ),
    }
