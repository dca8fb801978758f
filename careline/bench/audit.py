"""`careline bench audit` (issue 12, "Measured"; docs/performance.md, "Audit").

What the audit costs, each part with audit on (as shipped) and off
(`CARELINE_AUDIT_ENABLED=false`) in turn, on, off, off, on, ... (`--cost-runs`), so a
neighbour's load that rises or falls through the run weighs on both alike:

1. **threads-saturation with readers.** threads-saturation's load (20 care conversations,
   a closed-loop sender in each), while every client opens its conversation's newest
   history page once a second, as people do when they open a thread: 40 audited reads a
   second beside the sends. Throughput and CPU per message, on against off.
2. **quiet with readers.** One team conversation of 11, 2 msg/s, each member opening its
   newest page once a second: delivery p50/p99, on against off (the target: at most 1 ms
   more at p50).
3. **One history page.** One person reads a page of 50 messages, one read at a time:
   the latency of a read with its audit event against one without.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from careline.bench.apiclient import Http
from careline.bench.harness import UNBUDGETED, Options, Rig, progress
from careline.bench.metrics import percentiles, result_line
from careline.bench.seed import World
from careline.db.pool import connect_owner
from careline.db.tx import Role

READ_EVERY_S = 1.0  # each client's history reads during the saturation part
PAGE = 50
HISTORY_READS = 400  # --messages shortens it, as it does quiet
SATURATION_SECONDS = 30.0
QUIET_MESSAGES = 200
QUIET_RATE = 2.0


def _env(enabled: bool) -> dict[str, str]:
    return {"CARELINE_AUDIT_ENABLED": "true" if enabled else "false"}


async def _audit_events(rig: Rig) -> int:
    """How many audit events the run left (none with the audit off), so a run that
    measured an audit doing nothing shows it."""
    assert rig.seeder is not None
    conn = await connect_owner(rig.seeder.database.owner_dsn)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM audit_events"))
    finally:
        await conn.close()


async def _reader(port: int, token: str, conversation_id: str, stop: float) -> list[int]:
    """Opens the newest page of one conversation every READ_EVERY_S until `stop`."""
    http = Http(port, token)
    took: list[int] = []
    path = f"/api/v1/conversations/{conversation_id}/messages?limit={PAGE}"
    try:
        next_at = time.monotonic()
        while next_at < stop:
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            began = time.perf_counter_ns()
            await http.call("GET", path)
            took.append(time.perf_counter_ns() - began)
            next_at += READ_EVERY_S
    finally:
        await http.close()
    return took


def _readers(rig: Rig, world: World, seconds: float) -> list[asyncio.Task[list[int]]]:
    """Everyone opens their conversation's newest page every READ_EVERY_S."""
    stop = time.monotonic() + seconds
    return [
        asyncio.create_task(_reader(rig.server.port, world.people[i].token, c, stop))
        for c, members in world.members.items()
        for i in members
    ]


async def _saturation(options: Options, *, enabled: bool) -> dict[str, Any]:
    name = f"audit-saturation-{'on' if enabled else 'off'}"
    async with Rig(name, options, settings={**UNBUDGETED, **_env(enabled)}) as rig:
        assert rig.seeder is not None
        world = await rig.seeder.people([Role.STAFF] * 20 + [Role.CLIENT] * 20)
        await rig.seeder.care(world, [(i, 20 + i) for i in range(20)])
        await rig.connect(world)
        senders = [(members[0], c) for c, members in world.members.items()]
        seconds = options.seconds or SATURATION_SECONDS
        progress(f"{name}: 20 closed-loop senders and 40 readers for {seconds:g} s")
        readers = _readers(rig, world, seconds + 2.3)
        phase = await rig.phase(mode="closed", senders=senders, seconds=seconds + 2, warm=2)
        reads = [ns for took in await asyncio.gather(*readers) for ns in took]
        return result_line(
            name,
            phase,
            rig.memory,
            audit_enabled=enabled,
            history_reads=len(reads),
            history_read_ms=percentiles(reads),
            audit_events=await _audit_events(rig),
        )


async def _quiet(options: Options, *, enabled: bool) -> dict[str, Any]:
    name = f"audit-quiet-{'on' if enabled else 'off'}"
    async with Rig(name, options, settings=_env(enabled)) as rig:
        assert rig.seeder is not None
        world = await rig.seeder.people([Role.STAFF] * 11)
        await rig.seeder.teams(world, [list(range(11))])
        await rig.connect(world)
        (conversation_id,) = world.members
        senders = [(0, conversation_id)]
        await rig.phase(mode="closed", senders=senders, seconds=1.5)  # warm the pool
        count = options.messages or QUIET_MESSAGES
        progress(f"{name}: {count} messages at {QUIET_RATE:g}/s, 11 readers")
        readers = _readers(rig, world, count / QUIET_RATE + 0.3)
        phase = await rig.phase(
            mode="open", senders=senders, rate=QUIET_RATE, count=count, seconds=count / QUIET_RATE
        )
        reads = [ns for took in await asyncio.gather(*readers) for ns in took]
        return result_line(
            name,
            phase,
            rig.memory,
            audit_enabled=enabled,
            history_reads=len(reads),
            audit_events=await _audit_events(rig),
        )


