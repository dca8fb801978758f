"""Values the monitoring shares between its collector, the dashboard, /metrics and the
alerts. Counts, timings and reason codes only: no person, conversation or text."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

PartState = Literal["up", "degraded", "down", "off"]  # off: not configured


@dataclass(frozen=True, slots=True)
class PartHealth:
    """One dependency (postgres, pool, clamd, smtp, push, turn, sfu, whatsapp, disk)."""

    name: str
    state: PartState
    reason: str | None = None  # a code such as "timeout", "refused", "disk_low"
    latency_ms: float | None = None
    # A figure that matters for this part: pool connections in use, disk free percent.
    figures: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class QueueState:
    kind: str  # a job's task name, e.g. "notifications.deliver"
    depth: int  # waiting (todo) jobs
    oldest_age_seconds: float | None  # of the oldest waiting job, None when empty


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What the dashboard shows for one organisation (tenant_id) or the whole instance
    (tenant_id None, for operators). Per-minute series are oldest first, the current
    (partial) minute last."""

    at: datetime
    tenant_id: uuid.UUID | None
    people_connected: int
    devices_connected: int
    active_conversations: int  # with a message in the last 5 minutes
    messages_per_minute: list[int]  # the last 60 minutes
    delivery_p50_ms: float | None  # commit to socket write, the last 5 minutes
    delivery_p99_ms: float | None
    errors_per_minute: dict[str, list[int]]  # http_5xx, socket_error, frame_refused
    sign_in_failures_per_minute: list[int]
    queues: list[QueueState]
    parts: list[PartHealth]
