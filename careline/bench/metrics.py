"""What the bench measures and how it reports it: latency percentiles, CPU of the server,
PostgreSQL and load generators, the server's memory, and the one-line JSON result."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import psutil

MIB = 1024 * 1024


def percentiles(values_ns: Sequence[int]) -> dict[str, float | None]:
    """p50/p95/p99/max in milliseconds (nearest-rank), None when nothing was measured."""
    if not values_ns:
        return {"p50": None, "p95": None, "p99": None, "max": None}
    ordered = sorted(values_ns)
    n = len(ordered)

    def rank(p: float) -> float:
        return round(ordered[max(0, math.ceil(p * n) - 1)] / 1e6, 2)

    return {"p50": rank(0.50), "p95": rank(0.95), "p99": rank(0.99), "max": rank(1.0)}


class CpuMeter:
    """CPU seconds used so far by a changing set of processes. Processes that exit keep
    the time last seen for them, so sample often enough (the harness does every 0.5 s)."""

    def __init__(self, pids: Callable[[], Iterable[int]]) -> None:
        self._pids = pids
        self._seen: dict[tuple[int, float], float] = {}
        self._procs: dict[int, psutil.Process] = {}

    def total(self) -> float:
        for pid in self._pids():
            proc = self._procs.get(pid)
            try:
                if proc is None:
                    proc = self._procs[pid] = psutil.Process(pid)
                times = proc.cpu_times()
                self._seen[(pid, proc.create_time())] = times.user + times.system
            except psutil.Error:
                self._procs.pop(pid, None)
        return sum(self._seen.values())


def tree(root: Callable[[], int | None]) -> Callable[[], list[int]]:
    """The pids of a process and all its descendants (PostgreSQL's postmaster and its
    backends and workers)."""

    def pids() -> list[int]:
        pid = root()
        if pid is None:
            return []
        try:
            return [pid, *(c.pid for c in psutil.Process(pid).children(recursive=True))]
        except psutil.Error:
            return []

    return pids


def rss_mib(pid: int) -> float:
    try:
        return float(psutil.Process(pid).memory_info().rss) / MIB
    except psutil.Error:
        return 0.0


def machine_busy_seconds() -> float:
    t = psutil.cpu_times()
    return float(t.user + t.nice + t.system + t.irq + t.softirq + getattr(t, "steal", 0.0))


@dataclass(slots=True)
class CpuWindow:
    seconds: float
    server: float
    postgres: float
    loadgen: float
    machine: float

    def pct(self) -> dict[str, float]:
        wall = max(self.seconds, 1e-9)
        return {
            "server_cpu_pct": round(100 * self.server / wall, 1),
            "postgres_cpu_pct": round(100 * self.postgres / wall, 1),
            "loadgen_cpu_pct": round(100 * self.loadgen / wall, 1),
            "machine_cpu_pct": round(100 * self.machine / wall, 1),
            # Whatever else ran on the machine meanwhile: a figure taken while this is
            # high was taken on a busy machine.
            "other_cpu_pct": round(
                100 * max(0.0, self.machine - self.server - self.postgres - self.loadgen) / wall,
                1,
            ),
        }


@dataclass(slots=True)
class PhaseResult:
    """Merged reports of every load generator for one phase, cut to its window."""

    window_s: float
    ack_ns: list[int]
    delivery_ns: list[int]
    errors: Counter[str]
    missing: int
    sent: int
    receipts: int
    lag_max_ns: int
    cpu: CpuWindow
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def merge(
        cls,
        reports: list[dict[str, Any]],
        *,
        window: tuple[int, int],
        cpu: CpuWindow,
        keep_until: int | None = None,
    ) -> PhaseResult:
        """Keep what was sent from the window's start until its end (or `keep_until`, for
        a phase that sends a fixed number of messages); rates are over the window."""
        lo, end = window
        hi = end if keep_until is None else keep_until
        ack: list[int] = []
        delivery: list[int] = []
        errors: Counter[str] = Counter()
        missing = sent = receipts = lag = 0
        for r in reports:
            ack.extend(
                lat for t, lat in zip(r["ack_sent"], r["ack_lat"], strict=True) if lo <= t < hi
            )
            delivery.extend(
                lat for t, lat in zip(r["del_sent"], r["del_lat"], strict=True) if lo <= t < hi
            )
            errors.update(r["errors"])
            missing += r["missing"]
            sent += r["sent"]
            receipts += r["receipts"]
            lag = max(lag, r["lag_max_ns"])
        return cls((end - lo) / 1e9, ack, delivery, errors, missing, sent, receipts, lag, cpu)

    def cpu_per_message(self) -> dict[str, float | None]:
        """CPU microseconds per acknowledged message: what a send costs, whatever else
        shared the machine (a busy neighbour lowers rates far more than this)."""
        n = len(self.ack_ns)
        if not n:
            return {"server_us_per_msg": None, "postgres_us_per_msg": None}
        return {
            "server_us_per_msg": round(1e6 * self.cpu.server / n, 1),
            "postgres_us_per_msg": round(1e6 * self.cpu.postgres / n, 1),
        }

    @property
    def msgs_per_s(self) -> float:
        return len(self.ack_ns) / self.window_s if self.window_s > 0 else 0.0

    @property
    def deliveries_per_s(self) -> float:
        return len(self.delivery_ns) / self.window_s if self.window_s > 0 else 0.0


@dataclass(slots=True)
class Memory:
    idle_mib: float = 0.0
    peak_mib: float = 0.0
    connected_mib: float = 0.0
    clients: int = 0

    @property
    def kib_per_client(self) -> float | None:
        if not self.clients:
            return None
        return round(max(0.0, self.connected_mib - self.idle_mib) * 1024 / self.clients, 1)


def result_line(scenario: str, phase: PhaseResult, memory: Memory, **extra: Any) -> dict[str, Any]:
    """The scenario's JSON line: the same fields, in the same order, for every scenario."""
    return {
        "scenario": scenario,
        "duration_s": round(phase.window_s, 2),
        "clients": memory.clients,
        "sent": phase.sent,
        "messages": len(phase.ack_ns),
        "msgs_per_s": round(phase.msgs_per_s, 1),
        "deliveries": len(phase.delivery_ns),
        "deliveries_per_s": round(phase.deliveries_per_s, 1),
        "delivery_ms": percentiles(phase.delivery_ns),
        "ack_ms": percentiles(phase.ack_ns),
        "errors": sum(phase.errors.values()),
        "error_kinds": dict(phase.errors),
        "missing_deliveries": phase.missing,
        **phase.cpu.pct(),
        **phase.cpu_per_message(),
        "server_rss_idle_mib": round(memory.idle_mib, 1),
        "server_rss_peak_mib": round(memory.peak_mib, 1),
        "kib_per_client": memory.kib_per_client,
        "read_receipts": phase.receipts,
        "loadgen_lag_max_ms": round(phase.lag_max_ns / 1e6, 1),
        **extra,
    }


