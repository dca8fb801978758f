"""HTTP of the dashboard for admins and operators: one snapshot (docs/api.md,
docs/operations.md#dashboard)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from careline.auth.api import CurrentActor
from careline.db.tx import transaction
from careline.monitoring import dashboard, live
from careline.monitoring import service as monitor_service
from careline.monitoring.schemas import SnapshotRead
from careline.web.http import ERRORS

admin = APIRouter(prefix="/api/v1/admin", tags=["admin"], responses=ERRORS)


@admin.get("/monitoring", response_model=SnapshotRead)
async def get_monitoring(
    actor: CurrentActor,
    scope: Annotated[
        monitor_service.Scope,
        Query(description="`tenant`: your organisation (admins); `instance`: all (operators)."),
    ] = "tenant",
) -> dict[str, Any]:
    """What the monitoring dashboard shows, once: people and devices connected (to the
    node that answers), active conversations, messages per minute over the last hour,
    delivery latency p50/p99, errors and sign-in failures per minute, job queues and the
    health of each part. Counts, timings and reason codes only. `403 admin_only` for
    anyone but the organisation's admins; `403 operator_only` for `scope=instance`
    without being an operator. The socket op `monitor.subscribe` streams the same."""
    async with transaction(actor, readonly=True) as tx:
        tenant_id = await monitor_service.check_scope(tx, scope)
    snapshot = await live.current().snapshot((scope, tenant_id))
    return dashboard.snapshot_read(snapshot)
