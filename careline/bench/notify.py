"""`careline bench notify` (issue 11, "Measured"; docs/performance.md, "Notify").

Two parts, in one run:

1. **Coalescing and timing.** One team conversation of 40 staff; everyone but the sender
   is offline (no socket), each with a push subscription to the bench's push endpoint
   (pushsink.py, which checks VAPID and decrypts like a real push service). One person
   sends at 10 msg/s. While it runs the bench watches two things in careline's
   database: every job the queue is given (a row-level trigger on procrastinate's jobs
   table copies the task's name and queueing lock to an unlogged ledger), and when each
   record's push falls due (`push_due_at` of each (record, round), polled every 100 ms
   while it is `due`). Each push that arrives is matched to its recipient's round: its
   lateness is arrival - due, the end of the delay window.
2. **What notifications cost.** threads-saturation's load (20 care conversations, a
   closed-loop sender in each) on a server with notifications on, then on one with
   them off (`CARELINE_NOTIFICATIONS_ENABLED=false`), everyone subscribed to push in both.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from careline.bench.apiclient import ApiError, Http
from careline.bench.harness import UNBUDGETED, Options, Rig, progress
from careline.bench.metrics import percentiles, result_line
from careline.bench.pushsink import Arrival, PushSink
from careline.bench.seed import World
from careline.db.pool import connect_owner
from careline.db.tx import Role

SUBSCRIPTIONS_PATH = "/api/v1/push/subscriptions"
PUSH_TASK = "notifications.deliver/push"  # the task, and the channel from its queueing lock
RATE = 10.0
MESSAGES = 900  # 90 s: three push windows of the shipped 30 s delay
SATURATION_SECONDS = 30.0
POLL_S = 0.1

# The ledger: every job the queue is given during the run, by a trigger the bench adds
# to procrastinate's table in the server's own database (the seeder's owner connection).
# Unlogged and insert-only, so it adds one cheap row per job and no lock.
_LEDGER = """
CREATE UNLOGGED TABLE IF NOT EXISTS public.bench_jobs (
  task_name text NOT NULL, queueing_lock text, created_at timestamptz NOT NULL
);
CREATE OR REPLACE FUNCTION public.bench_job_created() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
BEGIN
  INSERT INTO public.bench_jobs VALUES (NEW.task_name, NEW.queueing_lock, clock_timestamp());
  RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS bench_job_created ON procrastinate.procrastinate_jobs;
CREATE TRIGGER bench_job_created AFTER INSERT ON procrastinate.procrastinate_jobs
  FOR EACH ROW EXECUTE FUNCTION public.bench_job_created();
"""


@dataclass(slots=True)
class Watch:
    """What the bench saw of careline's records and jobs during the notify phase."""

    tenant_id: uuid.UUID
    # (account id, push round) -> when that round's push fell due (epoch seconds): the
    # end of its delay window
    due: dict[tuple[uuid.UUID, int], float] = field(default_factory=dict)
    polls: int = 0
    due_now: int = 0  # records with a push due at the last poll

    async def poll(self, conn: asyncpg.Connection) -> int:
        rows = await conn.fetch(
            "SELECT account_id, push_round, push_due_at FROM notifications"
            " WHERE tenant_id = $1 AND push_state = 'due'",
            self.tenant_id,
        )
        for row in rows:
            # The earliest seen: a send in progress moves its due time ahead as a lease
            # (careline/notifications/delivery.py), which is not the window's end.
            key, at = (row["account_id"], row["push_round"]), row["push_due_at"].timestamp()
            self.due[key] = min(at, self.due.get(key, at))
        self.polls += 1
        self.due_now = len(rows)
        return len(rows)

    async def run(self, conn: asyncpg.Connection, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self.poll(conn)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), POLL_S)


async def subscribe_everyone(rig: Rig, world: World, sink: PushSink) -> int:
    """Each person subscribes one device to the sink, over careline's API. Returns how
    many careline took (none on a careline without web push: the rest is still measured)."""
    taken = 0
    for person in world.people:
        http = Http(rig.server.port, person.token)
        try:
            await http.call("POST", SUBSCRIPTIONS_PATH, sink.subscribe(str(person.index)))
            taken += 1
        except ApiError as exc:
            progress(f"{rig.name}: push subscription refused: {exc}")
            return taken
        finally:
            await http.close()
    return taken