REQUIRED_FIELDS = (
    "scenario",
    "duration_s",
    "clients",
    "messages",
    "msgs_per_s",
    "deliveries",
    "deliveries_per_s",
    "delivery_ms",
    "ack_ms",
    "errors",
    "missing_deliveries",
    "server_cpu_pct",
    "postgres_cpu_pct",
    "loadgen_cpu_pct",
    "server_rss_idle_mib",
    "server_rss_peak_mib",
    "kib_per_client",
)


def summary(line: dict[str, Any]) -> str:
    """A short human reading of a result line."""
    d, a = line["delivery_ms"], line["ack_ms"]
    text = (
        f"{line['scenario']}: {line['messages']} messages in {line['duration_s']} s "
        f"({line['msgs_per_s']} msg/s, {line['deliveries_per_s']} deliveries/s) to "
        f"{line['clients']} clients\n"
        f"  delivery p50 {d['p50']} / p99 {d['p99']} / max {d['max']} ms; "
        f"ack p50 {a['p50']} / p99 {a['p99']} ms\n"
        f"  errors {line['errors']}, missing {line['missing_deliveries']}; CPU server "
        f"{line['server_cpu_pct']}%, PostgreSQL {line['postgres_cpu_pct']}%, load "
        f"{line['loadgen_cpu_pct']}% (machine {line['machine_cpu_pct']}% of 200%)\n"
        f"  server RSS {line['server_rss_idle_mib']} MiB idle, {line['server_rss_peak_mib']} "
        f"MiB peak"
        + (f", {line['kib_per_client']} KiB per client" if line["kib_per_client"] else "")
    )
    if line.get("note"):
        text += f"\n  {line['note']}"
    return text
