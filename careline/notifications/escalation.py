"""Unread escalation: a message from a client or guardian that no staff participant of
its conversation has read within the organisation's threshold, counted in working hours,
is told to the client's other care-team staff; still unread after the second threshold,
to the organisation's admins. It stops as soon as a staff participant reads it (or
replies: sending is reading). Off until an admin sets `escalation_hours`
(docs/notifications.md, "Escalation").

`sweep(now)` is what the periodic job runs every minute; tests call it with the time
they choose. Each stage of a waiting message is claimed in the escalations table before
anyone is told, so it happens once however often, or on however many nodes, it runs.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass
from typing import Any

from careline.db.tx import Actor, Tx, transaction
from careline.kit import clock
from careline.notifications import escalation_store as store
from careline.notifications import service as notification_service
from careline.notifications.kinds import ESCALATION, ESCALATION_ADMIN
from careline.notifications.workhours import Calendar, deadline

log = logging.getLogger(__name__)

# What the admin settings offer when escalation is turned on (the API takes any value
# the limits allow; NULL = off).
DEFAULT_HOURS = 4.0
DEFAULT_ADMIN_HOURS = 8.0
TEAM, ADMINS = "team", "admins"


@dataclass(frozen=True, slots=True)
class Policy:
    tenant_id: uuid.UUID
    hours: float
    admin_hours: float | None
    calendar: Calendar


def policy_of(row: Any) -> Policy:
    return Policy(
        tenant_id=row["id"],
        hours=float(row["escalation_hours"]),
        admin_hours=float(row["escalation_admin_hours"])
        if row["escalation_admin_hours"] is not None
        else None,
        calendar=Calendar(
            time_zone=row["time_zone"],
            start=row["work_start"],
            end=row["work_end"],
            days=frozenset(row["work_days"]),
        ),
    )


@dataclass(frozen=True, slots=True)
class Told:
    conversation_id: uuid.UUID
    seq: int
    stage: str
    account_ids: tuple[uuid.UUID, ...]


async def sweep(now: dt.datetime | None = None) -> list[Told]:
    """Tell what is due at `now` (default: the clock) in every organisation that
    escalates, and close what staff have read since. Returns what was told."""
    at = now or clock.now()
    async with transaction(Actor.system(), readonly=True) as tx:
        policies = [policy_of(row) for row in await store.escalating_tenants(tx)]
    told: list[Told] = []
    for policy in policies:
        try:
            told += await sweep_tenant(policy, at)
        except ValueError:  # a calendar the checks should have refused: skip, say so
            log.warning("escalation skipped", extra={"tenant_id": str(policy.tenant_id)})
    return told


async def sweep_tenant(policy: Policy, at: dt.datetime) -> list[Told]:
    actor = Actor.system(policy.tenant_id)
    async with transaction(actor) as tx:
        for row in await store.unresolved(tx, policy.tenant_id):
            await notification_service.internal_close_escalations(
                tx, row["conversation_id"], read_seq=row["read_seq"], at=at
            )
    # Working hours pass no faster than the wall clock: nothing written later than
    # `hours` ago can be due yet.
    async with transaction(actor, readonly=True) as tx:
        candidates = await store.waiting(
            tx,
            policy.tenant_id,
            written_before=at - dt.timedelta(hours=policy.hours),
            last_stage=TEAM if policy.admin_hours is None else ADMINS,
        )
    told: list[Told] = []
    for row in candidates:
        stages = [(TEAM, policy.hours)]
        if policy.admin_hours is not None:
            stages.append((ADMINS, policy.admin_hours))
        for stage, hours in stages:
            if deadline(row["created_at"], hours, policy.calendar) > at:
                break
            async with transaction(actor) as tx:
                done = await _tell(tx, policy.tenant_id, row, stage, at)
            if done is not None:
                told.append(done)
    if told:
        log.info("escalations told", extra={"count": len(told)})
    return told


async def _tell(tx: Tx, tenant_id: uuid.UUID, row: Any, stage: str, at: dt.datetime) -> Told | None:
    conversation_id, seq = row["conversation_id"], row["seq"]
    claimed = await store.claim(
        tx,
        tenant_id=tenant_id,
        conversation_id=conversation_id,
        seq=seq,
        stage=stage,
        waiting_since=row["created_at"],
        at=at,
    )
    if not claimed:
        return None
    if stage == TEAM:
        people = await store.care_team(tx, tenant_id, conversation_id, row["client_id"])
        kind = ESCALATION
    else:
        people = await store.admins(tx, tenant_id)
        kind = ESCALATION_ADMIN
    records = await notification_service.do_notify(
        tx,
        kind,
        people,
        object_id=conversation_id,
        conversation_id=conversation_id,
        seq=seq,
        priority="high",
    )
    await store.set_told(tx, conversation_id, seq, stage, len(records))
    if stage == TEAM:  # the staff inbox shows since when it waits
        staff = await store.staff_participants(tx, conversation_id)
        notification_service.emit_waiting(tx, conversation_id, staff, since=row["created_at"])
    return Told(conversation_id, seq, stage, tuple(people))


async def waiting_since(tx: Tx, conversation_ids: list[uuid.UUID]) -> dict[uuid.UUID, dt.datetime]:
    """For the staff inbox: since when each escalated, still unread conversation has
    waited (staff only; others get nothing)."""
    if not conversation_ids or not tx.actor.role.is_staff:
        return {}
    return await store.waiting_since(tx, conversation_ids)
