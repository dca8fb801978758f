"""One scenario's rig: a fresh server, the load-generator processes, the meters, and the
phases (send, then collect and check every delivery)."""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from types import TracebackType
from typing import Any

from careline.bench.loadgen import worker_main
from careline.bench.metrics import (
    CpuMeter,
    CpuWindow,
    Memory,
    PhaseResult,
    machine_busy_seconds,
    percentiles,
    rss_mib,
    tree,
)
from careline.bench.seed import Seeder, World
from careline.bench.server import HOST, ServerProcess

# The saturation and find-max scenarios (and the clinic's load) measure how many messages
# careline carries, with each sender
# sending as fast as it is acked: every sender is one person far over the per-person
# send budgets (docs/limits.md#per-person-budgets) by design, so those are lifted there.
# Every other scenario runs with the budgets as shipped.
UNBUDGETED = {
    "CARELINE_BUDGET_SENDS_PER_CONVERSATION": "1000000/second",
    "CARELINE_BUDGET_SENDS": "1000000/second",
    "CARELINE_BUDGET_RECEIPTS": "1000000/second",
}


@dataclass(frozen=True, slots=True)
class Options:
    workers: int = 2
    clients: int = 2000
    seconds: float | None = None  # overrides each timed scenario's length
    messages: int | None = None  # overrides quiet's and busy's message counts
    read_every: float = 1.0  # how long a client waits before acknowledging what it read
    profile: Path | None = None  # where py-spy writes the server's profile of each phase
    settle: float | None = None  # abuse: wait after the last attack before measuring RSS
    attacks: tuple[str, ...] = ()  # abuse: only these attacks, in the bench's order (none: all)
    scale: float = 1.0  # clinic: the organisation's size, 1 = issue 14's clinic of 700 people
    repeats: int = 200  # clinic: the most times one operation is timed alone
    members: int = 40  # notify: the team conversation's size
    push_delay: float | None = None  # notify: the push delay, if not as shipped (30 s)
    jobs_concurrency: int | None = None  # notify: jobs run at once, if not as shipped (2)
    cost_runs: int = 4  # notify: threads-saturation runs, notifications on and off in turn


def progress(text: str) -> None:
    print(f"  .. {text}", file=sys.stderr, flush=True)


class Workers:
    """Load-generator processes, each with a command pipe."""

    def __init__(self, count: int) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.conns: list[Connection] = []
        self.procs: list[BaseProcess] = []
        for i in range(count):
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=worker_main, args=(child, i), daemon=True)
            proc.start()
            child.close()
            self.conns.append(parent)
            self.procs.append(proc)

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.procs if p.pid is not None]

    async def call(self, commands: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for conn, command in zip(self.conns, commands, strict=True):
            conn.send(command)
        replies = await asyncio.gather(*(asyncio.to_thread(c.recv) for c in self.conns))
        for reply in replies:
            if "failed" in reply:
                raise RuntimeError(f"load generator failed: {reply['failed']}")
        return list(replies)

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.call([{"cmd": "exit"}] * len(self.conns)), 15)
        for proc in self.procs:
            proc.join(5)
            if proc.is_alive():
                proc.terminate()


