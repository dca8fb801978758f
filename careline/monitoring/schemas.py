"""Wire models of the dashboard (the OpenAPI of GET /api/v1/admin/monitoring)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from pydantic import BaseModel


class QueueRead(BaseModel):
    kind: str  # a job's task name
    depth: int  # jobs waiting
    oldest_age_seconds: float | None  # of the oldest waiting job; null when none waits


class PartRead(BaseModel):
    name: str  # postgres, pool, clamd, smtp, push, turn, sfu, whatsapp, disk
    state: Literal["up", "degraded", "down", "off"]  # off: not configured
    reason: str | None  # a code such as "timeout", "refused", "disk_low"
    latency_ms: float | None
    figures: dict[str, float | None]  # e.g. pool connections in use, disk free percent


class SnapshotRead(BaseModel):
    """Per-minute series hold 60 values, oldest first, the current (partial) minute last."""

    at: dt.datetime
    scope: Literal["tenant", "instance"]
    tenant_id: uuid.UUID | None
    people_connected: int  # to the node that answered
    devices_connected: int
    active_conversations: int  # with a message in the last 5 minutes
    messages_per_minute: list[int]
    delivery_p50_ms: float | None  # commit to socket write, the last 5 minutes
    delivery_p99_ms: float | None
    errors_per_minute: dict[str, list[int]]  # http_5xx, socket_error, frame_refused
    sign_in_failures_per_minute: list[int]
    queues: list[QueueRead]
    parts: list[PartRead]
