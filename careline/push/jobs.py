"""Background jobs of web push: one subscription's send, tried again after a push
service said "not now" (429, 5xx, out of reach).

The job carries ids (and the record's opaque tag), re-reads the record, and sends only
while the push is still worth sending: the record unread, in the same round (a newer
round makes its own push to every browser), the subscription still live.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import uuid

import aiohttp
from procrastinate.exceptions import AlreadyEnqueued

from careline.db.tx import Actor, transaction
from careline.jobs.app import RetryWhenAsked, app
from careline.kit import clock
from careline.notifications.channels import Delivery
from careline.push import channel
from careline.push import service as push_service

log = logging.getLogger(__name__)

QUEUE = "notifications"


@app.task(name="push.retry", queue=QUEUE, retry=RetryWhenAsked())
async def retry_push(
    *,
    notification_id: str,
    tenant_id: str,
    subscription_id: str,
    round: int,  # noqa: A002 - the record's push round, as the schema names it
    tag: str,
    attempt: int,
    first_at: float,
) -> None:
    async with transaction(Actor.system(uuid.UUID(tenant_id)), readonly=True) as tx:
        record = await push_service.internal_retry_target(tx, uuid.UUID(notification_id))
        subscription = await push_service.internal_target(tx, uuid.UUID(subscription_id))
    if (
        record is None
        or subscription is None
        or record["read_at"] is not None
        or record["push_round"] != round
        or record["push_state"] not in ("due", "sent")
    ):
        return  # read, superseded, turned off or unsubscribed meanwhile: nothing to send
    delivery = Delivery.of_record(record, window=round, tag=tag)
    async with aiohttp.ClientSession() as session:
        await channel.push_one(session, delivery, subscription, attempt=attempt, first_at=first_at)


async def defer_retry(
    delivery: Delivery, subscription_id: uuid.UUID, *, attempt: int, first_at: float, wait: float
) -> None:
    """Queue try `attempt` of this subscription in `wait` seconds (once per record,
    round and subscription: a try already queued stands)."""
    lock = f"push:{delivery.notification_id}:{delivery.round}:{subscription_id}"
    with contextlib.suppress(AlreadyEnqueued):
        await retry_push.configure(
            queueing_lock=lock, schedule_at=clock.now() + dt.timedelta(seconds=max(0.0, wait))
        ).defer_async(
            notification_id=str(delivery.notification_id),
            tenant_id=str(delivery.tenant_id),
            subscription_id=str(subscription_id),
            round=delivery.round,
            tag=delivery.tag,
            attempt=attempt,
            first_at=first_at,
        )
    log.info(
        "push retry queued",
        extra={"notification_id": str(delivery.notification_id), "in_seconds": wait},
    )
