"""Digests: one e-mail a day or a week (each person's choice; clients weekly and staff
never unless they or their organisation choose otherwise) saying how many unread
messages wait in how many conversations, with one link.

A digest goes out in the person's morning, in their own time zone: from
CARELINE_NOTIFY_DIGEST_HOUR for MORNING_HOURS (daily: every day; weekly: on Mondays),
at most once per period (notification_preferences.digest_sent_at is claimed before
sending), and only when something is unread. A relay that is down gives the claim back,
so the next run of the periodic job that morning tries again; a relay that refuses the
address for good keeps it (no second try that period). Attempts are recorded with
channel "digest".
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from careline import config
from careline.db.tx import Actor, transaction
from careline.kit import clock
from careline.mail import smtp
from careline.notifications import email_channel, email_store, preferences, unsubscribe, words
from careline.notifications.preferences import Digest

MORNING_HOURS = 4  # after the digest hour, the window in which a digest may go out


def period_start(digest: Digest, time_zone: str, now: dt.datetime, hour: int) -> dt.datetime | None:
    """When the current period began (this morning's digest hour; for weekly, Monday's)
    if `now` falls in the person's digest morning; else None: no digest now."""
    if digest == "off":
        return None
    tz = preferences.zone(time_zone)
    local = now.astimezone(tz)
    if not hour <= local.hour < hour + MORNING_HOURS:
        return None
    if digest == "weekly" and local.weekday() != 0:
        return None
    return dt.datetime.combine(local.date(), dt.time(hour), tzinfo=tz).astimezone(dt.UTC)


async def send_due(*, now: dt.datetime | None = None, tenant_id: uuid.UUID | None = None) -> int:
    """Send every digest due at `now` (in one organisation, or all). Returns how many
    were handed to the relay."""
    if not smtp.configured():
        return 0
    at = now or clock.now()
    hour = config.current().notify_digest_hour
    async with transaction(Actor.system(tenant_id), readonly=True) as tx:
        rows = await email_store.list_digest_candidates(tx, tenant_id)
    sent = 0
    for row in rows:
        choices = preferences.combine(row, preferences.audience_of(row["role"]))
        since = period_start(choices.digest, choices.time_zone, at, hour)
        last = row["digest_sent_at"]
        if since is None or (last is not None and last >= since):
            continue
        sent += await _send_one(row, choices.digest, at=at, since=since)
    return sent


async def _send_one(row: Any, digest: Digest, *, at: dt.datetime, since: dt.datetime) -> int:
    tenant_id, account_id = row["tenant_id"], row["account_id"]
    async with transaction(Actor.system(tenant_id)) as tx:
        if not await email_store.claim_digest(tx, tenant_id, account_id, at=at, since=since):
            return 0  # another run got there first
    facts = words.Facts(
        organisation=row["organisation"],
        kind="message",
        count=row["messages"],
        conversations=row["conversations"],
        link=words.conversation_link(tenant_id, None),
    )
    token = unsubscribe.make_token(tenant_id, account_id, "digest")
    content = words.email(facts, unsubscribe_token=token, reason=digest)
    message = email_channel.compose(
        row["address"], content, organisation=row["organisation"], token=token
    )
    result = await email_channel.hand_over(
        message,
        tenant_id=tenant_id,
        account_id=account_id,
        notification_id=None,
        channel="digest",
        kind="message",
    )
    if result.outcome == "retry":
        async with transaction(Actor.system(tenant_id)) as tx:
            await email_store.release_digest(
                tx, tenant_id, account_id, at=at, back_to=row["digest_sent_at"]
            )
    return 1 if result.outcome == "sent" else 0
