"""Alert rules as data, and the evaluator that raises and clears alerts with hysteresis.

Each evaluation takes readings (a rule, the organisation it concerns or None for the
whole instance, a subject such as a part's name, and a number) and, per rule and key:

- while no alert is open, counts the evaluations in a row whose value is past the
  raise threshold; at `alerts_raise_after` it raises an alert (value and threshold kept);
- while one is open, counts the evaluations in a row whose value is past the lower clear
  threshold (half the raise threshold; for disk, 5 points above it); at
  `alerts_clear_after` it clears it. A value between the two thresholds keeps it open
  and starts the clear count again: an alert does not flap around its threshold.

The counts live in the database (alert_streaks), and one node evaluates at a time (an
advisory lock), so any node may run the next evaluation. Raising tells the admins of the
organisation (of every organisation, for an instance-wide alert) through notifications
(kind `alert`: the organisation's name, "An alert was raised", a link to
/admin/monitoring) and sends `alert.raised` to their sockets; clearing sends
`alert.cleared`. Rules, subjects and numbers only: no person, conversation or text.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from careline import config
from careline.db.tx import Actor, Role, Tx, transaction
from careline.kit import clock
from careline.kit.events import Event
from careline.kit.ids import new_id
from careline.monitoring import alerts_store as store
from careline.monitoring import collector, health, queues
from careline.monitoring.records import PartHealth, QueueState
from careline.notifications import service as notification_service
from careline.notifications.kinds import ALERT
from careline.tenants import service as tenant_service

log = logging.getLogger(__name__)

ALERT_RAISED = "alert.raised"
ALERT_CLEARED = "alert.cleared"

DELIVERY_P99 = "delivery_p99"
HTTP_5XX = "http_5xx"
QUEUE_AGE = "queue_age"
PART_DOWN = "part_down"
DISK_LOW = "disk_low"
SIGN_IN_FAILURES = "sign_in_failures"

# A disk alert clears only once this many points more are free than its threshold.
DISK_CLEAR_MARGIN_PERCENT = 5.0
# The rates (5xx, sign-in failures) are over the collector's last minutes: this many.
WINDOW_MINUTES = 5

Direction = Literal["above", "below"]


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    unit: str  # "ms", "percent", "seconds", "down", "failures"
    per_tenant: bool  # an organisation's own (sign-in failures) or the instance's
    direction: Direction  # "above": raised at or over raise_at; "below": under it
    raise_at: float
    clear_at: float  # above: clears under it; below: clears over it
    # The value taken when nothing was measured (no requests: no 5xx); None: no reading
    # means no change (a part not reported, a disk not measured).
    absent: float | None = 0.0

    def holds(self, value: float) -> bool:
        return value >= self.raise_at if self.direction == "above" else value < self.raise_at

    def eases(self, value: float) -> bool:
        return value < self.clear_at if self.direction == "above" else value > self.clear_at


def rules(settings: config.Settings) -> dict[str, Rule]:
    """The rules, with the thresholds of these settings."""

    def above(name: str, unit: str, at: float, *, per_tenant: bool = False) -> Rule:
        return Rule(name, unit, per_tenant, "above", at, at / 2)

    disk = settings.alert_disk_free_percent
    found = [
        above(DELIVERY_P99, "ms", settings.alert_delivery_p99_ms),
        above(HTTP_5XX, "percent", settings.alert_http_5xx_percent),
        above(QUEUE_AGE, "seconds", settings.alert_queue_age_seconds),
        Rule(PART_DOWN, "down", False, "above", 1.0, 1.0, absent=None),
        Rule(DISK_LOW, "percent", False, "below", disk, disk + DISK_CLEAR_MARGIN_PERCENT, None),
        above(SIGN_IN_FAILURES, "failures", settings.alert_sign_in_failures, per_tenant=True),
    ]
    return {rule.name: rule for rule in found}


@dataclass(frozen=True, slots=True)
class Reading:
    """One measured value for a rule: of an organisation (tenant_id) or the instance."""

    rule: str
    value: float
    tenant_id: uuid.UUID | None = None
    subject: str = ""  # a part's name for part_down


@dataclass(frozen=True, slots=True)
class Alert:
    id: uuid.UUID
    tenant_id: uuid.UUID | None
    rule: str
    subject: str
    state: Literal["raised", "cleared"]
    raised_at: dt.datetime
    cleared_at: dt.datetime | None
    value: float
    threshold: float


def alert_of(row: Any) -> Alert:
    return Alert(
        id=row["id"],
        tenant_id=row["tenant_id"],
        rule=row["rule"],
        subject=row["subject"],
        state=row["state"],
        raised_at=row["raised_at"],
        cleared_at=row["cleared_at"],
        value=row["value"],
        threshold=row["threshold"],
    )


def wire(alert: Alert) -> dict[str, Any]:
    """An alert as the API and the socket show it: closed words, numbers and times."""
    return {
        "id": str(alert.id),
        "rule": alert.rule,
        "subject": alert.subject or None,
        "scope": "instance" if alert.tenant_id is None else "organisation",
        "state": alert.state,
        "raised_at": alert.raised_at.isoformat(),
        "cleared_at": alert.cleared_at.isoformat() if alert.cleared_at else None,
        "value": alert.value,
        "threshold": alert.threshold,
    }


Key = tuple[str, uuid.UUID | None, str]  # rule, tenant_id, subject


def readings_from(
    *,
    parts: Iterable[PartHealth] = (),
    queues: Iterable[QueueState] = (),
    delivery_p99_ms: float | None = None,
    http_requests: int = 0,
    http_5xx: int = 0,
    sign_in_failures: Mapping[uuid.UUID, int] | None = None,
    disk_low_mark: float | None = None,
) -> list[Reading]:
    """The readings of what the monitoring measured: the health of the parts, the
    queues, the collector's figures of the last 5 minutes. A disk below the health
    check's low mark (`disk_low_mark`) reports no figure; it reads as that mark, which
    it is under."""
    found = [Reading(HTTP_5XX, 100.0 * http_5xx / http_requests if http_requests else 0.0)]
    if delivery_p99_ms is not None:
        found.append(Reading(DELIVERY_P99, delivery_p99_ms))
    ages = [q.oldest_age_seconds for q in queues if q.oldest_age_seconds is not None]
    found.append(Reading(QUEUE_AGE, max(ages, default=0.0)))
    for part in parts:
        # A part `off` (not configured) is not down: an alert of it clears.
        found.append(Reading(PART_DOWN, 1.0 if part.state == "down" else 0.0, subject=part.name))
        free = part.figures.get("free_percent")
        if part.name == "disk" and free is None and part.reason == "disk_low":
            free = disk_low_mark
        if part.name == "disk" and free is not None:
            found.append(Reading(DISK_LOW, free))
    for tenant_id, count in (sign_in_failures or {}).items():
        found.append(Reading(SIGN_IN_FAILURES, float(count), tenant_id=tenant_id))
    return found


async def measure(settings: config.Settings) -> list[Reading]:
    """What the rules look at now: every part's health (each within its timeout), the
    job queue, and this node's collector over the last WINDOW_MINUTES (sign-in failures
    per organisation)."""
    parts = await health.check_parts(settings)
    async with transaction(Actor.system(), readonly=True) as tx:
        waiting = await queues.states(tx)
        tenants = await tenant_service.internal_list_tenant_ids(tx)
    node = collector.series(None)
    failures: dict[uuid.UUID, int] = {}
    for tenant_id in tenants:
        failed = sum(
            collector.series(tenant_id).minutes[collector.SIGN_IN_FAILURES][-WINDOW_MINUTES:]
        )
        if failed:
            failures[tenant_id] = failed
    return readings_from(
        parts=parts,
        queues=waiting,
        delivery_p99_ms=node.delivery_p99_ms,
        http_requests=sum(node.minutes[collector.HTTP_REQUESTS][-WINDOW_MINUTES:]),
        http_5xx=sum(node.minutes[collector.HTTP_5XX][-WINDOW_MINUTES:]),
        sign_in_failures=failures,
        disk_low_mark=settings.health_disk_low_percent,
    )


async def evaluate(
    readings: Sequence[Reading],
    *,
    now: dt.datetime | None = None,
    settings: config.Settings | None = None,
) -> list[Alert] | None:
    """One evaluation at `now` (default: the clock). Returns the alerts it raised or
    cleared (and told), or None when another node is evaluating right now."""
    settings = settings or config.current()
    at = now or clock.now()
    async with transaction(Actor.system()) as tx:
        if not await store.try_lock(tx):
            return None
        changed = await _step(tx, rules(settings), readings, at, settings)
        await store.prune(tx, cleared_before=at - dt.timedelta(days=settings.alerts_keep_days))
    for alert in changed:
        await _tell(alert)
    if changed:
        log.info(
            "alerts changed",
            extra={"raised": sum(a.state == "raised" for a in changed), "count": len(changed)},
        )
    return changed


async def _step(
    tx: Tx,
    table: Mapping[str, Rule],
    readings: Sequence[Reading],
    at: dt.datetime,
    settings: config.Settings,
) -> list[Alert]:
    streaks: dict[Key, tuple[int, int]] = {
        (r["rule"], r["tenant_id"], r["subject"]): (r["holding"], r["easing"])
        for r in await store.list_streaks(tx)
    }
    open_: dict[Key, Alert] = {
        (a.rule, a.tenant_id, a.subject): a for a in map(alert_of, await store.list_open(tx))
    }
    values: dict[Key, float] = {}
    for reading in readings:
        rule = table.get(reading.rule)
        if rule is not None:
            tenant = reading.tenant_id if rule.per_tenant else None
            values[(reading.rule, tenant, reading.subject)] = reading.value
    changed: list[Alert] = []
    for key in dict.fromkeys([*values, *streaks, *open_]):
        rule = table.get(key[0])
        value = values.get(key, rule.absent if rule else None)
        if rule is None or value is None:
            continue
        before = streaks.get(key, (0, 0))
        holding, easing, alert = await _advance(
            tx,
            rule,
            key,
            value=value,
            current=open_.get(key),
            counts=before,
            at=at,
            settings=settings,
        )
        if alert is not None:
            changed.append(alert)
        if (holding, easing) != before:
            rule_name, tenant_id, subject = key
            await store.set_streak(
                tx,
                tenant_id=tenant_id,
                rule=rule_name,
                subject=subject,
                holding=holding,
                easing=easing,
                at=at,
            )
    return changed


async def _advance(
    tx: Tx,
    rule: Rule,
    key: Key,
    *,
    value: float,
    current: Alert | None,
    counts: tuple[int, int],
    at: dt.datetime,
    settings: config.Settings,
) -> tuple[int, int, Alert | None]:
    """One rule's key one evaluation on, from its (holding, easing) counts: the new
    counts, and the alert it raised or cleared, if any."""
    holding, easing = counts
    rule_name, tenant_id, subject = key
    if current is None:
        holding = holding + 1 if rule.holds(value) else 0
        if holding < settings.alerts_raise_after:
            return holding, 0, None
        row = await store.insert_alert(
            tx,
            alert_id=new_id(),
            tenant_id=tenant_id,
            rule=rule_name,
            subject=subject,
            at=at,
            value=value,
            threshold=rule.raise_at,
        )
        return 0, 0, alert_of(row)
    easing = easing + 1 if rule.eases(value) else 0
    if easing < settings.alerts_clear_after:
        return 0, easing, None
    return 0, 0, alert_of(await store.clear_alert(tx, current.id, at=at))


async def _tell(alert: Alert) -> None:
    """After the evaluation committed: tell the admins concerned (a raise) and send the
    change to their sockets. Each organisation in its own transaction, as careline."""
    if alert.tenant_id is not None:
        tenants = [alert.tenant_id]
    else:
        async with transaction(Actor.system(), readonly=True) as tx:
            tenants = await tenant_service.internal_list_tenant_ids(tx)
    for tenant_id in tenants:
        async with transaction(Actor.system(tenant_id)) as tx:
            admins = [
                m.account_id for m in await tenant_service.list_enabled_with_role(tx, Role.ADMIN)
            ]
            if not admins:
                continue
            if alert.state == "raised":
                await notification_service.do_notify(
                    tx, ALERT, admins, object_id=alert.id, priority="high"
                )
            tx.emit(
                Event(
                    type=ALERT_RAISED if alert.state == "raised" else ALERT_CLEARED,
                    tenant_id=tenant_id,
                    account_ids=tuple(admins),
                    data={"tenant_id": str(tenant_id), "alert": wire(alert)},
                )
            )


async def list_alerts(
    tx: Tx, *, before: tuple[dt.datetime, uuid.UUID] | None, limit: int
) -> tuple[list[Alert], list[Alert]]:
    """For the actor's organisation (admins): the alerts open now, and a page of every
    alert (open and cleared, the organisation's and the instance's), newest first."""
    tenant_id = tx.actor.tenant
    tenant_service.require_admin(tx)
    # RLS shows a person their organisation's rows only; the instance-wide ones are read
    # as careline within the organisation (the policy alerts_read), for admins alone.
    async with tx.as_system():
        open_now = await store.list_open_for(tx, tenant_id)
        page = await store.list_alerts(tx, tenant_id, before=before, limit=limit)
    return [alert_of(r) for r in open_now], [alert_of(r) for r in page]