class Rig:
    def __init__(
        self, name: str, options: Options, *, settings: dict[str, str] | None = None
    ) -> None:
        """`settings`: CARELINE_* variables for this scenario's server, where it must
        differ from careline as shipped (say why beside it)."""
        self.name = name
        self.options = options
        self.dir = Path(tempfile.mkdtemp(prefix=f"careline-bench-{name}-"))
        self.server = ServerProcess(self.dir / "data", settings)
        self.workers: Workers | None = None
        self.seeder: Seeder | None = None
        self.memory = Memory()
        self.world: World | None = None
        self._meters: dict[str, CpuMeter] = {}
        self._sampler: asyncio.Task[None] | None = None
        self._owner: dict[int, int] = {}
        self._phases = 0

    async def __aenter__(self) -> Rig:
        progress(f"{self.name}: starting careline and {self.options.workers} load generators")
        try:
            return await self._start()
        except BaseException as exc:
            # `async with` calls __aexit__ only once __aenter__ returned: without this, a
            # failure while starting (seeding, say) left the server and PostgreSQL running.
            await self.__aexit__(type(exc), exc, exc.__traceback__)
            raise

    async def _start(self) -> Rig:
        self.workers = Workers(self.options.workers)
        self.server.launch()
        await self.server.wait_ready()
        self._meters = {
            "server": CpuMeter(lambda: [self.server.pid]),
            "postgres": CpuMeter(tree(self.server.postmaster_pid)),
            "loadgen": CpuMeter(lambda: self.workers.pids if self.workers else []),
        }
        self._sampler = asyncio.get_running_loop().create_task(self._sample())
        self.seeder = await Seeder(self.server.data_dir, self.server.port).__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._sampler is not None:
            self._sampler.cancel()
        if self.seeder is not None:
            await self.seeder.__aexit__(None, None, None)
        if self.workers is not None:
            await self.workers.close()
        await asyncio.to_thread(self.server.stop)
        if exc is not None:
            print(self.server.log_tail(), file=sys.stderr)
        shutil.rmtree(self.dir, ignore_errors=True)

    async def _sample(self) -> None:
        while True:
            self.memory.peak_mib = max(self.memory.peak_mib, rss_mib(self.server.pid))
            for meter in self._meters.values():
                meter.total()
            await asyncio.sleep(0.5)

    def _cpu(self) -> dict[str, float]:
        totals = {name: meter.total() for name, meter in self._meters.items()}
        totals["machine"] = machine_busy_seconds()
        totals["wall"] = time.monotonic()
        return totals

    @staticmethod
    def _window(a: dict[str, float], b: dict[str, float]) -> CpuWindow:
        return CpuWindow(
            seconds=b["wall"] - a["wall"],
            server=b["server"] - a["server"],
            postgres=b["postgres"] - a["postgres"],
            loadgen=b["loadgen"] - a["loadgen"],
            machine=b["machine"] - a["machine"],
        )

    def cpu_mark(self) -> dict[str, float]:
        """CPU used so far by each part and the machine: give it to `cpu_since`."""
        return self._cpu()

    def cpu_since(self, mark: dict[str, float]) -> dict[str, float]:
        """Each part's CPU since `mark`, as % of one core (metrics.CpuWindow.pct)."""
        return self._window(mark, self._cpu()).pct()

    # setup ----------------------------------------------------------------------------

    async def connect(
        self, world: World, *, concurrency: int = 50, only: list[int] | None = None
    ) -> dict[str, Any]:
        """Seeded people connect (one socket each; `only`: just these people, the rest stay
        offline); the server's memory is measured before and after."""
        assert self.workers is not None
        self.world = world
        await asyncio.sleep(1.0)
        self.memory.idle_mib = rss_mib(self.server.pid)
        specs = [s for s in world.client_specs() if only is None or s[0] in only]
        n_workers = self.options.workers
        self._owner = {index: index % n_workers for index, _, _ in specs}
        commands = [
            {
                "cmd": "connect",
                "host": HOST,
                "port": self.server.port,
                "clients": [s for s in specs if self._owner[s[0]] == w],
                "concurrency": concurrency,
                "read_every": self.options.read_every,
            }
            for w in range(n_workers)
        ]
        progress(f"{self.name}: connecting {len(specs)} sockets")
        started = time.monotonic()
        replies = await self.workers.call(commands)
        elapsed = time.monotonic() - started
        connected = sum(r["connected"] for r in replies)
        if connected != len(specs):
            errors = [r["errors"] for r in replies]
            raise RuntimeError(f"only {connected} of {len(specs)} sockets connected: {errors}")
        await asyncio.sleep(1.0)
        self.memory.connected_mib = rss_mib(self.server.pid)
        self.memory.clients = connected
        times = [t for r in replies for t in r["ms"]]
        return {"connect_s": round(elapsed, 2), "connect_ms": _ms(times)}

    # phases ---------------------------------------------------------------------------

    async def phase(
        self,
        *,
        mode: str,
        senders: list[tuple[int, str]],
        seconds: float,
        rate: float = 0.0,
        count: int | None = None,
        warm: float = 0.0,
    ) -> PhaseResult:
        """Traffic from `senders` (person index, conversation) for `seconds`; the first
        `warm` seconds are sent and checked but left out of the figures. Open loop sends
        at `rate` messages/s in all, at most `count` of them."""
        assert self.workers is not None
        n_workers = self.options.workers
        start = time.monotonic_ns() + 300_000_000
        end = start + int(seconds * 1e9)
        lo = start + int(warm * 1e9)
        # A fixed count is sent in full even if the load generator runs late.
        stop = end if count is None else end + 2_000_000_000
        commands = []
        for w in range(n_workers):
            mine = [s for s in senders if self._owner[s[0]] == w]
            commands.append(
                {
                    "cmd": "run",
                    "mode": mode,
                    "senders": mine,
                    "rate": rate * len(mine) / len(senders) if senders else 0.0,
                    "count": None if count is None else round(count * len(mine) / len(senders)),
                    "start_ns": start,
                    "end_ns": stop,
                }
            )
        running = asyncio.get_running_loop().create_task(self.workers.call(commands))
        await _sleep_until(lo)
        profiler = self._profile((end - lo) / 1e9)
        before = self._cpu()
        await _sleep_until(end)
        after = self._cpu()
        replies = await running
        if profiler is not None:
            await asyncio.to_thread(profiler.wait)
        expected: dict[str, set[int]] = {}
        for reply in replies:
            for conversation_id, seqs in reply["acked"].items():
                expected.setdefault(conversation_id, set()).update(seqs)
        reports = await self.workers.call(
            [
                {
                    "cmd": "collect",
                    "expected": {c: sorted(s) for c, s in expected.items()},
                    "within": 15.0,
                }
            ]
            * n_workers
        )
        return PhaseResult.merge(
            reports, window=(lo, end), cpu=self._window(before, after), keep_until=stop
        )

    def _profile(self, seconds: float) -> subprocess.Popen[bytes] | None:
        """py-spy samples the server through the measured window (--profile only)."""
        self._phases += 1
        if self.options.profile is None or seconds < 1:
            return None
        self.options.profile.mkdir(parents=True, exist_ok=True)
        out = self.options.profile / f"{self.name}-{self._phases}.txt"
        return subprocess.Popen(  # noqa: S603 - py-spy from the same environment
            [
                str(Path(sys.executable).parent / "py-spy"),
                *("record", "--pid", str(self.server.pid), "--rate", "200", "--nonblocking"),
                *("--duration", str(max(1, int(seconds))), "--format", "raw", "-o", str(out)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    async def drop_and_resume(self, *, backlog: int, within: float = 120) -> PhaseResult:
        """Every socket is lost at once; while they are away each conversation gets
        `backlog` messages; then all reconnect together and resume."""
        assert self.workers is not None
        assert self.seeder is not None
        assert self.world is not None
        n_workers = self.options.workers
        await self.workers.call([{"cmd": "drop"}] * n_workers)
        progress(f"{self.name}: all sockets dropped; sending the backlog")
        await asyncio.sleep(2.0)
        await self.seeder.backlog(self.world, backlog)
        progress(f"{self.name}: everyone reconnects and resumes")
        start = time.monotonic_ns() + 300_000_000
        expected = dict(self.world.last_seq)
        running = asyncio.get_running_loop().create_task(
            self.workers.call(
                [{"cmd": "reconnect", "start_ns": start, "expected": expected, "within": within}]
                * n_workers
            )
        )
        await _sleep_until(start)
        before = self._cpu()
        replies = await running
        after = self._cpu()
        caught = [t for r in replies for t in r["caught_up_ns"]]
        end = start + (max(caught) if caught else 0) + 1
        result = PhaseResult.merge(replies, window=(start, end), cpu=self._window(before, after))
        result.extra = {
            "caught_up_s": round(max(caught) / 1e9, 2) if caught else None,
            "caught_up_ms": _ms(caught),
            "resumed": len(caught),
            "replayed_events": sum(r["deliveries"] for r in replies),
        }
        return result


def _ms(values_ns: list[int]) -> dict[str, float | None]:
    return percentiles(values_ns)


async def _sleep_until(t_ns: int) -> None:
    delay = (t_ns - time.monotonic_ns()) / 1e9
    if delay > 0:
        await asyncio.sleep(delay)
