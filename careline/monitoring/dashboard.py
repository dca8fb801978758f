"""The dashboard's Snapshot of one organisation (or the whole instance): people and
devices connected to this node, activity from the database, the collector's timings and
errors, the job queues and the health of each part. Counts, timings and reason codes
only (records.py): no name, text or id of anyone leaves this module."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import uuid
from collections.abc import Iterable
from typing import Any, Protocol

from careline import config
from careline.db.tx import transaction
from careline.kit import clock
from careline.kit.errors import DatabaseUnavailable
from careline.monitoring import collector, health, queues, store
from careline.monitoring import service as monitor_service
from careline.monitoring.records import PartHealth, QueueState, Snapshot

log = logging.getLogger(__name__)

MINUTES = collector.MINUTES  # the per-minute series cover the last hour
ACTIVE_MINUTES = 5  # a conversation with a message this recently is active
ERROR_SERIES = (collector.HTTP_5XX, collector.SOCKET_ERROR, collector.FRAME_REFUSED)


class ConnectedSocket(Protocol):
    @property
    def tenant_id(self) -> uuid.UUID: ...


class Connections(Protocol):
    """What the dashboard reads of the hub (careline/realtime/fanout.py): each account's
    authenticated sockets on this node."""

    by_account: dict[uuid.UUID, set[Any]]


def connected(hub: Connections, tenant_id: uuid.UUID | None) -> tuple[int, int]:
    """(people, devices) connected to this node, in `tenant_id` (None: anywhere). A person
    in two organisations counts once for the instance."""
    people = devices = 0
    for sockets in list(hub.by_account.values()):
        mine = sum(1 for s in list(sockets) if tenant_id is None or s.tenant_id == tenant_id)
        if mine:
            people += 1
            devices += mine
    return people, devices


@dataclasses.dataclass(frozen=True, slots=True)
class Shared:
    """What every scope's snapshot shows alike, read once per interval for all of them:
    the job queues (the instance's) and the health of each part."""

    queues: list[QueueState]
    parts: list[PartHealth]


async def shared(settings: config.Settings, previous: Shared | None = None) -> Shared:
    """The parts (each check with its own timeout, shared with /metrics and
    /health/detailed for health.CACHE_SECONDS: health.py) and the queues, at once.
    While PostgreSQL does not answer, the queues are the previous read's: the parts say
    why."""
    waiting, parts = await asyncio.gather(_queues(previous), health.cached_parts(settings))
    return Shared(queues=waiting, parts=parts)


async def _queues(previous: Shared | None) -> list[QueueState]:
    try:
        async with transaction(monitor_service.system_actor(None), readonly=True) as tx:
            return await queues.states(tx)
    except DatabaseUnavailable:
        return list(previous.queues) if previous else []


@dataclasses.dataclass(frozen=True, slots=True)
class Activity:
    active_conversations: int
    messages_per_minute: list[int]


async def _activity(tenant_id: uuid.UUID | None, at: dt.datetime) -> Activity:
    async with transaction(monitor_service.system_actor(tenant_id), readonly=True) as tx:
        per_minute = await store.messages_per_minute(
            tx, at=at, tenant_id=tenant_id, minutes=MINUTES
        )
        active = await store.active_conversations(
            tx, since=at - dt.timedelta(minutes=ACTIVE_MINUTES), at=at, tenant_id=tenant_id
        )
    return Activity(active, per_minute)


async def build(
    hub: Connections,
    tenant_id: uuid.UUID | None,
    *,
    common: Shared,
    previous: Snapshot | None = None,
) -> Snapshot:
    """One snapshot. While PostgreSQL does not answer, the database's figures are the
    previous snapshot's (or none), and the parts say that postgres is down: the
    dashboard keeps moving when the database is the thing that broke."""
    at = clock.now()
    try:
        activity = await _activity(tenant_id, at)
    except DatabaseUnavailable:
        activity = Activity(
            previous.active_conversations if previous else 0,
            list(previous.messages_per_minute) if previous else [0] * MINUTES,
        )
    people, devices = connected(hub, tenant_id)
    series = collector.series(tenant_id)
    return Snapshot(
        at=at,
        tenant_id=tenant_id,
        people_connected=people,
        devices_connected=devices,
        active_conversations=activity.active_conversations,
        messages_per_minute=activity.messages_per_minute,
        delivery_p50_ms=series.delivery_p50_ms,
        delivery_p99_ms=series.delivery_p99_ms,
        errors_per_minute={name: _padded(series.minutes[name]) for name in ERROR_SERIES},
        sign_in_failures_per_minute=_padded(series.minutes[collector.SIGN_IN_FAILURES]),
        queues=common.queues,
        parts=common.parts,
    )


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def snapshot_read(snapshot: Snapshot) -> dict[str, Any]:
    """The wire form (the REST endpoint and the `monitor.updated` event)."""
    return {
        "at": snapshot.at.isoformat(),
        "scope": "instance" if snapshot.tenant_id is None else "tenant",
        "tenant_id": str(snapshot.tenant_id) if snapshot.tenant_id else None,
        "people_connected": snapshot.people_connected,
        "devices_connected": snapshot.devices_connected,
        "active_conversations": snapshot.active_conversations,
        "messages_per_minute": snapshot.messages_per_minute,
        "delivery_p50_ms": _round(snapshot.delivery_p50_ms),
        "delivery_p99_ms": _round(snapshot.delivery_p99_ms),
        "errors_per_minute": snapshot.errors_per_minute,
        "sign_in_failures_per_minute": snapshot.sign_in_failures_per_minute,
        "queues": [
            {
                "kind": q.kind,
                "depth": q.depth,
                "oldest_age_seconds": _round(q.oldest_age_seconds),
            }
            for q in snapshot.queues
        ],
        "parts": [_part_read(p) for p in snapshot.parts],
    }


def _part_read(part: PartHealth) -> dict[str, Any]:
    return {
        "name": part.name,
        "state": part.state,
        "reason": part.reason,
        "latency_ms": _round(part.latency_ms),
        "figures": {k: _round(v) for k, v in part.figures.items()},
    }


def _padded(values: Iterable[int]) -> list[int]:
    got = list(values)[-MINUTES:]
    return [0] * (MINUTES - len(got)) + got
