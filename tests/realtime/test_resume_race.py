"""`seq` strictly increases on every socket, also between the auth ack and the resume
ack, while people keep sending: live events of a conversation wait until its replay is
done, and nothing the replay sent goes out twice."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from typing import Any

import httpx
import websockets

from tests.support.server import RunningServer
from tests.support.world import World
from tests.support.ws import WsClient

CONVERSATIONS = 8
RECONNECTS = 100


async def open_team(http: httpx.AsyncClient, world: World, n: int) -> list[str]:
    ids = []
    for i in range(n):
        response = await http.post(
            "/api/v1/conversations",
            json={"kind": "team", "member_ids": [str(world["jo"].account_id)], "title": f"t{i}"},
            headers=world["sam"].auth,
        )
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    return ids


async def keep_sending(
    server: RunningServer, token: str, conversation_id: str, stop: asyncio.Event
) -> None:
    """One sender per conversation, as fast as acks come back, until told to stop."""
    async with websockets.connect(server.ws_url) as ws:
        client = WsClient(ws)
        await client.request("auth", token=token)
        await client.request("resume", conversations={})
        for i in itertools.count():
            if stop.is_set():
                return
            await client.request(
                "message.send", conversation_id=conversation_id, client_msg_id=f"m{i}", text="hi"
            )
            client.events.clear()


async def one_visit(
    server: RunningServer, token: str, cursors: dict[str, int]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Connect the way every client does (auth, then resume from its cursors), stay for
    a few live events, leave. The resume result and every timeline frame, in order."""
    async with websockets.connect(server.ws_url) as ws:
        client = WsClient(ws)
        await client.request("auth", token=token)
        resumed = await client.request("resume", conversations=cursors)
        with contextlib.suppress(AssertionError):
            for _ in range(3):
                await client.next_event("message.sent", timeout=2)
        await client.close()
    # next_event took some frames out of the inbox: put every frame back in arrival order.
    frames = [f for f in client.arrived if "seq" in f]
    return resumed, frames


async def test_seq_strictly_increases_on_every_socket_through_100_resumes(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    conversations = await open_team(http, world, CONVERSATIONS)
    stop = asyncio.Event()
    senders = [
        asyncio.create_task(keep_sending(server, world["sam"].token, c, stop))
        for c in conversations
    ]
    cursors = dict.fromkeys(conversations, 1)  # seq 1 is conversation.created
    try:
        for visit in range(RECONNECTS):
            before = dict(cursors)
            resumed, frames = await one_visit(server, world["jo"].token, before)
            for c in conversations:
                assert resumed["conversations"][c]["status"] == "ok", (visit, resumed)
                seqs = [f["seq"] for f in frames if f["conversation_id"] == c]
                # Exactly the seqs after the cursor, each once, in order: no duplicate,
                # no reordering, no gap.
                assert seqs == list(range(before[c] + 1, before[c] + 1 + len(seqs))), (
                    visit,
                    c,
                    before[c],
                    seqs,
                )
                assert before[c] + len(seqs) >= resumed["conversations"][c]["last_seq"], (
                    "the replay stopped short of what the resume ack promised"
                )
                cursors[c] = before[c] + len(seqs)
            assert all(not t.done() for t in senders), [t.exception() for t in senders if t.done()]
    finally:
        stop.set()
        await asyncio.gather(*senders)
    # Once the senders stopped, one more visit ends exactly at what PostgreSQL holds.
    resumed, frames = await one_visit(server, world["jo"].token, dict(cursors))
    for c in conversations:
        seqs = [f["seq"] for f in frames if f["conversation_id"] == c]
        assert seqs == list(range(cursors[c] + 1, cursors[c] + 1 + len(seqs)))
        events = await http.get(f"/api/v1/conversations/{c}/events", headers=world["jo"].auth)
        assert cursors[c] + len(seqs) == events.json()["last_seq"]
