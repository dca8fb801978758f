"""From a due record to the channels outside the app, after commit, exactly once.

Each record carries, per channel (push, e-mail), a state, a due time and a round
(migration 0012): `(record id, channel, round)` is the dedupe key of one send.

- `schedule(tx, rows)`: records that were just told. Once `tx` commits, each due send
  within the next `HORIZON_SECONDS` gets a timer in this process that defers its job at
  the due time (the queue itself polls only every few seconds, a push should go out
  within a second of its time). Later ones (e-mail, quiet hours) are armed by the sweep.
- `sweep()`: run at start and every minute (notifications.jobs): re-finds every send due
  before the horizon, so a crash or restart between commit and delivery loses nothing.
- `deliver(due)`: the job's body. It re-reads the record under a row lock and acts only
  if that channel is still due in that round: read -> nothing; the person's preference
  (or the kind) off -> `off`; quiet hours -> postponed to their end, still due, so what
  comes meanwhile joins it; a device showing the conversation -> `suppressed`; else the
  channel sends, and the record becomes `sent` (or `off` when there was nowhere to send,
  or `failed`). A push that went out while more messages arrived is due again in the
  next round, with the new count, under the same tag (it replaces what is shown).

Running a job twice is harmless (the state says what was done); a send in progress
holds a lease on its record's channel (its due time moves `LEASE_SECONDS` ahead), so a
second job for it meanwhile only waits. A crash after the channel sent and before the
state was written sends that round again once the lease has run out: the same tag
replaces it on the device, so the person still sees one notification.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from careline import config
from careline.db.tx import Actor, Tx, transaction
from careline.kit import clock
from careline.kit.errors import DatabaseUnavailable
from careline.notifications import channels, kinds, preferences, visibility
from careline.notifications.channels import ChannelName, Delivery, Result
from careline.notifications.preferences import Choices

log = logging.getLogger(__name__)

CHANNELS: tuple[ChannelName, ...] = ("push", "email")
# Sends due within this long get a timer in this process; the sweep (every minute) arms
# the rest as they come near.
HORIZON_SECONDS = 120.0
SWEEP_BATCH = 2000
# A job that finds its send due this little ahead sends it (timers and the database
# read the same clock; this covers rounding).
EARLY_SECONDS = 0.05
RETRY_SECONDS = 30.0  # a channel's passing outage without a Retry-After
# A send being made holds its record's channel this long (its due time moves this far
# ahead while the channel works): a second job for it meanwhile only waits. A process
# killed mid-send leaves the lease to run out, and the send is made again after it.
LEASE_SECONDS = 120.0


@dataclass(frozen=True, slots=True)
class Due:
    """One send: the dedupe key (record, channel, round) and when it is due."""

    notification_id: uuid.UUID
    tenant_id: uuid.UUID
    channel: ChannelName
    round: int
    at: dt.datetime

    @property
    def key(self) -> str:
        return f"{self.notification_id}:{self.channel}:{self.round}"


Deferrer = Callable[[Due], Awaitable[None]]


class Timers:
    """This process's timers: each defers its send's job at the due time."""

    def __init__(self, defer: Deferrer) -> None:
        self._defer = defer
        self._handles: dict[str, asyncio.TimerHandle] = {}
        self._of_record: dict[uuid.UUID, set[str]] = {}
        self._running: set[asyncio.Task[None]] = set()

    def arm(self, due: Due) -> None:
        old = self._handles.pop(due.key, None)
        if old is not None:
            old.cancel()
        delay = max(0.0, (due.at - clock.now()).total_seconds())
        loop = asyncio.get_running_loop()
        self._handles[due.key] = loop.call_later(delay, self._fire, due)
        self._of_record.setdefault(due.notification_id, set()).add(due.key)

    def disarm(self, notification_ids: Sequence[uuid.UUID]) -> None:
        """These records were read: their sends will not happen, so their timers go
        (a read within the delay then costs no job at all). A timer on another node
        still fires; its job finds the record read and does nothing."""
        for notification_id in notification_ids:
            for key in self._of_record.pop(notification_id, ()):
                handle = self._handles.pop(key, None)
                if handle is not None:
                    handle.cancel()

    def _fire(self, due: Due) -> None:
        self._handles.pop(due.key, None)
        keys = self._of_record.get(due.notification_id)
        if keys is not None:
            keys.discard(due.key)
            if not keys:
                del self._of_record[due.notification_id]
        task = asyncio.get_running_loop().create_task(self._run(due), name="notify.defer")
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _run(self, due: Due) -> None:
        try:
            await self._defer(due)
        except Exception:  # the sweep defers it again
            log.exception("a notification could not be queued", extra={"channel": due.channel})

    def __len__(self) -> int:
        return len(self._handles)

    async def close(self) -> None:
        for handle in self._handles.values():
            handle.cancel()
        self._handles.clear()
        self._of_record.clear()
        for task in list(self._running):
            task.cancel()
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)


class _State:
    timers: Timers | None = None
    defer: Deferrer | None = None


_state = _State()


async def start(defer: Deferrer) -> None:
    """Run this process's timers (the server calls it once the queue is open), and arm
    what a previous run left due."""
    _state.defer = defer
    _state.timers = Timers(defer)
    try:
        await sweep()
    except DatabaseUnavailable:  # the periodic sweep arms them once it answers again
        log.warning("notification sweep at start postponed: database unavailable")


async def stop() -> None:
    timers, _state.timers = _state.timers, None
    if timers is not None:
        await timers.close()


def timers() -> Timers | None:
    return _state.timers


def due_sends(row: Any) -> list[Due]:
    """The sends of a record that are waiting (state `due`), channel by channel."""
    if row["read_at"] is not None:
        return []
    found = []
    for channel in CHANNELS:
        at = row[f"{channel}_due_at"]
        if row[f"{channel}_state"] == "due" and at is not None:
            found.append(Due(row["id"], row["tenant_id"], channel, row[f"{channel}_round"], at))
    return found


def _arm(dues: Sequence[Due]) -> None:
    running = _state.timers
    if running is None:
        return  # not a server (a CLI command): the sweep of a server arms them
    horizon = clock.now() + dt.timedelta(seconds=HORIZON_SECONDS)
    for due in dues:
        if due.at <= horizon:
            running.arm(due)


def schedule(tx: Tx, rows: Sequence[Any]) -> None:
    """Arrange delivery of these records' due channels once `tx` commits."""
    dues = [due for row in rows for due in due_sends(row)]
    if not dues:
        return

    async def arm() -> None:
        _arm(dues)

    tx.after_commit(arm)


