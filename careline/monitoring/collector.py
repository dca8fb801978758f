"""What careline counts of itself, in process: per-minute counts for the last hour and
latency histograms, per organisation where the count knows one and for the whole node.

Cheap on the hot path: the event loop is the only writer (one thread), so a count is a
few list operations and no lock; nothing here does I/O or allocates per request beyond a
dict lookup. Labels are closed words only (route templates, status classes, op names,
error codes, part names): never an id, a name or text. Tenant ids key the per-minute
series the dashboard reads, in memory only; they never reach /metrics.

The dashboard (`series`) and /metrics (careline/monitoring/metrics.py) read from here.
"""

from __future__ import annotations

import bisect
import math
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass

MINUTES = 60  # the per-minute series cover the last hour
DELIVERY_WINDOW_MINUTES = 5  # p50/p99 of delivery latency are over the last 5 minutes

# Per-minute series, by name (the dashboard's and the alerts' vocabulary).
HTTP_REQUESTS = "http_requests"
HTTP_5XX = "http_5xx"
SOCKET_FRAMES = "socket_frames"
SOCKET_ERROR = "socket_error"
FRAME_REFUSED = "frame_refused"
SIGN_IN_FAILURES = "sign_in_failures"
DELIVERIES = "deliveries"
SERIES_NAMES = (
    HTTP_REQUESTS,
    HTTP_5XX,
    SOCKET_FRAMES,
    SOCKET_ERROR,
    FRAME_REFUSED,
    SIGN_IN_FAILURES,
    DELIVERIES,
)

# Latency histogram bounds, seconds (Prometheus' `le`); the last bucket is +Inf.
LATENCY_BOUNDS: tuple[float, ...] = (
    0.0005,
    0.001,
    0.002,
    0.005,
    0.01,
    0.02,
    0.05,
    0.1,
    0.2,
    0.5,
    1.0,
    2.0,
    5.0,
    10.0,
)
# Finer bounds for the per-minute delivery histograms the percentiles come from
# (geometric, x1.25 from 0.1 ms to ~30 s): an estimate within one bucket (25 %).
_FINE_BOUNDS: tuple[float, ...] = tuple(0.0001 * 1.25**i for i in range(57))


def status_class(status: int) -> str:
    """`2xx`..`5xx`: the label HTTP counts carry (never the status itself per route)."""
    return f"{status // 100}xx" if 100 <= status < 600 else "other"


class Histogram:
    """Counts per bucket, a sum and a count: the shape of a Prometheus histogram."""

    __slots__ = ("bounds", "buckets", "count", "sum")

    def __init__(self, bounds: tuple[float, ...] = LATENCY_BOUNDS) -> None:
        self.bounds = bounds
        self.buckets = [0] * (len(bounds) + 1)
        self.count = 0
        self.sum = 0.0

    def observe(self, value: float) -> None:
        self.buckets[bisect.bisect_left(self.bounds, value)] += 1
        self.count += 1
        self.sum += value

    def cumulative(self) -> list[tuple[float, int]]:
        """(upper bound, observations at or below it), the last bound being +Inf."""
        total, out = 0, []
        for bound, n in zip((*self.bounds, math.inf), self.buckets, strict=True):
            total += n
            out.append((bound, total))
        return out


def _quantile(buckets: list[int], bounds: tuple[float, ...], q: float) -> float | None:
    """The q-quantile of bucketed observations, interpolated within its bucket."""
    total = sum(buckets)
    if total == 0:
        return None
    rank = q * total
    seen = 0
    for i, n in enumerate(buckets):
        if n and seen + n >= rank:
            low = bounds[i - 1] if i > 0 else 0.0
            high = bounds[i] if i < len(bounds) else bounds[-1]
            return low + (high - low) * ((rank - seen) / n)
        seen += n
    return bounds[-1]