def match(
    arrivals: list[Arrival],
    due: dict[tuple[uuid.UUID, int], float],
    account_of: dict[str, uuid.UUID],
) -> dict[str, Any]:
    """Each push to the round it delivered: the latest round of its recipient that fell
    due before it arrived. Lateness = arrival - due. A second push for one round is a
    duplicate; a round that fell due and got nothing is missing."""
    rounds: dict[uuid.UUID, list[tuple[float, int]]] = {}
    for (who, round_), at in due.items():
        rounds.setdefault(who, []).append((at, round_))
    for value in rounds.values():
        value.sort()
    late_ns: list[int] = []
    early = duplicates = unmatched = 0
    delivered: set[tuple[uuid.UUID, int]] = set()
    for arrival in arrivals:
        account = account_of.get(arrival.name)
        if account is None or account not in rounds:
            unmatched += 1
            continue
        before = [r for r in rounds[account] if r[0] <= arrival.at]
        if not before:
            early += 1  # before its window ended (or due and sent between two polls)
            continue
        at, round_ = before[-1]
        if (account, round_) in delivered:
            duplicates += 1
            continue
        delivered.add((account, round_))
        late_ns.append(int((arrival.at - at) * 1e9))
    return {
        "rounds_due": len(due),
        "rounds_pushed": len(delivered),
        "missing_pushes": len(due) - len(delivered),
        "duplicate_pushes": duplicates,
        "early_pushes": early,
        "unmatched_pushes": unmatched,
        "late_ns": late_ns,
    }


def _settings(options: Options) -> dict[str, str]:
    """careline as shipped, but for what the operator chose to vary."""
    settings: dict[str, str] = {}
    if options.push_delay is not None:
        settings["CARELINE_NOTIFY_PUSH_DELAY_SECONDS"] = str(options.push_delay)
    if options.jobs_concurrency is not None:
        settings["CARELINE_JOBS_CONCURRENCY"] = str(options.jobs_concurrency)
    return settings


async def _settle(watch: Watch, *, within: float) -> None:
    """Until the watch sees no push still due, and 2 s more for the last to arrive (at
    most `within` seconds)."""
    deadline = time.monotonic() + within
    quiet_since: float | None = None
    while time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        if watch.due_now:
            quiet_since = None
            continue
        quiet_since = quiet_since or time.monotonic()
        if time.monotonic() - quiet_since >= 2.0:
            return


async def _notify_phase(options: Options, sink: PushSink) -> dict[str, Any]:
    members = options.members
    count = options.messages or MESSAGES
    settings = _settings(options)
    async with Rig("notify", options, settings=settings) as rig:
        assert rig.seeder is not None
        world = await rig.seeder.people([Role.STAFF] * members)
        await rig.seeder.teams(world, [list(range(members))])
        (conversation_id,) = world.members
        progress(f"notify: {members} people subscribe to push; only the sender connects")
        subscribed = await subscribe_everyone(rig, world, sink)
        await rig.connect(world, only=[0])
        account_of = {str(p.index): p.account_id for p in world.people}
        conn: asyncpg.Connection = await connect_owner(rig.seeder.database.owner_dsn)
        try:
            await conn.execute(_LEDGER)
            delay = (
                options.push_delay
                if options.push_delay is not None
                else rig.seeder.settings.notify_push_delay_seconds  # as shipped
            )
            watch = Watch(world.tenant_id)
            stop = asyncio.Event()
            watching = asyncio.get_running_loop().create_task(watch.run(conn, stop))
            progress(f"notify: {count} messages at {RATE:g}/s; push delay {delay:g} s")
            started = time.time()
            phase = await rig.phase(
                mode="open",
                senders=[(0, conversation_id)],
                rate=RATE,
                count=count,
                seconds=count / RATE,
            )
            progress("notify: waiting for the last window's pushes")
            await _settle(watch, within=delay + 30)
            stop.set()
            await watching
            # notifications.deliver's queueing lock is notify:<record>:<channel>:<round>
            jobs = await conn.fetch(
                "SELECT task_name || coalesce('/' || nullif(split_part(queueing_lock, ':', 3),"
                " ''), '') AS task, count(*) AS n, count(DISTINCT queueing_lock) AS keys"
                " FROM public.bench_jobs"
                " WHERE created_at >= to_timestamp($1) GROUP BY 1",
                started,
            )
            states = await conn.fetch(
                "SELECT push_state, count(*) AS n, sum(count) AS messages FROM notifications"
                " WHERE tenant_id = $1 GROUP BY push_state",
                world.tenant_id,
            )
        finally:
            await conn.close()
        matched = match(sink.arrivals, watch.due, account_of)
        late_ns = matched.pop("late_ns")
        by_task = {r["task"]: r["n"] for r in jobs}
        push_jobs = by_task.get(PUSH_TASK, 0)
        push_keys = sum(r["keys"] for r in jobs if r["task"] == PUSH_TASK)
        messages = len(phase.ack_ns)
        recipients = members - 1
        counts = Counter(a.payload.get("count") for a in sink.arrivals)
        return result_line(
            "notify",
            phase,
            rig.memory,
            members=members,
            subscriptions=subscribed,
            recipients_offline=recipients,
            push_delay_s=delay,
            jobs_concurrency=options.jobs_concurrency or rig.seeder.settings.jobs_concurrency,
            push_jobs=push_jobs,
            push_jobs_per_message=round(push_jobs / messages, 3) if messages else None,
            push_jobs_per_recipient_window=(
                round(push_jobs / matched["rounds_due"], 3) if matched["rounds_due"] else None
            ),
            # a second job for one (record, push, round) finds it done and skips
            push_job_keys=push_keys,
            jobs_by_task=by_task,
            pushes_received=len(sink.arrivals),
            pushes_per_recipient=round(len(sink.arrivals) / recipients, 2),
            push_refused=dict(sink.refused),
            push_late_ms=percentiles(late_ns),
            push_urgency=dict(Counter(a.urgency for a in sink.arrivals)),
            push_counts_seen=len(counts),
            record_states={r["push_state"]: r["n"] for r in states},
            due_polls=watch.polls,
            **matched,
        )


