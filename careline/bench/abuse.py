"""`careline bench abuse` (issue 16): the quiet scenario's ordinary traffic throughout,
while each attack of careline/bench/attacks.py runs in turn for a bounded time.

Per attack: the ordinary users' delivery and ack p50/p99 meanwhile, what the attacker
got, and the server's peak RSS and open descriptors. At the end: the RSS before the
first attack (baseline) and `settle` seconds after the last. Targets: ordinary ack p99
<= 50 ms during every attack; RSS back within 20 % of the baseline.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import psutil

from careline.bench.attacks import ATTACKS, Outcome, Target, build_files, warm_up
from careline.bench.harness import Options, Rig, progress
from careline.bench.metrics import MIB, PhaseResult, percentiles
from careline.bench.seed import World
from careline.db.tx import Role

ORDINARY = 11  # quiet's team conversation of 11, one of them sending
ORDINARY_RATE = 5.0  # the ordinary user: a message every 200 ms
CONSUMERS = 150  # people with two never-reading sockets each: 300 sockets
SIGN_IN_ACCOUNTS = 4
ACK_P99_TARGET_MS = 50.0
MEMORY_MARGIN = 0.20
DEFAULT_ATTACK_S = 15.0
DEFAULT_SETTLE_S = 60.0


@dataclass(slots=True)
class Meter:
    """The server's RSS and open descriptors, sampled every 0.2 s; peaks since reset."""

    pid: int
    peak_mib: float = 0.0
    peak_fds: int = 0

    def now(self) -> tuple[float, int]:
        try:
            proc = psutil.Process(self.pid)
            return proc.memory_info().rss / MIB, proc.num_fds()
        except psutil.Error:
            return 0.0, 0

    def reset(self) -> None:
        self.peak_mib, self.peak_fds = self.now()

    async def run(self) -> None:
        while True:
            rss, fds = self.now()
            self.peak_mib, self.peak_fds = max(self.peak_mib, rss), max(self.peak_fds, fds)
            await asyncio.sleep(0.2)


async def _seed(rig: Rig) -> tuple[World, Target]:
    assert rig.seeder is not None
    roles = [Role.STAFF] * (ORDINARY + 1 + CONSUMERS + SIGN_IN_ACCOUNTS)
    progress(f"abuse: seeding {len(roles)} people")
    world = await rig.seeder.people(roles)
    attacker = ORDINARY
    consumers = list(range(attacker + 1, attacker + 1 + CONSUMERS))
    await rig.seeder.teams(world, [list(range(ORDINARY))])
    (ordinary_conversation,) = world.members
    await rig.seeder.teams(world, [[attacker, *consumers]])
    flooded = next(c for c in world.members if c != ordinary_conversation)
    # The load generators connect the ordinary team only; the attacks open the rest.
    ordinary = World(
        world.tenant_id,
        world.people[:ORDINARY],
        members={ordinary_conversation: world.members[ordinary_conversation]},
        last_seq={ordinary_conversation: world.last_seq[ordinary_conversation]},
    )
    target = Target(
        port=rig.server.port,
        server_pid=rig.server.pid,
        attacker_token=world.people[attacker].token,
        conversation_id=flooded,
        consumer_tokens=[world.people[i].token for i in consumers] * 2,
        sign_ins=[
            {"email": world.email(i), "tenant": world.slug}
            for i in range(len(roles) - SIGN_IN_ACCOUNTS, len(roles))
        ],
    )
    return ordinary, target


def _ordinary(phase: PhaseResult) -> dict[str, Any]:
    return {
        "sent": phase.sent,
        "acked": len(phase.ack_ns),
        "ack_ms": percentiles(phase.ack_ns),
        "delivery_ms": percentiles(phase.delivery_ns),
        "errors": sum(phase.errors.values()),
        "error_kinds": dict(phase.errors),
        "missing_deliveries": phase.missing,
        "server_cpu_pct": phase.cpu.pct()["server_cpu_pct"],
        "other_cpu_pct": phase.cpu.pct()["other_cpu_pct"],
    }


