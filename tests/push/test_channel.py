"""The push channel against the local push service: every browser of the person gets
one encrypted, VAPID-signed push with careline's closed-field words; a 404/410 removes
the subscription; 429/5xx is tried again, after Retry-After when given; every try is an
attempt row."""

from __future__ import annotations

import time

import httpx

from careline import config
from careline.kit import limits
from careline.notifications import channels, words
from careline.push.channel import PushChannel, backoff
from careline.push.sender import parse_retry_after
from tests.conftest import LogCapture
from tests.push.support import (
    attempts_of,
    delivery_of,
    open_record,
    retries_pending,
    send,
    subscribe,
    subscriptions_of,
    wait_for_attempts,
)
from tests.realtime.test_live import open_care
from tests.support.pushservice import PushService
from tests.support.server import RunningServer
from tests.support.world import World


async def test_the_channel_is_registered_for_delivery(server: RunningServer) -> None:
    assert isinstance(channels.get("push"), PushChannel)


async def test_a_push_reaches_every_browser_of_the_person_signed_and_encrypted(
    server: RunningServer,
    http: httpx.AsyncClient,
    world: World,
    push_service: PushService,
    log_capture: LogCapture,
) -> None:
    phone = await subscribe(http, push_service, world["lily"])
    laptop = await subscribe(http, push_service, world["lily"])
    elsewhere = await subscribe(http, push_service, world["tom"])  # someone else's
    conversation_id = await open_care(http, world)
    await send(http, world["sam"], conversation_id, "marker-7f3a about the medication")
    record = await open_record(world["lily"], conversation_id)
    delivery = delivery_of(record)

    # The push service is the session's: tests/push/test_pushservice.py sends it bad
    # pushes on purpose, so only what this test sent is judged.
    problems_before = len(push_service.problems)
    result = await PushChannel().send(delivery)

    assert result.outcome == "sent", result
    expected = words.push_payload(delivery.facts, tag=delivery.tag)
    for browser in (phone, laptop):
        (got,) = push_service.received(browser)
        assert got.status == 201
        assert got.payload == expected
        assert got.headers["ttl"] == str(delivery.kind.push_ttl_seconds)
        assert got.headers["urgency"] == delivery.kind.urgency[delivery.priority]
        assert got.headers["topic"] == record["id"].hex
        assert got.claims is not None
        assert got.claims["aud"] == push_service.origin
    assert push_service.received(elsewhere) == []
    assert push_service.problems[problems_before:] == []
    assert expected["url"] == f"{server.base_url}/c/{conversation_id}?org={world.tenant_id}"
    assert "marker-7f3a" not in str(expected)
    assert "Lily" not in str(expected)
    assert "Sam" not in str(expected)
    assert await attempts_of(record) == [("sent", None, 201), ("sent", None, 201)]
    # Nothing of it in the logs: neither the text nor an endpoint (a capability URL).
    logged = "\n".join(log_capture.lines)
    assert "marker-7f3a" not in logged
    assert phone.id not in logged
    assert laptop.id not in logged