class _Minutes:
    """A count per minute for the last MINUTES minutes: a ring of slots, each stamped
    with the minute it holds, so a slot from an hour ago reads as zero."""

    __slots__ = ("counts", "stamps")

    def __init__(self) -> None:
        self.counts = [0] * MINUTES
        self.stamps = [-1] * MINUTES

    def add(self, minute: int, n: int) -> None:
        slot = minute % MINUTES
        if self.stamps[slot] != minute:
            self.stamps[slot], self.counts[slot] = minute, 0
        self.counts[slot] += n

    def last_hour(self, minute: int) -> list[int]:
        out = []
        for m in range(minute - MINUTES + 1, minute + 1):
            slot = m % MINUTES
            out.append(self.counts[slot] if self.stamps[slot] == m else 0)
        return out


class _MinuteHistograms:
    """A fine latency histogram per minute, for percentiles over the last few minutes."""

    __slots__ = ("slots", "stamps")

    def __init__(self) -> None:
        self.slots: list[list[int]] = [[] for _ in range(DELIVERY_WINDOW_MINUTES)]
        self.stamps = [-1] * DELIVERY_WINDOW_MINUTES

    def observe(self, minute: int, seconds: float) -> None:
        slot = minute % DELIVERY_WINDOW_MINUTES
        if self.stamps[slot] != minute:
            self.stamps[slot] = minute
            self.slots[slot] = [0] * (len(_FINE_BOUNDS) + 1)
        self.slots[slot][bisect.bisect_left(_FINE_BOUNDS, seconds)] += 1

    def window(self, minute: int) -> list[int]:
        total = [0] * (len(_FINE_BOUNDS) + 1)
        for slot, stamp in enumerate(self.stamps):
            if minute - DELIVERY_WINDOW_MINUTES < stamp <= minute:
                for i, n in enumerate(self.slots[slot]):
                    total[i] += n
        return total


@dataclass(frozen=True, slots=True)
class Series:
    """The last hour of one organisation (or of the node: tenant_id None). Each list has
    MINUTES counts, oldest first, the current (partial) minute last. HTTP counts are the
    node's in every scope: a request can fail before anyone knows its organisation."""

    tenant_id: uuid.UUID | None
    minutes: dict[str, list[int]]
    delivery_p50_ms: float | None  # commit to socket write, the last 5 minutes
    delivery_p99_ms: float | None
    deliveries: int  # how many the percentiles are over