def forget(tx: Tx, notification_ids: Sequence[uuid.UUID]) -> None:
    """These records become read when `tx` commits: drop their timers then."""
    if not notification_ids or _state.timers is None:
        return
    ids = list(notification_ids)

    async def disarm() -> None:
        if _state.timers is not None:
            _state.timers.disarm(ids)

    tx.after_commit(disarm)


async def sweep() -> int:
    """Every send due before the horizon is armed again (without timers here: those
    already due are queued now). Returns how many were found."""
    async with transaction(Actor.system(), readonly=True) as tx:
        rows = await tx.conn.fetch(
            """
            (SELECT id, tenant_id, 'push' AS channel, push_round AS round, push_due_at AS at
             FROM notifications
             WHERE push_state = 'due' AND read_at IS NULL
               AND push_due_at < now() + make_interval(secs => $1)
             ORDER BY push_due_at LIMIT $2)
            UNION ALL
            (SELECT id, tenant_id, 'email', email_round, email_due_at
             FROM notifications
             WHERE email_state = 'due' AND read_at IS NULL
               AND email_due_at < now() + make_interval(secs => $1)
             ORDER BY email_due_at LIMIT $2)
            """,
            HORIZON_SECONDS,
            SWEEP_BATCH,
        )
    dues = [Due(r["id"], r["tenant_id"], r["channel"], r["round"], r["at"]) for r in rows]
    if _state.timers is not None:
        _arm(dues)
    elif _state.defer is not None:
        now = clock.now()
        for due in dues:
            if due.at <= now:
                await _state.defer(due)
    return len(dues)


# The job -------------------------------------------------------------------------------

Action = Literal["skip", "wait", "off", "postpone", "suppressed", "send"]


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    at: dt.datetime | None = None  # wait / postpone: the new due time


def decide(
    row: Any,
    due: Due,
    *,
    now: dt.datetime,
    choices: Choices | None,
    visible: bool,
    push_delay: float,
    email_delay: float,
) -> Decision:
    """What a send's job does with the record as it is now (a pure function of it)."""
    channel = due.channel
    state, round_, at = row[f"{channel}_state"], row[f"{channel}_round"], row[f"{channel}_due_at"]
    if row["read_at"] is not None or state != "due" or round_ != due.round or at is None:
        return Decision("skip")  # read, done, or a later round has its own job
    if at > now + dt.timedelta(seconds=EARLY_SECONDS):
        return Decision("wait", at)  # postponed meanwhile (quiet hours), or a timer ran early
    kind = kinds.KINDS.get(row["kind"])
    applies = kind is not None and (channel == "push" or kind.email)
    if not applies or choices is None or not getattr(choices, channel):
        return Decision("off")  # the kind has no such channel, or the person said no
    ends = preferences.in_quiet_hours(choices, now)
    if ends is not None:
        if channel == "email":
            # After the night, the e-mail keeps its distance behind the push: the person
            # may read what the morning's push told them first.
            ends += dt.timedelta(seconds=max(0.0, email_delay - push_delay))
        return Decision("postpone", ends)
    if visible:
        return Decision("suppressed")
    return Decision("send")


_ROW = """
    SELECT n.id, n.tenant_id, n.account_id, n.kind, n.conversation_id, n.count, n.priority,
           n.read_at, n.push_state, n.push_due_at, n.push_round, n.email_state,
           n.email_due_at, n.email_round, t.name AS organisation
    FROM notifications n JOIN tenants t ON t.id = n.tenant_id
    WHERE n.id = $1 AND n.tenant_id = $2
    FOR UPDATE OF n
"""