async def test_nowhere_to_send_is_nothing(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    conversation_id = await open_care(http, world)
    await send(http, world["sam"], conversation_id, "hello")
    result = await PushChannel().send(
        delivery_of(await open_record(world["lily"], conversation_id))
    )
    assert result.outcome == "nothing"


async def test_a_410_removes_the_subscription_and_a_404_too(
    server: RunningServer, http: httpx.AsyncClient, world: World, push_service: PushService
) -> None:
    gone = await subscribe(http, push_service, world["lily"])
    unknown = await subscribe(http, push_service, world["lily"])
    push_service.answer(gone, 410)
    push_service.answer(unknown, 404)
    conversation_id = await open_care(http, world)
    await send(http, world["sam"], conversation_id, "hello")
    record = await open_record(world["lily"], conversation_id)

    result = await PushChannel().send(delivery_of(record))

    assert result.outcome == "failed"
    assert await subscriptions_of(world["lily"]) == 0
    assert sorted(await attempts_of(record)) == [
        ("removed", "push_404", 404),
        ("removed", "push_410", 410),
    ]
    again = await PushChannel().send(delivery_of(record))
    assert again.outcome == "nothing"
    assert len(push_service.received(gone)) == 1


async def test_a_429_is_tried_again_after_retry_after_and_only_that_browser(
    server: RunningServer, http: httpx.AsyncClient, world: World, push_service: PushService
) -> None:
    busy = await subscribe(http, push_service, world["lily"])
    fine = await subscribe(http, push_service, world["lily"])
    push_service.answer(busy, 429, retry_after=1)
    conversation_id = await open_care(http, world)
    await send(http, world["sam"], conversation_id, "hello")
    record = await open_record(world["lily"], conversation_id)

    problems_before = len(push_service.problems)
    result = await PushChannel().send(delivery_of(record))

    assert result.outcome == "sent"
    (refused,) = push_service.received(busy)
    assert refused.status == 429
    got = await push_service.wait_for(busy, 1)
    assert got[0].at - refused.at >= 1.0  # not before Retry-After
    assert got[0].payload == push_service.delivered(fine)[0]
    assert len(push_service.received(fine)) == 1  # the browser that took it is not sent twice
    assert push_service.problems[problems_before:] == []
    assert sorted(await wait_for_attempts(record, 3)) == [
        ("retrying", "push_429", 429),
        ("sent", None, 201),
        ("sent", None, 201),
    ]


async def test_5xx_is_tried_again_with_backoff_until_it_is_taken(
    server: RunningServer, http: httpx.AsyncClient, world: World, push_service: PushService
) -> None:
    config.use(server.settings.model_copy(update={"push_retry_base_seconds": 0.2}))
    try:
        flaky = await subscribe(http, push_service, world["lily"])
        push_service.answer(flaky, 500, times=1)
        push_service.answer(flaky, 503, times=1)
        conversation_id = await open_care(http, world)
        await send(http, world["sam"], conversation_id, "hello")
        record = await open_record(world["lily"], conversation_id)

        assert (await PushChannel().send(delivery_of(record))).outcome == "sent"

        await push_service.wait_for(flaky, 1)
        tries = push_service.received(flaky)
        assert [t.status for t in tries] == [500, 503, 201]
        assert tries[1].at - tries[0].at >= 0.2  # the base wait
        assert tries[2].at - tries[1].at >= 0.4  # doubled
        assert await wait_for_attempts(record, 3) == [
            ("retrying", "push_500", 500),
            ("retrying", "push_503", 503),
            ("sent", None, 201),
        ]
    finally:
        config.use(server.settings)


async def test_a_retry_sends_nothing_once_the_person_has_read(
    server: RunningServer, http: httpx.AsyncClient, world: World, push_service: PushService
) -> None:
    busy = await subscribe(http, push_service, world["lily"])
    push_service.answer(busy, 429, retry_after=1)
    conversation_id = await open_care(http, world)
    await send(http, world["sam"], conversation_id, "hello")
    record = await open_record(world["lily"], conversation_id)
    assert (await PushChannel().send(delivery_of(record))).outcome == "sent"

    read = await http.post(
        f"/api/v1/conversations/{conversation_id}/receipt",
        json={"read_seq": record["last_seq"]},
        headers=world["lily"].auth,
    )
    assert read.status_code == 200, read.text
    deadline = time.monotonic() + 15
    while await retries_pending(record):
        assert time.monotonic() < deadline, "the retry never ran"
        await push_service_poll()

    assert [r.status for r in push_service.received(busy)] == [429]
    assert await attempts_of(record) == [("retrying", "push_429", 429)]


async def push_service_poll() -> None:
    import asyncio

    await asyncio.sleep(0.05)  # a poll: it ends as soon as the job is done


def test_backoff_doubles_to_its_cap_and_retry_after_wins_up_to_its_own() -> None:
    base = config.current().push_retry_base_seconds
    assert [backoff(n, None) for n in range(3)] == [base, base * 2, base * 4]
    assert backoff(30, None) == limits.PUSH_RETRY_BACKOFF_MAX_SECONDS
    assert backoff(0, 7.0) == 7.0
    assert backoff(5, 10**6) == limits.PUSH_RETRY_AFTER_MAX_SECONDS


def test_retry_after_is_read_as_seconds_or_an_http_date() -> None:
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412490.0) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


async def test_a_push_service_that_keeps_failing_is_given_up_after_push_retry_max(
    server: RunningServer, http: httpx.AsyncClient, world: World, push_service: PushService
) -> None:
    broken = await subscribe(http, push_service, world["lily"])
    push_service.answer(broken, 503, retry_after=0, times=limits.PUSH_RETRY_MAX + 5)
    conversation_id = await open_care(http, world)
    await send(http, world["sam"], conversation_id, "hello")
    record = await open_record(world["lily"], conversation_id)

    assert (await PushChannel().send(delivery_of(record))).outcome == "sent"

    tries = await wait_for_attempts(record, limits.PUSH_RETRY_MAX, within=60)
    assert tries[:-1] == [("retrying", "push_503", 503)] * (limits.PUSH_RETRY_MAX - 1)
    assert tries[-1] == ("failed", "push_503", 503)
    deadline = time.monotonic() + 15
    while await retries_pending(record):
        assert time.monotonic() < deadline
        await push_service_poll()
    assert len(push_service.received(broken)) == limits.PUSH_RETRY_MAX
    assert await subscriptions_of(world["lily"]) == 1  # a failing service is not a gone one