class Collector:
    """Counts and histograms of one process. `now` (seconds since the epoch) decides the
    minute; the tests hand in a clock of their own."""

    def __init__(self, now: Callable[[], float] = time.time) -> None:
        self._now = now
        self.started_at = now()
        self._minutes: dict[tuple[str, uuid.UUID | None], _Minutes] = {}
        self._delivery_minutes: dict[uuid.UUID | None, _MinuteHistograms] = {}
        # Totals since start, for /metrics (Prometheus counters), by their labels.
        self.http: dict[tuple[str, str, str], int] = {}  # (method, route, class)
        self.http_seconds: dict[str, Histogram] = {}  # by route template
        self.frames: dict[str, int] = {}  # by op
        self.socket_errors: dict[tuple[str, str], int] = {}  # (op, code)
        self.refused: dict[str, int] = {}  # by code
        self.sign_in_failures = 0
        self.delivery_seconds = Histogram()

    def _minute(self) -> int:
        return int(self._now() // 60)

    def _count(self, name: str, tenant_id: uuid.UUID | None, n: int = 1) -> None:
        minute = self._minute()
        for key in ((name, None), (name, tenant_id)) if tenant_id is not None else ((name, None),):
            series = self._minutes.get(key)
            if series is None:
                series = self._minutes[key] = _Minutes()
            series.add(minute, n)

    # what the hot paths call ----------------------------------------------------------

    def http_request(self, method: str, route: str, status: int, seconds: float) -> None:
        """One HTTP request, by its route template (`-` when no route matched)."""
        cls = status_class(status)
        key = (method, route, cls)
        self.http[key] = self.http.get(key, 0) + 1
        hist = self.http_seconds.get(route)
        if hist is None:
            hist = self.http_seconds[route] = Histogram()
        hist.observe(seconds)
        self._count(HTTP_REQUESTS, None)
        if cls == "5xx":
            self._count(HTTP_5XX, None)

    def socket_frame(self, op: str, tenant_id: uuid.UUID | None) -> None:
        """A request frame that named a known op (callers pass `unknown` otherwise)."""
        self.frames[op] = self.frames.get(op, 0) + 1
        self._count(SOCKET_FRAMES, tenant_id)

    def socket_error(self, op: str, code: str, tenant_id: uuid.UUID | None) -> None:
        """An op answered with an error (its stable code)."""
        key = (op, code)
        self.socket_errors[key] = self.socket_errors.get(key, 0) + 1
        self._count(SOCKET_ERROR, tenant_id)

    def frame_refused(self, code: str, tenant_id: uuid.UUID | None) -> None:
        """A frame the protocol refused before any op ran (malformed, unknown op, bad
        arguments)."""
        self.refused[code] = self.refused.get(code, 0) + 1
        self._count(FRAME_REFUSED, tenant_id)

    def sign_in_failed(self) -> None:
        """A refused sign-in, counted for the node."""
        self.sign_in_failures += 1
        self._count(SIGN_IN_FAILURES, None)

    def sign_in_failed_in(self, tenant_ids: Iterable[uuid.UUID]) -> None:
        """The same refusal, for each organisation the account named belongs to (none
        for an e-mail careline does not know)."""
        minute = self._minute()
        for tenant_id in tenant_ids:
            series = self._minutes.get((SIGN_IN_FAILURES, tenant_id))
            if series is None:
                series = self._minutes[(SIGN_IN_FAILURES, tenant_id)] = _Minutes()
            series.add(minute, 1)

    def delivered(self, tenant_id: uuid.UUID, seconds: float) -> None:
        """A live event written to a socket, `seconds` after its transaction committed."""
        self.delivery_seconds.observe(seconds)
        minute = self._minute()
        self._count(DELIVERIES, tenant_id)
        for key in (None, tenant_id):
            hist = self._delivery_minutes.get(key)
            if hist is None:
                hist = self._delivery_minutes[key] = _MinuteHistograms()
            hist.observe(minute, seconds)

    # what the dashboard and the alerts read -------------------------------------------

    def series(self, tenant_id: uuid.UUID | None) -> Series:
        """The last hour of `tenant_id` (None: the whole node)."""
        minute = self._minute()
        minutes: dict[str, list[int]] = {}
        for name in SERIES_NAMES:
            scope = None if name in (HTTP_REQUESTS, HTTP_5XX) else tenant_id
            found = self._minutes.get((name, scope))
            minutes[name] = found.last_hour(minute) if found else [0] * MINUTES
        hist = self._delivery_minutes.get(tenant_id)
        window = hist.window(minute) if hist else []
        p50 = _quantile(window, _FINE_BOUNDS, 0.5) if window else None
        p99 = _quantile(window, _FINE_BOUNDS, 0.99) if window else None
        return Series(
            tenant_id=tenant_id,
            minutes=minutes,
            delivery_p50_ms=None if p50 is None else p50 * 1000,
            delivery_p99_ms=None if p99 is None else p99 * 1000,
            deliveries=sum(window),
        )


# The process's collector: what the hot paths count into.
current = Collector()


def series(tenant_id: uuid.UUID | None) -> Series:
    return current.series(tenant_id)


class StampedFrame(str):
    """A live event's frame, with when its transaction committed (monotonic seconds) and
    its organisation: the socket that writes it observes the delivery latency. One per
    event, shared by every socket it goes to; it is a str, so nothing else changes."""

    committed_at: float
    tenant_id: uuid.UUID


def stamp(frame: str, tenant_id: uuid.UUID, committed_at: float | None) -> str:
    if committed_at is None:
        return frame  # from another node (the bus): its commit time is not ours to know
    stamped = StampedFrame(frame)
    stamped.committed_at = committed_at
    stamped.tenant_id = tenant_id
    return stamped


def written(frame: str) -> None:
    """After a socket wrote `frame`: the delivery latency, if it is a stamped event."""
    if type(frame) is StampedFrame:
        current.delivered(frame.tenant_id, time.monotonic() - frame.committed_at)
