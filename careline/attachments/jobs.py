"""Background jobs of the attachments domain: the virus scan (with previews), a sweep
that re-defers scans a crash may have lost, and the removal of uploads never sent.

Each job carries ids only, re-reads the row and does nothing if the work is done, so
running twice is harmless. A scan that cannot get a verdict (clamd down, slow, or the
file over its limits) leaves the file pending and runs again after
`scan_retry_seconds`, for as long as it takes: files are never served unscanned.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid

from procrastinate.exceptions import AlreadyEnqueued, ConnectorException

from careline import config
from careline.attachments import scanner, scanning
from careline.attachments import service as attachment_service
from careline.attachments.records import Verdict
from careline.db.tx import Actor, transaction
from careline.jobs.app import RetryLater, RetryWhenAsked, app
from careline.kit import clock, limits

log = logging.getLogger(__name__)

QUEUE = "files"
_SWEEP_BATCH = 500
_OVERDUE_SECONDS = 60  # a pending file older than this has probably lost its job


@app.task(name="attachments.scan", queue=QUEUE, retry=RetryWhenAsked())
async def scan_attachment(attachment_id: str, tenant_id: str) -> None:
    actor = Actor.system(uuid.UUID(tenant_id))
    async with transaction(actor, readonly=True) as tx:
        target = await scanning.internal_scan_target(tx, uuid.UUID(attachment_id))
    if target is None:
        return
    attachment, key = target
    try:
        result = await scanning.scan_file(attachment, key)
    except scanner.ScannerUnavailable as exc:
        async with transaction(actor) as tx:
            await scanning.internal_note_scan_failure(tx, attachment.id, reason=str(exc))
        log.warning("scan postponed", extra={"attachment_id": attachment_id, "reason": str(exc)})
        raise RetryLater(str(exc), after=config.current().scan_retry_seconds) from None
    if result.verdict is Verdict.INFECTED:
        async with transaction(actor) as tx:
            quarantined = await scanning.internal_quarantine(
                tx, attachment.id, signature=result.signature or "unknown"
            )
        if quarantined is not None:
            # Quarantine keeps the record, never the malware: nothing left to serve.
            await attachment_service.discard(attachment.tenant_id, attachment.id)
            log.warning("malware quarantined", extra={"attachment_id": attachment_id})
        return
    made = await scanning.make_file_previews(attachment, key)
    async with transaction(actor) as tx:
        await scanning.internal_mark_available(tx, attachment.id, made)


async def defer_scan(attachment_id: uuid.UUID, tenant_id: uuid.UUID) -> None:
    """Queue the scan of a committed upload (once: a scan already queued stands). With
    the database gone just after the commit, the upload still stands: the sweep below
    queues its scan once the database is back."""
    try:
        await scan_attachment.configure(queueing_lock=f"scan:{attachment_id}").defer_async(
            attachment_id=str(attachment_id), tenant_id=str(tenant_id)
        )
    except AlreadyEnqueued:
        pass
    except ConnectorException:
        log.warning("scan left to the sweep", extra={"attachment_id": str(attachment_id)})


@app.periodic(cron="* * * * *", periodic_id="attachments.requeue")
@app.task(name="attachments.requeue", queue=QUEUE)
async def requeue_overdue(timestamp: int) -> None:
    """Every minute: scans for files still pending a while after upload are deferred
    again (a no-op for those whose scan is queued or waiting to retry)."""
    older_than = clock.now() - dt.timedelta(seconds=_OVERDUE_SECONDS)
    async with transaction(Actor.system(), readonly=True) as tx:
        overdue = await scanning.internal_overdue(tx, older_than=older_than, limit=_SWEEP_BATCH)
    for attachment_id, tenant_id in overdue:
        await defer_scan(attachment_id, tenant_id)


@app.periodic(cron="17 * * * *", periodic_id="attachments.expire")
@app.task(name="attachments.expire_unattached", queue=QUEUE)
async def expire_unattached(timestamp: int) -> None:
    """Hourly: uploads never sent are removed after UNATTACHED_UPLOAD_HOURS."""
    older_than = clock.now() - dt.timedelta(hours=limits.UNATTACHED_UPLOAD_HOURS)
    async with transaction(Actor.system()) as tx:
        removed = await scanning.internal_expire_unattached(
            tx, older_than=older_than, limit=_SWEEP_BATCH
        )
    for attachment_id, tenant_id in removed:
        await attachment_service.discard(tenant_id, attachment_id)
    if removed:
        log.info("unsent uploads removed", extra={"count": len(removed)})