async def _one_attack(
    rig: Rig, meter: Meter, target: Target, name: str, seconds: float
) -> dict[str, Any]:
    what, attack = ATTACKS[name]
    senders = [(0, next(iter(rig.world.members)))] if rig.world else []
    progress(f"abuse: {name} for {seconds:g} s")
    meter.reset()
    out = Outcome()
    started = time.monotonic()

    async def bounded() -> None:
        await asyncio.sleep(0.3)  # the phase's window opens 0.3 s after it is called
        try:
            async with asyncio.timeout(seconds + 10):
                await attack(target, seconds, out)
        except TimeoutError:
            out.counts["bench:cut_at_bound"] += 1

    attacking = asyncio.get_running_loop().create_task(bounded())
    phase = await rig.phase(mode="open", senders=senders, rate=ORDINARY_RATE, seconds=seconds)
    await attacking
    ordinary = _ordinary(phase)
    p99 = ordinary["ack_ms"]["p99"]
    held = p99 is not None and p99 <= ACK_P99_TARGET_MS and not ordinary["errors"]
    rss_end, fds_end = meter.now()
    return {
        "attack": name,
        "what": what,
        "duration_s": round(time.monotonic() - started, 1),
        "ordinary": ordinary,
        "attacker": dict(sorted(out.counts.items())),
        **out.extra,
        "server_rss_peak_mib": round(meter.peak_mib, 1),
        "server_rss_end_mib": round(rss_end, 1),
        "server_fds_peak": meter.peak_fds,
        "server_fds_end": fds_end,
        "ack_p99_pass": held,
    }


async def abuse(options: Options) -> list[dict[str, Any]]:
    seconds = options.seconds or DEFAULT_ATTACK_S
    settle = DEFAULT_SETTLE_S if options.settle is None else options.settle
    unknown = [a for a in options.attacks if a not in ATTACKS]
    if unknown:
        raise ValueError(f"no such attack: {', '.join(unknown)} (there are: {', '.join(ATTACKS)})")
    chosen = [a for a in ATTACKS if a in options.attacks] or list(ATTACKS)
    async with Rig("abuse", options) as rig:
        ordinary, target = await _seed(rig)
        target.files = build_files(small=seconds < 5)
        await rig.connect(ordinary)
        meter = Meter(rig.server.pid)
        sampling = asyncio.get_running_loop().create_task(meter.run())
        try:
            senders = [(0, next(iter(ordinary.members)))]
            await rig.phase(mode="open", senders=senders, rate=ORDINARY_RATE, seconds=3)
            warmed = await warm_up(target)
            calm = await rig.phase(
                mode="open", senders=senders, rate=ORDINARY_RATE, seconds=seconds
            )
            baseline, fds_baseline = meter.now()
            attacks = [await _one_attack(rig, meter, target, name, seconds) for name in chosen]
            progress(f"abuse: settling for {settle:g} s")
            await asyncio.sleep(settle)
            after, fds_after = meter.now()
        finally:
            sampling.cancel()
        memory_pass = after <= baseline * (1 + MEMORY_MARGIN)
        return [
            {
                "scenario": "abuse",
                "attack_s": seconds,
                "settle_s": settle,
                "clients": rig.memory.clients,
                "ordinary_rate": ORDINARY_RATE,
                "warm_up": dict(sorted(warmed.items())),
                "no_attack": _ordinary(calm),
                "attacks": attacks,
                "server_rss_idle_mib": round(rig.memory.idle_mib, 1),
                "server_rss_baseline_mib": round(baseline, 1),
                "server_rss_after_mib": round(after, 1),
                "server_fds_baseline": fds_baseline,
                "server_fds_after": fds_after,
                "ack_p99_target_ms": ACK_P99_TARGET_MS,
                "memory_margin_pct": round(100 * MEMORY_MARGIN),
                "memory_pass": memory_pass,
                "pass": memory_pass and all(a["ack_p99_pass"] for a in attacks),
            }
        ]


def summary(line: dict[str, Any]) -> str:
    """A short human reading of the abuse line: one row per attack."""
    rows = [
        f"abuse: {line['attack_s']:g} s per attack, ordinary traffic {line['ordinary_rate']:g}/s"
    ]
    calm = line["no_attack"]
    rows.append(
        f"  {'(no attack)':26} ack p50 {calm['ack_ms']['p50']} / p99 {calm['ack_ms']['p99']} ms"
    )
    for a in line["attacks"]:
        ack, got = a["ordinary"]["ack_ms"], a["attacker"]
        verdict = "pass" if a["ack_p99_pass"] else "FAIL"
        rows.append(
            f"  {a['attack']:26} ack p50 {ack['p50']} / p99 {ack['p99']} ms {verdict}; "
            f"RSS peak {a['server_rss_peak_mib']} MiB, fds {a['server_fds_peak']}; got {got}"
        )
    verdict = "pass" if line["memory_pass"] else "FAIL"
    rows.append(
        f"  RSS baseline {line['server_rss_baseline_mib']} MiB, {line['settle_s']:g} s after "
        f"the last attack {line['server_rss_after_mib']} MiB: {verdict}"
    )
    return "\n".join(rows)
