"""Per-person budgets (issue 16, finding 7): a flood from one person is refused with
`rate_limited`, the budget it ran out of and when to try again, over REST and the
socket alike, and changes nothing; everyone else, and the same person within the
defaults (an announcement to many families, a pasted list), is never held back."""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from limits.aio.storage import MemoryStorage
from pydantic import ValidationError

from careline import config
from careline.kit import budgets
from tests.realtime.test_live import open_care
from tests.support.ordinary import ordinary_user, report
from tests.support.server import RAISED_BUDGETS, RunningServer
from tests.support.world import Persona, World
from tests.support.ws import WsClient, WsError, connect

SetBudgets = Callable[..., None]


FLOOD_SECONDS = 2.0


@pytest.fixture
def budgets_at() -> Iterator[SetBudgets]:
    """Set budgets for this test: the defaults for those not named (the suite raises
    them, tests/support/server.py), or the rates given."""
    saved = config.current()

    def use(**rates: str) -> None:
        fields = config.Settings.model_fields
        defaults = {name: fields[name].default for name in RAISED_BUDGETS if name in fields}
        config.use(saved.model_copy(update=defaults | rates))

    use()
    yield use
    config.use(saved)


async def _send(ws: WsClient, conversation: str, text: str = "hello") -> dict[str, Any]:
    return await ws.request(
        "message.send",
        timeout=30,
        conversation_id=conversation,
        client_msg_id=uuid.uuid4().hex,
        text=text,
    )


