"""After any sequence of events, a client that was away and resumes from its last seq
ends in the same state as a fresh fetch, having received exactly what it missed."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import httpx
import pytest

from tests.realtime.test_live import open_care
from tests.support.server import RunningServer
from tests.support.world import World
from tests.support.ws import WsClient, connect

EMOJI = ["👍", "❤️", "🎉"]
State = dict[str, tuple[Any, ...]]


def apply(state: dict[str, dict[str, Any]], frame: dict[str, Any]) -> None:
    """A client's reducer: what a real client does with each timeline event."""
    op = frame["op"]
    if op.startswith("message."):
        m = frame["message"]
        state[m["id"]] = {
            "text": m["text"],
            "redacted": m["redacted"],
            "revision": m["revision"],
            "reactions": {(r["emoji"], a) for r in m["reactions"] for a in r["account_ids"]},
        }
    elif op == "reaction.added":
        state[frame["message_id"]]["reactions"].add((frame["emoji"], frame["account_id"]))
    elif op == "reaction.removed":
        state[frame["message_id"]]["reactions"].discard((frame["emoji"], frame["account_id"]))


def frozen(state: dict[str, dict[str, Any]]) -> State:
    return {
        k: (v["text"], v["redacted"], v["revision"], frozenset(v["reactions"]))
        for k, v in state.items()
    }


async def fresh_fetch(
    http: httpx.AsyncClient, conversation_id: str, headers: dict[str, str]
) -> State:
    state: dict[str, dict[str, Any]] = {}
    before = None
    while True:
        params = {"limit": 7, **({"before_seq": before} if before else {})}
        page = (
            await http.get(
                f"/api/v1/conversations/{conversation_id}/messages", params=params, headers=headers
            )
        ).json()
        for m in page["items"]:
            apply(state, {"op": "message.sent", "message": m})
        if not page["has_more"]:
            return frozen(state)
        before = page["items"][0]["seq"]


async def random_ops(
    http: httpx.AsyncClient,
    world: World,
    conversation_id: str,
    rng: random.Random,
    n: int,
    mine: dict[str, list[str]],
) -> None:
    for i in range(n):
        who = rng.choice(["sam", "lily"])
        auth = world[who].auth
        choice = rng.random()
        own = mine[who]
        if choice < 0.45 or not own:
            r = await http.post(
                f"/api/v1/conversations/{conversation_id}/messages",
                json={"client_msg_id": f"{who}-{rng.random()}", "text": f"note {i} from {who}"},
                headers=auth,
            )
            assert r.status_code == 201, r.text
            mine[who].append(r.json()["id"])
        elif choice < 0.6:
            r = await http.patch(
                f"/api/v1/messages/{rng.choice(own)}", json={"text": f"edited {i}"}, headers=auth
            )
            assert r.status_code in (200, 409), r.text
        elif choice < 0.7:
            r = await http.delete(f"/api/v1/messages/{rng.choice(own)}", headers=auth)
            assert r.status_code in (200, 409), r.text
        else:
            target = rng.choice(mine["sam"] + mine["lily"])
            method = rng.choice(["PUT", "DELETE"])
            r = await http.request(
                method, f"/api/v1/messages/{target}/reactions/{rng.choice(EMOJI)}", headers=auth
            )
            assert r.status_code in (200, 409), r.text


async def drain(client: WsClient, conversation_id: str, until_seq: int) -> list[dict[str, Any]]:
    """Live timeline events of the conversation, in arrival order, up to `until_seq`."""
    frames = [await _next_timeline(client, conversation_id)]
    while frames[-1]["seq"] < until_seq:
        frames.append(await _next_timeline(client, conversation_id))
    return frames


async def _next_timeline(client: WsClient, conversation_id: str) -> dict[str, Any]:
    for _ in range(200):
        for i, f in enumerate(client.events):
            if f.get("conversation_id") == conversation_id and "seq" in f:
                return client.events.pop(i)
        await asyncio.sleep(0.02)
    raise AssertionError("no timeline event arrived")


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
async def test_resume_after_any_sequence_equals_a_fresh_fetch(
    server: RunningServer, http: httpx.AsyncClient, world: World, seed: int
) -> None:
    rng = random.Random(seed)
    conversation_id = await open_care(http, world)
    mine: dict[str, list[str]] = {"sam": [], "lily": []}
    state: dict[str, dict[str, Any]] = {}
    async with connect(server.ws_url, world["lily"].token) as lily:
        await random_ops(http, world, conversation_id, rng, rng.randint(3, 15), mine)
        last = (
            await http.get(f"/api/v1/conversations/{conversation_id}", headers=world["lily"].auth)
        ).json()["last_seq"]
        seen = await drain(lily, conversation_id, last)
        for frame in seen:
            apply(state, frame)
        last_seen = seen[-1]["seq"]
    # Away for a while: more happens, including edits and redactions of old messages.
    await random_ops(http, world, conversation_id, rng, rng.randint(1, 25), mine)
    last = (
        await http.get(f"/api/v1/conversations/{conversation_id}", headers=world["lily"].auth)
    ).json()["last_seq"]
    async with connect(server.ws_url, world["lily"].token) as lily:
        result = await lily.request("resume", conversations={conversation_id: last_seen})
        assert result["conversations"][conversation_id] == {"status": "ok", "last_seq": last}
        replayed = [
            f for f in lily.events if f.get("conversation_id") == conversation_id and "seq" in f
        ]
        assert [f["seq"] for f in replayed] == list(range(last_seen + 1, last + 1)), (
            "exactly what was missed, in order"
        )
        for frame in replayed:
            apply(state, frame)
    assert frozen(state) == await fresh_fetch(http, conversation_id, world["lily"].auth)


async def test_resume_from_zero_replays_the_whole_timeline_once(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    conversation_id = await open_care(http, world)
    for i in range(30):
        await http.post(
            f"/api/v1/conversations/{conversation_id}/messages",
            json={"client_msg_id": f"m{i}", "text": f"m{i}"},
            headers=world["sam"].auth,
        )
    async with connect(server.ws_url, world["grace"].token) as grace:
        result = await grace.request("resume", conversations={conversation_id: 0})
        replayed = [f for f in grace.events if f.get("conversation_id") == conversation_id]
        grace.events = [f for f in grace.events if f not in replayed]
        assert [f["seq"] for f in replayed] == list(range(1, 32))
        assert replayed[0]["op"] == "conversation.created"
        assert result["conversations"][conversation_id]["last_seq"] == 31
        # Live events continue right after, without a repeat.
        await http.post(
            f"/api/v1/conversations/{conversation_id}/messages",
            json={"client_msg_id": "after", "text": "after"},
            headers=world["sam"].auth,
        )
        live = await grace.next_event("message.sent", where=lambda f: f["seq"] == 32)
        assert live["message"]["text"] == "after"
        await grace.assert_no_event("message.sent", within=0.2, where=lambda f: f["seq"] <= 31)


async def test_resume_too_far_behind_says_reset(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    conversation_id = await open_care(http, world)
    async with connect(server.ws_url, world["lily"].token) as lily:
        result = await lily.request("resume", conversations={conversation_id: 10_000})
        assert result["conversations"][conversation_id] == {"status": "reset", "last_seq": 1}
