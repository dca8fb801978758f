"""A resume ends however fast people keep sending: its replay goes up to the last seq
its own read saw, and what was sent after that comes from the live frames held
meanwhile, with no gap and nothing twice. (The replay once chased the latest seq of
every catch-up read instead: with sends that never stopped, a resume took up to 44
reads and 3.5 s, its held frames grew towards the send-queue budget, and in 1 run of 4
of tests/realtime/test_resume_race.py the ack did not come within 10 s. The second test
here fails on that code every time: "still reading after 6 catch-up reads".)"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import websockets

from careline.db.pool import connect_owner
from careline.kit import limits
from tests.realtime.test_resume_batched import last_seqs, send_many, waiting_on_the_lock
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


async def waiting_for_lock(owner: Any, pid: int) -> bool:
    state = await owner.fetchval("SELECT wait_event_type FROM pg_stat_activity WHERE pid = $1", pid)
    return bool(state == "Lock")


async def until(check: Callable[[], Awaitable[bool]], what: str) -> None:
    for _ in range(500):
        if await check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(what)


async def test_a_resume_acks_when_a_message_commits_during_every_catch_up_read(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    """The same, step by step: each catch-up read is held in PostgreSQL (two owner
    connections take turns locking `reactions`, which rendering reads and sending does
    not) while a message commits. A replay that chased each read's last seq would read
    again every turn, never done; one that stops at its target is done after the reads
    the gap takes (two pages here)."""
    [c] = await open_team(http, world, 1)
    cursor = (await last_seqs(http, world, [c]))[c]
    async with connect(server.ws_url, world["sam"].token) as sam:
        await send_many(sam, c, limits.CATCH_UP_READ_EVENTS_PER_CONVERSATION + 10, "gap")
    dsn = server.server.config.app.state.database.owner_dsn  # type: ignore[attr-defined]
    owners = [await connect_owner(dsn), await connect_owner(dsn)]
    turns: list[Any] = []
    try:
        first = owners[0].transaction()
        await first.start()
        await owners[0].execute("LOCK TABLE reactions IN ACCESS EXCLUSIVE MODE")
        turns.append(first)
        async with websockets.connect(server.ws_url) as ws:
            jo = WsClient(ws)
            await jo.request("auth", token=world["jo"].token)
            resume = asyncio.create_task(
                jo.request("resume", timeout=60, conversations={c: cursor})
            )
            reads = 0
            for turn in range(6):
                await until(
                    lambda: _one_read_waits(owners[0]),
                    f"turn {turn}: no catch-up read waited on the lock",
                )
                reads += 1
                sent = await http.post(
                    f"/api/v1/conversations/{c}/messages",
                    json={"client_msg_id": f"turn-{turn}", "text": "still here"},
                    headers=world["sam"].auth,
                )
                assert sent.status_code == 201, sent.text
                # The other connection queues for the lock behind the waiting read, then
                # this one lets go: the read finishes, and the next one waits again.
                holder, queued = owners[turn % 2], owners[(turn + 1) % 2]
                nxt = queued.transaction()
                await nxt.start()
                lock = asyncio.create_task(
                    queued.execute("LOCK TABLE reactions IN ACCESS EXCLUSIVE MODE")
                )
                pid = queued.get_server_pid()
                await until(
                    lambda holder=holder, pid=pid: waiting_for_lock(holder, pid),
                    "the next lock did not queue",
                )
                await turns.pop().rollback()
                await lock
                turns.append(nxt)
                await until(
                    lambda: _settled(resume, owners[0]), "the read neither finished nor waited"
                )
                if resume.done():
                    break
            assert resume.done(), f"the resume was still reading after {reads} catch-up reads"
            resumed = await resume
            await turns.pop().rollback()
            await jo.next_event("message.sent", where=lambda f: f["seq"] > resumed_last(resumed, c))
            await jo.close()
    finally:
        for tx in turns:
            await tx.rollback()
        for owner in owners:
            await owner.close()
    assert reads == 2  # the two pages of the gap, and not one more
    seqs = [f["seq"] for f in jo.arrived if f.get("conversation_id") == c and "seq" in f]
    assert seqs == list(range(cursor + 1, cursor + 1 + len(seqs)))


async def _one_read_waits(owner: Any) -> bool:
    return bool(await waiting_on_the_lock(owner) == 1)


async def _settled(resume: asyncio.Task[Any], owner: Any) -> bool:
    return resume.done() or await _one_read_waits(owner)
