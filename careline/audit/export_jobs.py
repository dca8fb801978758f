"""Background jobs of audit exports: writing an export part by part (each part its own
transaction, so its progress shows while it runs), and a sweep every minute that removes
exports past their day and queues again those whose job a crash may have lost.

The job carries ids only, re-reads the export and goes on from the last event written,
so running it twice is harmless.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid

from procrastinate.exceptions import AlreadyEnqueued, ConnectorException

from careline.audit import exports
from careline.db.tx import Actor, transaction
from careline.jobs.app import RetryWhenAsked, app
from careline.kit import clock

log = logging.getLogger(__name__)

QUEUE = "audit"
_SWEEP_BATCH = 500
_OVERDUE_SECONDS = 60  # an export not finished this long after it was asked for has lost its job


@app.task(name="audit.export", queue=QUEUE, retry=RetryWhenAsked())
async def write_export(export_id: str, tenant_id: str) -> None:
    actor = Actor.system(uuid.UUID(tenant_id))
    finished = False
    while not finished:
        async with transaction(actor) as tx:
            finished = await exports.internal_write_next(tx, uuid.UUID(export_id))


async def defer_export(export_id: uuid.UUID, tenant_id: uuid.UUID) -> None:
    """Queue the job of a committed export (once). With the queue out of reach, the
    sweep below queues it later."""
    try:
        await write_export.configure(queueing_lock=f"audit-export:{export_id}").defer_async(
            export_id=str(export_id), tenant_id=str(tenant_id)
        )
    except AlreadyEnqueued:
        pass
    except ConnectorException:
        log.warning("audit export left to the sweep", extra={"export_id": str(export_id)})


@app.periodic(cron="* * * * *", periodic_id="audit.exports_sweep")
@app.task(name="audit.exports_sweep", queue=QUEUE)
async def sweep_exports(timestamp: int) -> None:
    """Every minute: exports past their time are removed; unfinished ones are queued
    again (a no-op for those whose job is queued)."""
    now = clock.now()
    async with transaction(Actor.system()) as tx:
        removed = await exports.internal_remove_expired(tx, now=now, limit=_SWEEP_BATCH)
        overdue = await exports.internal_unfinished(
            tx, older_than=now - dt.timedelta(seconds=_OVERDUE_SECONDS), limit=_SWEEP_BATCH
        )
    for export_id, tenant_id in overdue:
        await defer_export(export_id, tenant_id)
    if removed:
        log.info("audit exports removed", extra={"count": removed})
