"""/metrics in the Prometheus text format, from careline's own CollectorRegistry: the
collector's counts and histograms, queue depth and age, pool use, notification results
per channel, the state of each part, and the process (CPU, memory, open files).

Every label value is a closed word: a route template, a status class, an op name, an
error code, a task name, a channel, an outcome, a part. No label carries an id, a name
or text (tests/monitoring/test_metrics_api.py scrapes a busy server to prove it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator

from prometheus_client import CollectorRegistry, ProcessCollector, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector as PromCollector

from careline.config import Settings
from careline.db.tx import Actor, transaction
from careline.kit import clock
from careline.kit.errors import DatabaseUnavailable
from careline.monitoring import collector, health, queues
from careline.monitoring.collector import Collector, Histogram
from careline.monitoring.records import PartHealth, QueueState
from careline.notifications import attempts

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_STATES = ("up", "degraded", "down", "off")


def _histogram(
    name: str, doc: str, labels: list[str], hists: Iterable[tuple[list[str], Histogram]]
) -> HistogramMetricFamily:
    family = HistogramMetricFamily(name, doc, labels=labels)
    for values, hist in hists:
        buckets = [("+Inf" if b == float("inf") else repr(b), n) for b, n in hist.cumulative()]
        family.add_metric(values, buckets, hist.sum)
    return family


def _counter(
    name: str, doc: str, labels: list[str], values: Iterable[tuple[tuple[str, ...], int]]
) -> Metric:
    family = CounterMetricFamily(name, doc, labels=labels)
    for key, n in sorted(values):
        family.add_metric(list(key), n)
    return family


def counts(c: Collector) -> list[Metric]:
    """What the collector has counted since this process started."""
    sign_ins = CounterMetricFamily("careline_sign_in_failures", "Refused sign-ins.")
    sign_ins.add_metric([], c.sign_in_failures)
    return [
        _counter(
            "careline_http_requests",
            "HTTP requests, by method, route template and status class.",
            ["method", "route", "status_class"],
            c.http.items(),
        ),
        _histogram(
            "careline_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template.",
            ["route"],
            (([route], h) for route, h in sorted(c.http_seconds.items())),
        ),
        _counter(
            "careline_socket_frames",
            "Socket request frames, by op.",
            ["op"],
            (((op,), n) for op, n in c.frames.items()),
        ),
        _counter(
            "careline_socket_errors",
            "Socket ops answered with an error, by op and error code.",
            ["op", "code"],
            c.socket_errors.items(),
        ),
        _counter(
            "careline_socket_frames_refused",
            "Socket frames refused before any op ran, by error code.",
            ["code"],
            (((code,), n) for code, n in c.refused.items()),
        ),
        sign_ins,
        _histogram(
            "careline_delivery_latency_seconds",
            "From a change's COMMIT to its event written to a socket (this node's).",
            [],
            [([], c.delivery_seconds)],
        ),
    ]


def _queues(states: list[QueueState]) -> list[Metric]:
    depth = GaugeMetricFamily("careline_queue_depth", "Jobs waiting, by task.", labels=["task"])
    age = GaugeMetricFamily(
        "careline_queue_oldest_age_seconds",
        "Wait of the oldest waiting job, by task.",
        labels=["task"],
    )
    for state in states:
        depth.add_metric([state.kind], state.depth)
        age.add_metric([state.kind], state.oldest_age_seconds or 0.0)
    return [depth, age]


def _parts(parts: list[PartHealth]) -> list[Metric]:
    up = GaugeMetricFamily(
        "careline_part_up", "1 while a configured part works (up or degraded).", labels=["part"]
    )
    state = GaugeMetricFamily(
        "careline_part_state", "1 for the state each part is in.", labels=["part", "state"]
    )
    pool = GaugeMetricFamily(
        "careline_pool_connections", "The database pool's connections.", labels=["state"]
    )
    disk = GaugeMetricFamily("careline_disk_free_ratio", "Free share of the files' disk.")
    for part in parts:
        if part.state != "off":
            up.add_metric([part.name], 1.0 if part.state in ("up", "degraded") else 0.0)
        for name in _STATES:
            state.add_metric([part.name, name], 1.0 if part.state == name else 0.0)
        if part.name == "pool" and part.figures:
            for key in ("in_use", "size", "max"):
                pool.add_metric([key], part.figures[key])
        if part.name == "disk" and "free_percent" in part.figures:
            disk.add_metric([], part.figures["free_percent"] / 100)
    return [up, state, pool, disk]


def _notifications(outcomes: dict[tuple[str, str], int]) -> Metric:
    family = GaugeMetricFamily(
        "careline_notification_attempts_last_hour",
        "Notification delivery attempts of the last hour, by channel and outcome (all nodes).",
        labels=["channel", "outcome"],
    )
    for (channel, outcome), n in sorted(outcomes.items()):
        family.add_metric([channel, outcome], n)
    return family


class _Latest(PromCollector):
    """The families of the scrape being answered (set just before it is rendered)."""

    def __init__(self) -> None:
        self.families: list[Metric] = []

    def collect(self) -> Iterator[Metric]:
        return iter(self.families)


_latest = _Latest()
REGISTRY = CollectorRegistry(auto_describe=False)
REGISTRY.register(_latest)
ProcessCollector(registry=REGISTRY, namespace="careline")


async def scrape(settings: Settings, *, sockets: int) -> bytes:
    """The page a scrape gets. The database's figures are left out while it does not
    answer (its part says `down`); the rest is always there."""
    parts = await health.cached_parts(settings)
    families = [*counts(collector.current), *_parts(parts)]
    connected = GaugeMetricFamily("careline_sockets_open", "Sockets open on this node.")
    connected.add_metric([], sockets)
    families.append(connected)
    try:
        async with transaction(Actor.system(), readonly=True) as tx:
            states = await queues.states(tx)
            outcomes = await attempts.count_outcomes(tx, since=clock.now() - dt.timedelta(hours=1))
        families += [*_queues(states), _notifications(outcomes)]
    except DatabaseUnavailable:
        pass
    # No await from here on: this scrape's families are the ones rendered.
    _latest.families = families
    try:
        return generate_latest(REGISTRY)
    finally:
        _latest.families = []