async def _history(options: Options, *, enabled: bool) -> dict[str, Any]:
    """One person reads one page of 50, HISTORY_READS times, one at a time."""
    name = f"audit-history-{'on' if enabled else 'off'}"
    async with Rig(name, options, settings=_env(enabled)) as rig:
        assert rig.seeder is not None
        world: World = await rig.seeder.people([Role.STAFF, Role.CLIENT])
        await rig.seeder.care(world, [(0, 1)])
        await rig.connect(world)
        (conversation_id,) = world.members
        await rig.phase(mode="closed", senders=[(0, conversation_id)], seconds=1.5)
        http = Http(rig.server.port, world.people[0].token)
        path = f"/api/v1/conversations/{conversation_id}/messages?limit={PAGE}"
        took: list[int] = []
        try:
            for _ in range(20):  # warm the connection and the statements
                await http.call("GET", path)
            for _ in range(options.messages or HISTORY_READS):
                began = time.perf_counter_ns()
                page, _status = await http.call("GET", path)
                took.append(time.perf_counter_ns() - began)
        finally:
            await http.close()
        return {
            "scenario": name,
            "audit_enabled": enabled,
            "reads": len(took),
            "page_size": len(page["items"]),
            "read_ms": percentiles(took),
            "audit_events": await _audit_events(rig),
        }


def _order(runs: int) -> list[bool]:
    return [(i % 4) in (0, 3) for i in range(max(2, runs))]


def _mean(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None


def _split(lines: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    return [x for x in lines if x["audit_enabled"]], [x for x in lines if not x["audit_enabled"]]


def _cpu(line: dict[str, Any]) -> float | None:
    server, postgres = line.get("server_us_per_msg"), line.get("postgres_us_per_msg")
    return None if server is None or postgres is None else server + postgres


def cost(
    saturation: list[dict[str, Any]], quiet: list[dict[str, Any]], history: list[dict[str, Any]]
) -> dict[str, Any]:
    """The figures the issue asks for, from the runs of each part."""
    s_on, s_off = _split(saturation)
    on_rate = _mean([x["msgs_per_s"] for x in s_on])
    off_rate = _mean([x["msgs_per_s"] for x in s_off])
    on_cpu, off_cpu = _mean([_cpu(x) for x in s_on]), _mean([_cpu(x) for x in s_off])
    q_on, q_off = _split(quiet)
    h_on, h_off = _split(history)

    def p(lines: list[dict[str, Any]], key: str, rank: str) -> float | None:
        return _mean([x[key][rank] for x in lines])

    figures: dict[str, Any] = {
        "saturation_on_msgs_per_s": None if on_rate is None else round(on_rate, 1),
        "saturation_off_msgs_per_s": None if off_rate is None else round(off_rate, 1),
        "audit_cost_pct": round(100 * (1 - on_rate / off_rate), 1)
        if on_rate and off_rate
        else None,
        "audit_cpu_cost_pct": round(100 * (on_cpu / off_cpu - 1), 1)
        if on_cpu and off_cpu
        else None,
        "saturation_history_reads_per_s": _mean(
            [x["history_reads"] / x["duration_s"] for x in saturation if x["duration_s"]]
        ),
    }
    for rank in ("p50", "p99"):
        on_q, off_q = p(q_on, "delivery_ms", rank), p(q_off, "delivery_ms", rank)
        figures[f"quiet_on_delivery_{rank}_ms"] = on_q
        figures[f"quiet_off_delivery_{rank}_ms"] = off_q
        figures[f"quiet_delivery_{rank}_added_ms"] = (
            round(on_q - off_q, 2) if on_q is not None and off_q is not None else None
        )
        on_h, off_h = p(h_on, "read_ms", rank), p(h_off, "read_ms", rank)
        figures[f"history_on_{rank}_ms"] = on_h
        figures[f"history_off_{rank}_ms"] = off_h
        figures[f"history_{rank}_added_ms"] = (
            round(on_h - off_h, 2) if on_h is not None and off_h is not None else None
        )
    return figures


async def audit(options: Options) -> list[dict[str, Any]]:
    order = _order(options.cost_runs)
    saturation = [await _saturation(options, enabled=e) for e in order]
    quiet = [await _quiet(options, enabled=e) for e in order]
    history = [await _history(options, enabled=e) for e in order]
    line = {"scenario": "audit", "runs_each": len(order), **cost(saturation, quiet, history)}
    return [line, *saturation, *quiet, *history]


def summary(line: dict[str, Any]) -> str:
    """A short human reading of the audit line."""
    return (
        f"audit: threads-saturation with readers {line['saturation_on_msgs_per_s']} msg/s "
        f"with audit, {line['saturation_off_msgs_per_s']} without: cost "
        f"{line['audit_cost_pct']}% of throughput, {line['audit_cpu_cost_pct']}% more CPU "
        f"per message\n"
        f"  quiet delivery p50 {line['quiet_on_delivery_p50_ms']} vs "
        f"{line['quiet_off_delivery_p50_ms']} ms ({line['quiet_delivery_p50_added_ms']} ms "
        f"added), p99 {line['quiet_on_delivery_p99_ms']} vs {line['quiet_off_delivery_p99_ms']}\n"
        f"  one history page of {PAGE}: p50 {line['history_on_p50_ms']} vs "
        f"{line['history_off_p50_ms']} ms ({line['history_p50_added_ms']} ms added)"
    )
