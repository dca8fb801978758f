"""The in-process collector: per-minute counts for the last hour, per organisation and
for the node, and delivery percentiles over the last five minutes. Driven with a clock
of the test's own (real time never passes)."""

from __future__ import annotations

import uuid

import pytest

from careline.monitoring import collector
from careline.monitoring.collector import (
    DELIVERIES,
    FRAME_REFUSED,
    HTTP_5XX,
    HTTP_REQUESTS,
    MINUTES,
    SIGN_IN_FAILURES,
    SOCKET_ERROR,
    SOCKET_FRAMES,
    Collector,
    Histogram,
    StampedFrame,
)


class Clock:
    def __init__(self) -> None:
        self.t = 1_800_000_000.0  # a minute boundary: 30,000,000 minutes

    def __call__(self) -> float:
        return self.t

    def minutes(self, n: float) -> None:
        self.t += 60 * n


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def counts(clock: Clock) -> Collector:
    return Collector(now=clock)


TENANT = uuid.uuid4()
OTHER = uuid.uuid4()


def test_counts_land_in_their_minute_oldest_first(clock: Clock, counts: Collector) -> None:
    counts.socket_frame("message.send", TENANT)
    clock.minutes(2)
    counts.socket_frame("message.send", TENANT)
    counts.socket_frame("receipt.read", TENANT)
    minutes = counts.series(TENANT).minutes[SOCKET_FRAMES]
    assert len(minutes) == MINUTES
    assert minutes[-1] == 2  # the current minute, last
    assert minutes[-3] == 1
    assert sum(minutes) == 3
    assert counts.frames == {"message.send": 2, "receipt.read": 1}


def test_an_hour_later_old_minutes_read_as_zero(clock: Clock, counts: Collector) -> None:
    for _ in range(5):
        counts.socket_error("message.send", "not_found", TENANT)
    clock.minutes(59)
    assert sum(counts.series(TENANT).minutes[SOCKET_ERROR]) == 5  # still within the hour
    clock.minutes(1)
    assert sum(counts.series(TENANT).minutes[SOCKET_ERROR]) == 0
    counts.socket_error("message.send", "not_found", TENANT)  # reuses the old slot
    assert counts.series(TENANT).minutes[SOCKET_ERROR][-1] == 1
    assert counts.socket_errors == {("message.send", "not_found"): 6}  # totals since start


def test_organisations_see_their_own_counts_the_node_sees_all(counts: Collector) -> None:
    counts.frame_refused("bad_frame", TENANT)
    counts.frame_refused("bad_frame", OTHER)
    counts.frame_refused("bad_frame", OTHER)
    assert sum(counts.series(TENANT).minutes[FRAME_REFUSED]) == 1
    assert sum(counts.series(OTHER).minutes[FRAME_REFUSED]) == 2
    assert sum(counts.series(None).minutes[FRAME_REFUSED]) == 3
    assert sum(counts.series(uuid.uuid4()).minutes[FRAME_REFUSED]) == 0


def test_http_counts_by_route_template_and_status_class(counts: Collector) -> None:
    counts.http_request("GET", "/api/v1/conversations/{conversation_id}", 200, 0.004)
    counts.http_request("GET", "/api/v1/conversations/{conversation_id}", 404, 0.002)
    counts.http_request("POST", "/api/v1/auth/token", 503, 0.3)
    assert counts.http == {
        ("GET", "/api/v1/conversations/{conversation_id}", "2xx"): 1,
        ("GET", "/api/v1/conversations/{conversation_id}", "4xx"): 1,
        ("POST", "/api/v1/auth/token", "5xx"): 1,
    }
    assert counts.http_seconds["/api/v1/conversations/{conversation_id}"].count == 2
    # Requests are the node's in every scope: many fail before an organisation is known.
    for scope in (None, TENANT):
        assert sum(counts.series(scope).minutes[HTTP_REQUESTS]) == 3
        assert sum(counts.series(scope).minutes[HTTP_5XX]) == 1


def test_sign_in_failures_for_the_node_and_the_accounts_organisations(
    counts: Collector,
) -> None:
    counts.sign_in_failed()  # an unknown e-mail: the node's only
    counts.sign_in_failed()
    counts.sign_in_failed_in([TENANT, OTHER])
    assert counts.sign_in_failures == 2
    assert sum(counts.series(None).minutes[SIGN_IN_FAILURES]) == 2
    assert sum(counts.series(TENANT).minutes[SIGN_IN_FAILURES]) == 1
    assert sum(counts.series(OTHER).minutes[SIGN_IN_FAILURES]) == 1


def test_delivery_percentiles_over_the_last_five_minutes(clock: Clock, counts: Collector) -> None:
    assert counts.series(TENANT).delivery_p50_ms is None
    for _ in range(98):
        counts.delivered(TENANT, 0.002)
    counts.delivered(TENANT, 0.5)
    counts.delivered(TENANT, 0.5)
    series = counts.series(TENANT)
    assert series.deliveries == 100
    assert series.delivery_p50_ms is not None
    assert series.delivery_p99_ms is not None
    assert 1.7 <= series.delivery_p50_ms <= 2.3  # within a fine bucket of 2 ms
    assert 400 <= series.delivery_p99_ms <= 625  # the bucket of 500 ms: (481, 602]
    assert sum(series.minutes[DELIVERIES]) == 100
    assert counts.series(OTHER).delivery_p50_ms is None
    assert counts.series(None).deliveries == 100
    clock.minutes(4)
    assert counts.series(TENANT).deliveries == 100
    clock.minutes(1)
    assert counts.series(TENANT).deliveries == 0  # older than five minutes
    assert counts.series(TENANT).delivery_p99_ms is None
    assert counts.delivery_seconds.count == 100  # the /metrics histogram keeps all


def test_histogram_buckets_are_cumulative() -> None:
    hist = Histogram((0.01, 0.1))
    for value in (0.005, 0.01, 0.05, 3.0):
        hist.observe(value)
    assert hist.cumulative() == [(0.01, 2), (0.1, 3), (float("inf"), 4)]
    assert hist.count == 4
    assert hist.sum == pytest.approx(3.065)


def test_a_stamped_frame_is_the_same_text_and_measures_its_delivery() -> None:
    tenant = uuid.uuid4()
    frame = collector.stamp('{"op":"message.sent"}', tenant, committed_at=0.0)
    assert isinstance(frame, StampedFrame)
    assert frame == '{"op":"message.sent"}'
    collector.written(frame)
    assert collector.series(tenant).deliveries == 1
    # From another node (no commit time here) or not an event: nothing to measure.
    plain = collector.stamp("{}", tenant, committed_at=None)
    assert type(plain) is str
    collector.written(plain)
    assert collector.series(tenant).deliveries == 1