# The columns of each channel, as constants (never from input).
_COLS: dict[ChannelName, tuple[str, str, str]] = {
    "push": ("push_state", "push_due_at", "push_round"),
    "email": ("email_state", "email_due_at", "email_round"),
}


async def _set_state(tx: Tx, due: Due, state: str) -> None:
    col_state, _, col_round = _COLS[due.channel]
    await tx.conn.execute(
        f"UPDATE notifications SET {col_state} = $3"  # noqa: S608 - constant columns
        f" WHERE id = $1 AND {col_round} = $2 AND {col_state} = 'due'",
        due.notification_id,
        due.round,
        state,
    )


async def _postpone(tx: Tx, due: Due, at: dt.datetime) -> None:
    col_state, col_at, col_round = _COLS[due.channel]
    await tx.conn.execute(
        f"UPDATE notifications SET {col_at} = $3"  # noqa: S608 - constant columns
        f" WHERE id = $1 AND {col_round} = $2 AND {col_state} = 'due'",
        due.notification_id,
        due.round,
        at,
    )


def _rearm(tx: Tx, due: Due, at: dt.datetime) -> None:
    later = Due(due.notification_id, due.tenant_id, due.channel, due.round, at)

    async def arm() -> None:
        _arm([later])

    tx.after_commit(arm)


async def _claim(due: Due) -> tuple[Delivery, int] | None:
    """The first transaction of a send: decide, and record any decision but `send`.
    Returns what to send, and the count it shows."""
    settings = config.current()
    async with transaction(Actor.system(due.tenant_id)) as tx:
        row = await tx.conn.fetchrow(_ROW, due.notification_id, due.tenant_id)
        if row is None:
            return None
        choices = await preferences.effective(tx, row["tenant_id"], row["account_id"])
        member = (row["tenant_id"], row["account_id"])
        visible = row["conversation_id"] is not None and visibility.current().is_visible(
            member, row["conversation_id"]
        )
        decision = decide(
            row,
            due,
            now=clock.now(),
            choices=choices,
            visible=visible,
            push_delay=settings.notify_push_delay_seconds,
            email_delay=settings.notify_email_delay_seconds,
        )
        if decision.action in ("off", "suppressed"):
            await _set_state(tx, due, decision.action)
        elif decision.action == "postpone" and decision.at is not None:
            await _postpone(tx, due, decision.at)
            _rearm(tx, due, decision.at)
        elif decision.action == "wait" and decision.at is not None:
            _rearm(tx, due, decision.at)
        if decision.action != "send":
            return None
        lease = clock.now() + dt.timedelta(seconds=LEASE_SECONDS)
        # No timer for it: a process killed mid-send leaves the record due at the lease's
        # end, and the sweep (at start, then every minute) arms it again.
        await _postpone(tx, due, lease)
        delivery = Delivery.of_record(row, window=due.round)
        return delivery, row["count"]


async def _finish(due: Due, result: Result, shown: int) -> None:
    """The second transaction: what the channel did becomes the record's state. A push
    that went out while more messages came is due again, in the next round."""
    async with transaction(Actor.system(due.tenant_id)) as tx:
        if result.outcome == "sent" and due.channel == "push":
            again = await tx.conn.fetchrow(
                """
                UPDATE notifications SET
                  push_count = $3,
                  push_state = CASE WHEN count > $3 THEN 'due' ELSE 'sent' END,
                  push_round = CASE WHEN count > $3 THEN push_round + 1 ELSE push_round END,
                  push_due_at = CASE WHEN count > $3 THEN now() + make_interval(secs => $4)
                                     ELSE push_due_at END
                WHERE id = $1 AND push_round = $2 AND push_state = 'due'
                RETURNING id, tenant_id, read_at, push_state, push_due_at, push_round,
                          email_state, email_due_at, email_round
                """,
                due.notification_id,
                due.round,
                shown,
                config.current().notify_push_delay_seconds,
            )
            if again is not None and again["push_state"] == "due":
                schedule(tx, [again])
            return
        state = {"sent": "sent", "nothing": "off", "failed": "failed"}[result.outcome]
        await _set_state(tx, due, state)


async def deliver(due: Due) -> str:
    """The job's body: one send, if it is still due. Returns what happened (for logs
    and tests): skip, wait, off, postpone, suppressed, or the channel's outcome."""
    claimed = await _claim(due)
    if claimed is None:
        return "done"
    delivery, shown = claimed
    channel = channels.get(due.channel)
    if channel is None:  # this careline sends nothing on that channel
        result = Result("nothing", reason="no_channel")
    else:
        result = await channel.send(delivery)
    if result.outcome == "retry":
        await _retry(due, result.retry_after or RETRY_SECONDS)
        return "retry"
    await _finish(due, result, shown)
    return result.outcome


async def _retry(due: Due, after: float) -> None:
    """A passing outage of the whole channel: the same round is due again later (and
    what comes meanwhile joins it)."""
    at = clock.now() + dt.timedelta(seconds=after)
    async with transaction(Actor.system(due.tenant_id)) as tx:
        await _postpone(tx, due, at)
        _rearm(tx, due, at)
