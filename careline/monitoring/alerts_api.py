"""HTTP for admins: the alerts open now and the history of alerts (docs/api.md)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel

from careline.auth.api import CurrentActor
from careline.db.tx import transaction
from careline.kit import limits
from careline.kit.pagination import clamp_limit, decode_time_cursor, encode_cursor
from careline.monitoring import alerts
from careline.tenants import service as tenant_service
from careline.web.http import ERRORS


class AlertRead(BaseModel):
    """One alert: the rule, what it is about (a part's name, or null), whether it
    concerns this organisation or the whole instance, and the numbers. No content."""

    id: uuid.UUID
    rule: Literal[
        "delivery_p99", "http_5xx", "queue_age", "part_down", "disk_low", "sign_in_failures"
    ]
    subject: str | None
    scope: Literal["organisation", "instance"]
    state: Literal["raised", "cleared"]
    raised_at: dt.datetime
    cleared_at: dt.datetime | None
    value: float
    threshold: float


class AlertsPage(BaseModel):
    open: list[AlertRead]
    items: list[AlertRead]
    next_cursor: str | None


admin = APIRouter(prefix="/api/v1/admin", tags=["admin"], responses=ERRORS)


@admin.get("/alerts", response_model=AlertsPage)
async def list_alerts(
    actor: CurrentActor,
    cursor: str | None = Query(None, max_length=500),
    limit: int | None = Query(None, ge=1, le=limits.PAGE_MAX),
) -> dict[str, Any]:
    """Admins: the alerts open now (`open`, for the organisation and the instance), and
    a page of every alert, open and cleared, newest raised first (`items`; the next
    page with `cursor`). Cleared alerts are kept `alerts_keep_days`."""
    before = decode_time_cursor(cursor)
    size = clamp_limit(limit)
    async with transaction(actor, readonly=True) as tx:
        tenant_service.require_admin(tx)
        open_now, page = await alerts.list_alerts(tx, before=before, limit=size)
    last = page[-1] if len(page) == size else None
    return {
        "open": [alerts.wire(a) for a in open_now],
        "items": [alerts.wire(a) for a in page],
        "next_cursor": encode_cursor([last.raised_at.isoformat(), str(last.id)]) if last else None,
    }
