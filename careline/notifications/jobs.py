"""Background jobs of the notifications domain: one send (a record, a channel, a round)
and the sweep that re-finds sends a crash or restart may have lost.

The job carries ids only and is idempotent by its dedupe key (record id, channel,
round): the queueing lock keeps one waiting job per key; a send in progress holds a
lease on its record's channel (its due time, moved ahead), so a second job meanwhile
only waits; and the job sends only what the record still says is due in that round
(careline/notifications/delivery.py). No procrastinate `lock`: a process killed
mid-job would leave it held for good; the lease runs out by itself.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid

from procrastinate.exceptions import AlreadyEnqueued, ConnectorException

from careline.jobs.app import RetryWhenAsked, app
from careline.notifications import delivery
from careline.notifications.channels import ChannelName

log = logging.getLogger(__name__)

QUEUE = "notify"
_CHANNELS: dict[str, ChannelName] = {"push": "push", "email": "email"}


@app.task(name="notifications.deliver", queue=QUEUE, retry=RetryWhenAsked())
async def deliver(notification_id: str, tenant_id: str, channel: str, window: int) -> None:
    due = delivery.Due(
        uuid.UUID(notification_id),
        uuid.UUID(tenant_id),
        _CHANNELS[channel],
        window,
        dt.datetime.min.replace(tzinfo=dt.UTC),  # the record says when; the job re-reads it
    )
    outcome = await delivery.deliver(due)
    log.debug(
        "notification send",
        extra={"notification_id": notification_id, "channel": channel, "outcome": outcome},
    )


async def defer_delivery(due: delivery.Due) -> None:
    """Queue one send now (once per dedupe key: a job already waiting for it stands).
    With the database gone, the send stays due and the sweep queues it later."""
    try:
        await deliver.configure(queueing_lock=f"notify:{due.key}").defer_async(
            notification_id=str(due.notification_id),
            tenant_id=str(due.tenant_id),
            channel=due.channel,
            window=due.round,
        )
    except AlreadyEnqueued:
        pass
    except ConnectorException:
        log.warning("notification left to the sweep", extra={"channel": due.channel})


@app.periodic(cron="* * * * *", periodic_id="notifications.sweep")
@app.task(name="notifications.sweep", queue=QUEUE)
async def sweep(timestamp: int) -> None:
    """Every minute: every send due soon, or overdue, is armed (or queued) again; those
    already queued or waiting to retry are left as they are."""
    found = await delivery.sweep()
    if found:
        log.debug("notification sends found", extra={"count": found})
