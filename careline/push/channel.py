"""The push channel of notifications: a due record, pushed to every browser the person
subscribed in that organisation (channels.Channel).

Each subscription is its own send, and its own retry:
- 201 (or any 2xx): sent.
- 404 / 410: the subscription is gone (RFC 8030 section 7.3); its row is removed.
- 429 and 5xx, or a push service out of reach: that subscription alone is tried again
  later by its own job (push.retry), after Retry-After when the push service gave one,
  else after a doubling backoff; never past the kind's TTL or PUSH_RETRY_MAX tries.
- any other 4xx (400, 401, 403, 413): refused for good, recorded.

`send` answers `sent` when at least one browser took the push or a retry of it is
queued (the retry is this channel's own business, so delivery must not repeat the
whole send); `nothing` without a live subscription; `failed` when every one refused.
Every try is an attempt row (status and a reason code, no endpoint, no content).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
import uuid
from typing import Any, Literal

import aiohttp
import orjson

from careline import config
from careline.db.tx import Actor, transaction
from careline.kit import limits
from careline.notifications import attempts, channels, words
from careline.notifications.channels import Delivery, Result
from careline.push import sender
from careline.push import service as push_service

log = logging.getLogger(__name__)

Sent = Literal["sent", "removed", "retrying", "refused", "failed"]


def topic_for(notification_id: uuid.UUID) -> str:
    """RFC 8030 Topic: at most 32 base64url characters; a newer push of the same record
    replaces one the push service still holds."""
    return notification_id.hex


def backoff(attempt: int, retry_after: float | None) -> float:
    """Seconds before try `attempt + 1`: Retry-After when given (bounded), else doubling."""
    if retry_after is not None:
        return min(retry_after, float(limits.PUSH_RETRY_AFTER_MAX_SECONDS))
    base = float(config.current().push_retry_base_seconds)
    wait: float = base * 2.0**attempt
    return min(wait, float(limits.PUSH_RETRY_BACKOFF_MAX_SECONDS))


def _payload(delivery: Delivery) -> bytes:
    return orjson.dumps(words.push_payload(delivery.facts, tag=delivery.tag))


async def _record(
    delivery: Delivery, outcome: attempts.Outcome, *, reason: str | None, status: int | None
) -> None:
    async with transaction(Actor.system(delivery.tenant_id)) as tx:
        await attempts.record(
            tx,
            tenant_id=delivery.tenant_id,
            account_id=delivery.account_id,
            notification_id=delivery.notification_id,
            channel="push",
            kind=delivery.kind.name,
            outcome=outcome,
            reason=reason,
            status=status,
        )


async def push_one(
    session: aiohttp.ClientSession,
    delivery: Delivery,
    subscription: Any,
    *,
    attempt: int,
    first_at: float,
) -> Sent:
    """One try of one subscription; records it, and queues the next try if it is worth
    one. Returns what came of it."""
    settings = config.current()
    target = sender.Target(
        subscription["endpoint"], bytes(subscription["p256dh"]), bytes(subscription["auth"])
    )
    status: int | None = None
    retry_after: float | None = None
    # A retry asks the push service to keep it only for what is left of the kind's TTL.
    ttl = max(1, math.ceil(delivery.kind.push_ttl_seconds - (time.time() - first_at)))
    try:
        reply = await sender.post(
            session,
            push_service.server_key(),
            target,
            _payload(delivery),
            subject=push_service.contact(),
            ttl=ttl,
            urgency=delivery.kind.urgency[delivery.priority],
            topic=topic_for(delivery.notification_id),
            timeout_seconds=settings.push_timeout_seconds,
        )
        status, retry_after = reply.status, reply.retry_after
        reason = f"push_{status}"
    except sender.PushUnavailable as exc:
        reason = str(exc)
    sub_id: uuid.UUID = subscription["id"]
    if status is not None and 200 <= status < 300:
        async with transaction(Actor.system(delivery.tenant_id)) as tx:
            await push_service.internal_sent(tx, sub_id)
        await _record(delivery, "sent", reason=None, status=status)
        return "sent"
    if status in (404, 410):
        async with transaction(Actor.system(delivery.tenant_id)) as tx:
            await push_service.internal_remove(tx, sub_id)
        await _record(delivery, "removed", reason=reason, status=status)
        return "removed"
    if status is not None and status != 429 and status < 500:
        await _record(delivery, "refused", reason=reason, status=status)
        return "refused"
    wait = backoff(attempt, retry_after)
    spent = time.time() - first_at + wait
    if attempt + 1 >= limits.PUSH_RETRY_MAX or spent >= delivery.kind.push_ttl_seconds:
        await _record(delivery, "failed", reason=reason, status=status)
        return "failed"
    await _record(delivery, "retrying", reason=reason, status=status)
    from careline.push import jobs  # the job module imports this one

    await jobs.defer_retry(delivery, sub_id, attempt=attempt + 1, first_at=first_at, wait=wait)
    return "retrying"


class PushChannel:
    """channels.Channel for web push."""

    name: channels.ChannelName = "push"

    async def send(self, delivery: Delivery) -> Result:
        async with transaction(Actor.system(delivery.tenant_id)) as tx:
            targets = await push_service.internal_targets(
                tx, delivery.tenant_id, delivery.account_id
            )
        if not targets:
            return Result("nothing", reason="push_no_subscription")
        first_at = time.time()
        async with aiohttp.ClientSession() as session:
            outcomes = await asyncio.gather(
                *(push_one(session, delivery, t, attempt=0, first_at=first_at) for t in targets)
            )
        log.info(
            "push sent",
            extra={
                "notification_id": str(delivery.notification_id),
                "round": delivery.round,
                "outcomes": ",".join(outcomes),
            },
        )
        if "sent" in outcomes:
            return Result("sent")
        if "retrying" in outcomes:
            return Result("sent", reason="push_retrying")
        return Result("failed", reason="push_refused")


def start() -> None:
    """At careline's start: make the VAPID key if this installation has none yet (so
    browsers subscribe with the key that stays), and offer the channel to delivery."""
    push_service.server_key()
    if not push_service.check_contact(push_service.contact()):
        raise ValueError(
            "CARELINE_PUSH_CONTACT must be a mailto: address with a domain or an https URL"
        )
    channels.register(PushChannel())


# Imported (by the job registry or the app), the channel is there for delivery.
channels.register(PushChannel())