async def _outcomes(pending: list[Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Acks and refusals (the error frames) of requests run together."""
    acked, refused = [], []
    for result in await asyncio.gather(*pending, return_exceptions=True):
        if isinstance(result, WsError):
            refused.append(result.frame)
        elif isinstance(result, BaseException):
            raise result
        else:
            acked.append(result)
    return acked, refused


async def _messages_from(http: httpx.AsyncClient, who: Persona, conversation: str) -> int:
    page = await http.get(
        f"/api/v1/conversations/{conversation}/messages",
        params={"limit": 200},
        headers=who.auth,
    )
    assert page.status_code == 200, page.text
    return sum(1 for m in page.json()["items"] if m["sender_id"] == str(who.account_id))


def _check_problem(response: httpx.Response, budget: str) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert (body["code"], body["budget"]) == ("rate_limited", budget), body
    assert int(response.headers["retry-after"]) == body["retry_after"] >= 1
    assert 0 < body["retry_after_ms"] <= body["retry_after"] * 1000


async def test_a_flood_of_sends_is_refused_after_the_burst_and_the_ordinary_user_is_acked(
    server: RunningServer, http: httpx.AsyncClient, world: World, budgets_at: SetBudgets
) -> None:
    """The flood of the issue (5,000 sends in 11 s from one person, each as soon as the
    last was answered) at the defaults: the burst is taken, the rest refused at once,
    while sam sends every 200 ms."""
    conversation = await open_care(http, world)
    async with (
        ordinary_user(server, world["sam"], conversation) as latencies,
        connect(server.ws_url, world["lily"].token) as lily,
    ):
        acked, refused = [], []
        started = time.monotonic()
        # One after another, as fast as the answers come, for 2 s: long enough for the
        # ordinary user to send several times during the flood.
        while time.monotonic() - started < FLOOD_SECONDS:
            try:
                acked.append(await _send(lily, conversation))
            except WsError as exc:
                refused.append(exc.frame)
        elapsed = time.monotonic() - started
        during = len(latencies)
        # The ordinary user goes on being acked after the flood: three more sends.
        after = len(latencies) + 3
        async with asyncio.timeout(10):
            while len(latencies) < after:
                await asyncio.sleep(0.05)
    burst = 20  # CARELINE_BUDGET_SENDS_PER_CONVERSATION's burst: 20/second
    assert burst <= len(acked) <= burst * (math.ceil(elapsed) + 1), (len(acked), elapsed)
    assert len(refused) > len(acked)
    for frame in refused:
        assert (frame["code"], frame["budget"]) == ("rate_limited", "sends_per_conversation")
        assert 0 < frame["retry_after_ms"] <= 1000
    assert await _messages_from(http, world["lily"], conversation) == len(acked)
    assert during >= 2, "the ordinary user's sends were acknowledged during the flood"
    report(f"one person's flood of {len(acked) + len(refused)} sends", latencies)


async def test_a_spent_budget_refills_by_the_time_it_names(
    server: RunningServer, http: httpx.AsyncClient, world: World, budgets_at: SetBudgets
) -> None:
    budgets_at(budget_sends_per_conversation="3/second")
    conversation = await open_care(http, world)
    async with connect(server.ws_url, world["lily"].token) as lily:
        acked, refused = await _outcomes([_send(lily, conversation) for _ in range(4)])
        assert (len(acked), len(refused)) == (3, 1)
        wait_ms = refused[0]["retry_after_ms"]
        assert 0 < wait_ms <= 1000
        for _ in range(10):  # the named wait, then polled a bounded number of times
            await asyncio.sleep(wait_ms / 1000)
            try:
                await _send(lily, conversation, "after the wait")
                break
            except WsError as exc:
                wait_ms = exc.frame["retry_after_ms"]
        else:
            pytest.fail("the budget never refilled")
    assert await _messages_from(http, world["lily"], conversation) == 4


async def test_the_per_conversation_and_the_overall_budget_are_separate(
    server: RunningServer, http: httpx.AsyncClient, world: World, budgets_at: SetBudgets
) -> None:
    budgets_at(budget_sends_per_conversation="3/minute", budget_sends="5/minute")
    first = await open_care(http, world, "sam", "lily")
    second = await open_care(http, world, "sam", "tom")
    async with connect(server.ws_url, world["sam"].token) as sam:
        for _ in range(3):
            await _send(sam, first)
        with pytest.raises(WsError) as one_place:
            await _send(sam, first)
        assert one_place.value.frame["budget"] == "sends_per_conversation"
        for _ in range(2):  # the refused send took nothing from the overall budget
            await _send(sam, second)
        with pytest.raises(WsError) as everywhere:
            await _send(sam, second)
        assert everywhere.value.frame["budget"] == "sends"
        assert 0 < everywhere.value.frame["retry_after_ms"] <= 60_000
    for conversation, budget in ((first, "sends_per_conversation"), (second, "sends")):
        over_rest = await http.post(  # the same budgets over REST
            f"/api/v1/conversations/{conversation}/messages",
            json={"client_msg_id": uuid.uuid4().hex, "text": "and one more"},
            headers=world["sam"].auth,
        )
        _check_problem(over_rest, budget)
    assert await _messages_from(http, world["sam"], first) == 3
    assert await _messages_from(http, world["sam"], second) == 2
    other = await http.post(  # another person's budgets are their own
        f"/api/v1/conversations/{first}/messages",
        json={"client_msg_id": "lily-1", "text": "hi"},
        headers=world["lily"].auth,
    )
    assert other.status_code == 201, other.text


async def _team(http: httpx.AsyncClient, world: World) -> str:
    response = await http.post(
        "/api/v1/conversations",
        json={"kind": "team", "member_ids": [str(world["jo"].account_id)]},
        headers=world["sam"].auth,
    )
    assert response.status_code == 201, response.text
    conversation_id: str = response.json()["id"]
    return conversation_id


async def test_an_announcement_to_100_families_and_a_pasted_list_pass_the_defaults(
    server: RunningServer, http: httpx.AsyncClient, world: World, budgets_at: SetBudgets
) -> None:
    """Staff sending one message into each of 100 conversations at once, and a
    colleague pasting 15 lines into one: nothing refused at the default budgets."""
    conversations = [await _team(http, world) for _ in range(100)]
    async with connect(server.ws_url, world["sam"].token) as sam:
        acked, refused = await _outcomes([_send(sam, c, "clinic closed") for c in conversations])
        assert refused == []
        assert len(acked) == 100
    async with connect(server.ws_url, world["jo"].token) as jo:
        pasted, refused = await _outcomes(
            [_send(jo, conversations[0], f"line {i}") for i in range(15)]
        )
        assert refused == []
        assert len(pasted) == 15


async def test_reactions_over_budget_are_refused_and_change_nothing(
    server: RunningServer, http: httpx.AsyncClient, world: World, budgets_at: SetBudgets
) -> None:
    budgets_at(budget_reactions="3/minute")
    conversation = await open_care(http, world)
    sent = await http.post(
        f"/api/v1/conversations/{conversation}/messages",
        json={"client_msg_id": "r", "text": "react to me"},
        headers=world["sam"].auth,
    )
    message_id = sent.json()["id"]
    url = f"/api/v1/messages/{message_id}/reactions/"
    for emoji in ("👍", "🎉"):
        assert (await http.put(url + emoji, headers=world["lily"].auth)).status_code == 200
    async with connect(server.ws_url, world["lily"].token) as lily:
        await lily.request("reaction.add", message_id=message_id, emoji="❤️")
        with pytest.raises(WsError) as refused:
            await lily.request("reaction.add", message_id=message_id, emoji="🙏")
    assert (refused.value.frame["code"], refused.value.frame["budget"]) == (
        "rate_limited",
        "reactions",
    )
    assert 0 < refused.value.frame["retry_after_ms"] <= 60_000
    _check_problem(await http.delete(url + "👍", headers=world["lily"].auth), "reactions")
    message = (await http.get(f"/api/v1/messages/{message_id}", headers=world["lily"].auth)).json()
    assert sorted(r["emoji"] for r in message["reactions"]) == sorted(["👍", "🎉", "❤️"])


async def test_receipts_over_budget_are_refused_and_leave_the_watermark(
    server: RunningServer, http: httpx.AsyncClient, world: World, budgets_at: SetBudgets
) -> None:
    budgets_at(budget_receipts="2/minute")
    conversation = await open_care(http, world)
    for i in range(3):
        await http.post(
            f"/api/v1/conversations/{conversation}/messages",
            json={"client_msg_id": f"m{i}", "text": "read me"},
            headers=world["sam"].auth,
        )
    url = f"/api/v1/conversations/{conversation}/receipt"
    auth = world["lily"].auth
    assert (await http.post(url, json={"read_seq": 1}, headers=auth)).status_code == 200
    async with connect(server.ws_url, world["lily"].token) as lily:
        moved = await lily.request("receipt.update", conversation_id=conversation, read_seq=2)
        assert moved["read_seq"] == 2
        with pytest.raises(WsError) as refused:
            await lily.request("receipt.update", conversation_id=conversation, read_seq=3)
    assert (refused.value.frame["code"], refused.value.frame["budget"]) == (
        "rate_limited",
        "receipts",
    )
    _check_problem(await http.post(url, json={"read_seq": 3}, headers=auth), "receipts")
    listed = await http.get("/api/v1/conversations", headers=auth)
    [mine] = [c for c in listed.json()["items"] if c["id"] == conversation]
    assert mine["read_seq"] == 2, mine


async def test_typing_over_budget_is_acknowledged_and_dropped(
    server: RunningServer, http: httpx.AsyncClient, world: World, budgets_at: SetBudgets
) -> None:
    budgets_at(budget_typing="2/minute")
    conversation = await open_care(http, world)
    async with (
        connect(server.ws_url, world["sam"].token) as sam,
        connect(server.ws_url, world["lily"].token) as lily,
    ):
        assert await sam.request("typing.start", conversation_id=conversation) == {}
        assert (await lily.next_event("typing.updated"))["typing"] is True
        assert await sam.request("typing.stop", conversation_id=conversation) == {}
        assert (await lily.next_event("typing.updated"))["typing"] is False
        dropped = await sam.request("typing.start", conversation_id=conversation)
        assert (dropped["dropped"], dropped["budget"]) == (True, "typing")
        assert 0 < dropped["retry_after_ms"] <= 60_000
        # Nothing reached lily: the message sam sends next is the next thing she gets.
        await _send(sam, conversation, "no typing shown before this")
        await lily.next_event("message.sent")
        assert lily.take_all("typing.updated") == []


async def test_a_refused_spend_takes_nothing_from_any_of_its_budgets() -> None:
    """The mechanism itself (careline/kit/budgets.py), on its in-memory store."""
    store = budgets.LimitsBudgets(MemoryStorage())
    wide, narrow = (
        budgets.charge("wide", "2/minute", "p"),
        budgets.charge("narrow", "1/minute", "p"),
    )
    await store.spend(wide, narrow)
    with pytest.raises(budgets.OverBudget) as refused:
        await store.spend(wide, narrow)
    assert refused.value.budget == "narrow"
    assert 0 < refused.value.retry_after_ms <= 60_000
    assert refused.value.to_problem()["code"] == "rate_limited"
    await store.spend(wide)  # the refused spend took nothing from `wide`
    with pytest.raises(budgets.OverBudget):
        await store.spend(wide)
    await store.spend(budgets.charge("wide", "2/minute", "someone else"))


def test_a_bad_budget_setting_stops_careline_at_start() -> None:
    with pytest.raises(ValidationError, match="budget_sends"):
        config.Settings(budget_sends="as many as they like")
