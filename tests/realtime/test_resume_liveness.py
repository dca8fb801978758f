"""A resume ends however fast people keep sending: its replay goes up to the last seq
its own read saw, and what was sent after that comes from the live frames held
meanwhile, with no gap and nothing twice. (The replay once chased the latest seq of
every catch-up read instead: with sends that never stopped, a resume took up to 44
reads and 3.5 s, its held frames grew towards the send-queue budget, and in 1 run of 4
of tests/realtime/test_resume_race.py the ack did not come within 10 s.)"""

from __future__ import annotations

import asyncio
import itertools

import httpx
import websockets

from careline.kit import limits
from tests.realtime.test_resume_batched import last_seqs, send_many
from tests.realtime.test_resume_race import open_team
from tests.support.server import RunningServer
from tests.support.world import World
from tests.support.ws import WsClient, connect

SENDERS = 4  # sockets sending into the one conversation, each as fast as acks come back


async def keep_sending(
    server: RunningServer, token: str, conversation_id: str, stop: asyncio.Event, tag: str
) -> None:
    async with connect(server.ws_url, token) as client:
        for i in itertools.count():
            if stop.is_set():
                return
            await client.request(
                "message.send", conversation_id=conversation_id, client_msg_id=f"{tag}{i}", text="x"
            )
            client.events.clear()


async def test_a_resume_acks_while_sends_never_stop(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    [c] = await open_team(http, world, 1)
    cursor = (await last_seqs(http, world, [c]))[c]
    # More than one catch-up read behind, so the replay takes several reads while the
    # senders commit into every one of them.
    async with connect(server.ws_url, world["sam"].token) as sam:
        await send_many(sam, c, limits.CATCH_UP_READ_EVENTS_PER_CONVERSATION + 50, "gap")
    stop = asyncio.Event()
    senders = [
        asyncio.create_task(keep_sending(server, world["sam"].token, c, stop, f"s{n}-"))
        for n in range(SENDERS)
    ]
    try:
        # The senders are under way before the resume starts.
        start = (await last_seqs(http, world, [c]))[c]
        for _ in range(500):
            if (await last_seqs(http, world, [c]))[c] > start + 4 * SENDERS:
                break
        async with websockets.connect(server.ws_url) as ws:
            jo = WsClient(ws)
            await jo.request("auth", token=world["jo"].token)
            resumed = await jo.request("resume", timeout=10, conversations={c: cursor})
            # And it continues live after the ack, in order.
            await jo.next_event("message.sent", where=lambda f: f["seq"] > resumed_last(resumed, c))
            assert all(not t.done() for t in senders), [t.exception() for t in senders if t.done()]
            await jo.close()
    finally:
        stop.set()
        await asyncio.gather(*senders)
    assert resumed["conversations"][c]["status"] == "ok"
    seqs = [f["seq"] for f in jo.arrived if f.get("conversation_id") == c and "seq" in f]
    assert seqs == list(range(cursor + 1, cursor + 1 + len(seqs)))
    assert seqs[-1] > resumed_last(resumed, c)


def resumed_last(resumed: dict[str, object], c: str) -> int:
    conversations = resumed["conversations"]
    assert isinstance(conversations, dict)
    last: int = conversations[c]["last_seq"]
    return last