async def _saturation(options: Options, sink: PushSink, *, enabled: bool) -> dict[str, Any]:
    name = f"notify-saturation-{'on' if enabled else 'off'}"
    settings = {
        **UNBUDGETED,
        **_settings(options),
        "CARELINE_NOTIFICATIONS_ENABLED": "true" if enabled else "false",
    }
    async with Rig(name, options, settings=settings) as rig:
        assert rig.seeder is not None
        world = await rig.seeder.people([Role.STAFF] * 20 + [Role.CLIENT] * 20)
        await rig.seeder.care(world, [(i, 20 + i) for i in range(20)])
        subscribed = await subscribe_everyone(rig, world, sink)
        await rig.connect(world)
        senders = [(members[0], c) for c, members in world.members.items()]
        seconds = options.seconds or SATURATION_SECONDS
        progress(f"{name}: 20 closed-loop senders for {seconds:g} s")
        before = len(sink.arrivals)
        phase = await rig.phase(mode="closed", senders=senders, seconds=seconds + 2, warm=2)
        return result_line(
            name,
            phase,
            rig.memory,
            notifications_enabled=enabled,
            subscriptions=subscribed,
            pushes_received=len(sink.arrivals) - before,
        )


def _order(runs: int) -> list[bool]:
    """On and off in turn, mirrored (on, off, off, on, ...) so a neighbour's load that
    rises or falls through the run weighs on both alike."""
    return [(i % 4) in (0, 3) for i in range(runs)]


def _mean(lines: list[dict[str, Any]], key: str) -> float | None:
    values = [line[key] for line in lines if line.get(key) is not None]
    return sum(values) / len(values) if values else None


def cost(on: list[dict[str, Any]], off: list[dict[str, Any]]) -> dict[str, float | None]:
    """What notifications cost: throughput lost (%), and CPU per message added (%)."""
    on_rate, off_rate = _mean(on, "msgs_per_s"), _mean(off, "msgs_per_s")
    figures: dict[str, float | None] = {
        "saturation_on_msgs_per_s": None if on_rate is None else round(on_rate, 1),
        "saturation_off_msgs_per_s": None if off_rate is None else round(off_rate, 1),
        "notifications_cost_pct": (
            round(100 * (1 - on_rate / off_rate), 1) if on_rate and off_rate else None
        ),
    }
    cpu = {}
    for mode, lines in (("on", on), ("off", off)):
        server, postgres = _mean(lines, "server_us_per_msg"), _mean(lines, "postgres_us_per_msg")
        cpu[mode] = None if server is None or postgres is None else server + postgres
        figures[f"saturation_{mode}_cpu_us_per_msg"] = (
            None if cpu[mode] is None else round(cpu[mode] or 0.0, 1)
        )
    figures["notifications_cpu_cost_pct"] = (
        round(100 * (cpu["on"] / cpu["off"] - 1), 1) if cpu["on"] and cpu["off"] else None
    )
    figures["saturation_other_cpu_pct"] = _mean(on + off, "other_cpu_pct")
    return figures


async def notify(options: Options) -> list[dict[str, Any]]:
    async with PushSink() as sink:
        line = await _notify_phase(options, sink)
        runs = [await _saturation(options, sink, enabled=e) for e in _order(options.cost_runs)]
    figures = cost(
        [r for r in runs if r["notifications_enabled"]],
        [r for r in runs if not r["notifications_enabled"]],
    )
    line.update(figures)
    return [line, *runs]


def summary(line: dict[str, Any]) -> str:
    """A short human reading of the notify line."""
    late = line["push_late_ms"]
    return (
        f"notify: {line['messages']} messages at {line['msgs_per_s']} msg/s to "
        f"{line['recipients_offline']} offline recipients, push delay {line['push_delay_s']} s\n"
        f"  push jobs {line['push_jobs']} ({line['push_jobs_per_message']} per message, "
        f"{line['push_jobs_per_recipient_window']} per recipient per window); "
        f"pushes received {line['pushes_received']}, missing {line['missing_pushes']}, "
        f"duplicate {line['duplicate_pushes']}, refused {sum(line['push_refused'].values())}\n"
        f"  push after its window p50 {late['p50']} / p99 {late['p99']} / max {late['max']} ms\n"
        f"  threads-saturation {line['saturation_on_msgs_per_s']} msg/s with notifications, "
        f"{line['saturation_off_msgs_per_s']} without: cost {line['notifications_cost_pct']}% "
        f"of throughput, {line['notifications_cpu_cost_pct']}% more CPU per message "
        f"(neighbours: {line['saturation_other_cpu_pct']}% CPU)"
    )
