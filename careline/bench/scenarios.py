"""The scenarios of `careline bench` (issue 4; docs/performance.md explains each).

Every scenario starts its own server, seeds its own people, and returns JSON lines: one
per scenario, plus `postgres-alone` after `threads-saturation`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Coroutine
from typing import Any

from careline.bench import pgalone
from careline.bench.abuse import abuse
from careline.bench.audit import audit
from careline.bench.clinic import clinic
from careline.bench.harness import UNBUDGETED, Options, Rig, progress
from careline.bench.metrics import PhaseResult, percentiles, result_line
from careline.bench.notify import notify
from careline.db.tx import Role

Scenario = Callable[[Options], Coroutine[Any, Any, list[dict[str, Any]]]]

FIND_MAX_RATES = (100, 200, 300, 400, 500, 600, 800, 1000, 1200, 1500, 2000, 2500, 3000)
FIND_MAX_P99_MS = 100.0


async def _one_team(name: str, options: Options, *, rate: float, messages: int) -> dict[str, Any]:
    """One conversation of 11: one sender at `rate`, ten receivers."""
    async with Rig(name, options) as rig:
        assert rig.seeder is not None
        world = await rig.seeder.people([Role.STAFF] * 11)
        await rig.seeder.teams(world, [list(range(11))])
        await rig.connect(world)
        (conversation_id,) = world.members
        senders = [(0, conversation_id)]
        await rig.phase(mode="closed", senders=senders, seconds=1.5)  # warm the pool
        count = options.messages or messages
        progress(f"{name}: {count} messages at {rate:g}/s")
        phase = await rig.phase(
            mode="open", senders=senders, rate=rate, count=count, seconds=count / rate
        )
        return result_line(name, phase, rig.memory)


async def quiet(options: Options) -> list[dict[str, Any]]:
    return [await _one_team("quiet", options, rate=2.0, messages=200)]


async def busy(options: Options) -> list[dict[str, Any]]:
    return [await _one_team("busy", options, rate=10.0, messages=500)]


async def team_saturation(options: Options) -> list[dict[str, Any]]:
    """One conversation of 40, twenty of them sending as fast as they are acked."""
    async with Rig("team-saturation", options, settings=UNBUDGETED) as rig:
        assert rig.seeder is not None
        world = await rig.seeder.people([Role.STAFF] * 40)
        await rig.seeder.teams(world, [list(range(40))])
        await rig.connect(world)
        (conversation_id,) = world.members
        senders = [(i, conversation_id) for i in range(20)]
        seconds = options.seconds or 45.0
        progress(f"team-saturation: 20 closed-loop senders for {seconds:g} s")
        phase = await rig.phase(mode="closed", senders=senders, seconds=seconds + 2, warm=2)
        return [result_line("team-saturation", phase, rig.memory)]


async def threads_saturation(options: Options) -> list[dict[str, Any]]:
    """Twenty care conversations, one closed-loop sender in each; then the same
    PostgreSQL alone, for the efficiency figure."""
    async with Rig("threads-saturation", options, settings=UNBUDGETED) as rig:
        assert rig.seeder is not None
        world = await rig.seeder.people([Role.STAFF] * 20 + [Role.CLIENT] * 20)
        await rig.seeder.care(world, [(i, 20 + i) for i in range(20)])
        await rig.connect(world)
        senders = [(members[0], c) for c, members in world.members.items()]
        seconds = options.seconds or 45.0
        progress(f"threads-saturation: 20 closed-loop senders for {seconds:g} s")
        phase = await rig.phase(mode="closed", senders=senders, seconds=seconds + 2, warm=2)
        alone_s = min(10.0, seconds)
        progress(f"postgres-alone: pgbench, 20 connections, {alone_s:g} s each")
        alone = await pgalone.measure(rig.server.pgdata, connections=20, seconds=alone_s)
        send_sql = await pgalone.measure_send_sql(
            rig.server.pgdata,
            senders=[
                (uuid.UUID(c), world.people[s].account_id, world.tenant_id) for s, c in senders
            ],
            seconds=alone_s,
        )
        efficiency = round(100 * phase.msgs_per_s / alone.inserts_per_s, 1)
        of_send_sql = round(100 * phase.msgs_per_s / send_sql.inserts_per_s, 1)
        line = result_line(
            "threads-saturation",
            phase,
            rig.memory,
            postgres_alone_inserts_per_s=round(alone.inserts_per_s, 1),
            efficiency_pct=efficiency,
            postgres_send_sql_per_s=round(send_sql.inserts_per_s, 1),
            of_send_sql_pct=of_send_sql,
        )
        alone_line = {
            "scenario": "postgres-alone",
            "connections": alone.connections,
            "duration_s": alone.seconds,
            "inserts_per_s": round(alone.inserts_per_s, 1),
            "efficiency_pct": efficiency,
            "send_sql_per_s": round(send_sql.inserts_per_s, 1),
            "of_send_sql_pct": of_send_sql,
        }
        return [line, alone_line]


async def _idle_world(rig: Rig, clients: int) -> None:
    assert rig.seeder is not None
    n = max(5, clients - clients % 5)
    progress(f"{rig.name}: seeding {n} people in {n // 5} conversations of 5")
    world = await rig.seeder.people([Role.STAFF] * n)
    await rig.seeder.teams(world, [list(range(i, i + 5)) for i in range(0, n, 5)])
    await rig.connect(world)


async def idle(options: Options) -> list[dict[str, Any]]:
    """Many clients connected, a trickle of 5 messages/s across them."""
    async with Rig("idle", options) as rig:
        await _idle_world(rig, options.clients)
        assert rig.world is not None
        senders = [(m[0], c) for c, m in rig.world.members.items()]
        seconds = options.seconds or 20.0
        progress(f"idle: 5 msg/s across {len(senders)} conversations for {seconds:g} s")
        phase = await rig.phase(mode="open", senders=senders, rate=5.0, seconds=seconds)
        return [result_line("idle", phase, rig.memory)]


async def reconnect(options: Options) -> list[dict[str, Any]]:
    """Every client dropped at once; one message per conversation while away; all
    reconnect together and resume. `caught_up_s` is when the last one holds it all."""
    async with Rig("reconnect", options) as rig:
        await _idle_world(rig, options.clients)
        phase = await rig.drop_and_resume(backlog=1)
        return [
            result_line(
                "reconnect",
                phase,
                rig.memory,
                note="ack = reconnect to resume ack, delivery = reconnect to replayed event",
                **phase.extra,
            )
        ]


def _held(phase: PhaseResult, rate: float) -> bool:
    p99 = percentiles(phase.delivery_ns)["p99"]
    return (
        p99 is not None
        and p99 <= FIND_MAX_P99_MS
        and not phase.errors
        and not phase.missing
        and phase.msgs_per_s >= 0.95 * rate
    )


async def find_max(options: Options) -> list[dict[str, Any]]:
    """Open-loop rate over 200 care conversations, raised step by step until delivery
    p99 passes 100 ms, errors appear, or the rate is not kept up."""
    async with Rig("find-max", options, settings=UNBUDGETED) as rig:
        assert rig.seeder is not None
        pairs = 200
        world = await rig.seeder.people([Role.STAFF] * pairs + [Role.CLIENT] * pairs)
        await rig.seeder.care(world, [(i, pairs + i) for i in range(pairs)])
        await rig.connect(world)
        senders = [(members[0], c) for c, members in world.members.items()]
        await rig.phase(mode="open", senders=senders, rate=100, seconds=2)  # warm the pool
        step_s = options.seconds or 4.0
        best: tuple[float, PhaseResult] | None = None
        steps = []
        last: PhaseResult | None = None
        for rate in FIND_MAX_RATES:
            last = await rig.phase(
                mode="open", senders=senders, rate=rate, seconds=step_s + 1, warm=1
            )
            held = _held(last, rate)
            p99 = percentiles(last.delivery_ns)["p99"]
            steps.append(
                {
                    "rate": rate,
                    "msgs_per_s": round(last.msgs_per_s, 1),
                    "delivery_p99_ms": p99,
                    "errors": sum(last.errors.values()),
                    "missing": last.missing,
                    "held": held,
                    **last.cpu.pct(),
                    **last.cpu_per_message(),
                }
            )
            progress(f"find-max: {rate}/s -> {last.msgs_per_s:.0f}/s, p99 {p99} ms, held={held}")
            if not held:
                break
            best = (rate, last)
        rate_held, shown = best if best is not None else (0.0, last)
        assert shown is not None
        return [result_line("find-max", shown, rig.memory, max_rate_held=rate_held, steps=steps)]


SCENARIOS: dict[str, Scenario] = {
    "quiet": quiet,
    "busy": busy,
    "team-saturation": team_saturation,
    "threads-saturation": threads_saturation,
    "idle": idle,
    "reconnect": reconnect,
    "find-max": find_max,
    "abuse": abuse,
    "clinic": clinic,
    "notify": notify,
    "audit": audit,
}
