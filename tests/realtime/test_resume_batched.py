"""A resume of many conversations is read in batches: it returns exactly what resuming
each conversation on its own returns, and holds at most 2 pooled connections however
many conversations it names (docs/limits.md#resume)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx

from careline.db import tx as db_tx
from careline.db.pool import connect_owner
from careline.kit import limits
from tests.realtime.test_resume_race import open_team
from tests.support.server import RunningServer
from tests.support.world import World
from tests.support.ws import WsClient, connect


async def send_many(client: WsClient, conversation_id: str, n: int, tag: str) -> list[str]:
    """`n` messages, pipelined on one socket; their ids in seq order."""
    acks = await asyncio.gather(
        *(
            client.request(
                "message.send",
                timeout=120,  # queued behind each other on one socket
                conversation_id=conversation_id,
                client_msg_id=f"{tag}-{i}",
                text=f"{tag} {i}",
            )
            for i in range(n)
        )
    )
    return [a["message"]["id"] for a in sorted(acks, key=lambda a: a["message"]["seq"])]


async def last_seqs(http: httpx.AsyncClient, world: World, ids: list[str]) -> dict[str, int]:
    result = {}
    for c in ids:
        response = await http.get(f"/api/v1/conversations/{c}", headers=world["jo"].auth)
        result[c] = response.json()["last_seq"]
    return result


def timeline_by_conversation(client: WsClient) -> dict[str, list[dict[str, Any]]]:
    frames: dict[str, list[dict[str, Any]]] = {}
    for frame in client.arrived:
        if "seq" in frame:
            frames.setdefault(frame["conversation_id"], []).append(frame)
    return frames


async def test_a_resume_of_many_conversations_equals_resuming_each_on_its_own(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    quiet, few, big, behind, ahead = 8, 12, 2, 1, 1
    ids = await open_team(http, world, quiet + few + big + behind + ahead)
    # A conversation of the organisation sam is not in, and ones that do not exist.
    jo_only = await http.post(
        "/api/v1/conversations",
        json={"kind": "team", "member_ids": [str(world["admin"].account_id)], "title": "x"},
        headers=world["jo"].auth,
    )
    assert jo_only.status_code == 201, jo_only.text
    unknown = [str(uuid.uuid4()) for _ in range(3)]
    groups = {
        "quiet": ids[:quiet],
        "few": ids[quiet : quiet + few],
        "big": ids[quiet + few : quiet + few + big],
        "behind": ids[quiet + few + big : quiet + few + big + behind],
        "ahead": ids[quiet + few + big + behind :],
    }
    # More than a page of one conversation, and more than a batch in all.
    per_big = limits.CATCH_UP_READ_EVENTS_PER_CONVERSATION + 60
    assert big * per_big + few * 4 > limits.CATCH_UP_READ_EVENTS
    cursors = await last_seqs(http, world, ids)  # where sam's client had got to
    for c in groups["ahead"]:
        cursors[c] += 5  # a client ahead of the server (restored from elsewhere)
    async with connect(server.ws_url, world["jo"].token) as jo:
        for i, c in enumerate(groups["few"]):
            sent = await send_many(jo, c, 1 + i % 4, f"few{i}")
            if i % 3 == 0:
                await jo.request("message.edit", message_id=sent[0], text="edited")
            if i % 3 == 1:
                await jo.request("reaction.add", message_id=sent[0], emoji="👍")
            if i % 4 == 2:
                await jo.request("message.redact", message_id=sent[-1])
        for c in groups["big"]:
            await send_many(jo, c, per_big, "big")
        for c in groups["behind"]:
            await send_many(jo, c, limits.RESUME_MAX_EVENTS + 1, "behind")
    named = {**cursors, jo_only.json()["id"]: 0, **dict.fromkeys(unknown, 0)}
    token = world["sam"].token

    async with connect(server.ws_url, token, resume=named) as together:
        pass
    alone_acks: dict[str, Any] = {}
    alone_frames: dict[str, list[dict[str, Any]]] = {}
    for c, after in named.items():
        async with connect(server.ws_url, token, resume={c: after}) as alone:
            pass
        alone_acks.update(alone.resumed["conversations"])
        alone_frames.update(timeline_by_conversation(alone))

    assert together.resumed["conversations"] == alone_acks
    assert timeline_by_conversation(together) == alone_frames
    # And what that is: every missed event, in order, where the status is ok.
    statuses = {c: r["status"] for c, r in alone_acks.items()}
    for group in ("quiet", "few", "big"):
        for c in groups[group]:
            assert statuses[c] == "ok", (group, alone_acks[c])
            seqs = [f["seq"] for f in alone_frames.get(c, [])]
            assert seqs == list(range(named[c] + 1, alone_acks[c]["last_seq"] + 1)), group
    assert all(len(alone_frames[c]) == per_big for c in groups["big"])
    assert all(statuses[c] == "reset" for c in groups["behind"] + groups["ahead"])
    assert all(statuses[c] == "not_found" for c in [jo_only.json()["id"], *unknown])
    assert not any(c in alone_frames for c in groups["behind"] + groups["ahead"] + unknown)


@contextlib.asynccontextmanager
async def events_locked(server: RunningServer) -> AsyncIterator[Any]:
    """The events table locked against every reader (as the owner, in a transaction
    kept open): a catch-up read waits in PostgreSQL, holding its connection."""
    dsn = server.server.config.app.state.database.owner_dsn  # type: ignore[attr-defined]
    owner = await connect_owner(dsn)
    try:
        locked = owner.transaction()
        await locked.start()
        await owner.execute("LOCK TABLE events IN ACCESS EXCLUSIVE MODE")
        try:
            yield owner
        finally:
            await locked.rollback()
    finally:
        await owner.close()


async def waiting_on_the_lock(owner: Any) -> int:
    count: int = await owner.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE usename = 'careline_app' "
        "AND datname = current_database() AND wait_event_type = 'Lock'"
    )
    return count


async def test_a_resume_of_many_conversations_holds_at_most_two_pooled_connections(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    """With all but 2 of the pool's connections taken, a resume of 60 conversations
    that each missed events completes; while its catch-up waits on PostgreSQL, it
    leaves a connection free for everyone else (one transaction per conversation, all
    at once, took every connection there was)."""
    ids = await open_team(http, world, 60)
    cursors = await last_seqs(http, world, ids)
    async with connect(server.ws_url, world["jo"].token) as jo:
        for c in ids:
            await send_many(jo, c, 2, "m")
    pool = db_tx.pool()
    held = [await pool.acquire() for _ in range(pool.get_max_size() - 2)]
    try:
        async with connect(server.ws_url, world["sam"].token) as sam:
            async with events_locked(server) as owner:
                # The resume's first statement reads conversations, not events.
                resume = asyncio.create_task(
                    sam.request("resume", timeout=60, conversations=cursors)
                )
                for _ in range(500):
                    if await waiting_on_the_lock(owner):
                        break
                    await asyncio.sleep(0.02)
                else:
                    raise AssertionError("the resume's catch-up never read events")
                # The resume is in the middle of its catch-up: someone else still gets a
                # connection, at once (the bound only matters if none is free).
                async with pool.acquire(timeout=5) as other:
                    assert await other.fetchval("SELECT 1") == 1
                assert await waiting_on_the_lock(owner) == 1
                assert not resume.done()
            result = await asyncio.wait_for(resume, 60)
    finally:
        for conn in held:
            await pool.release(conn)
    assert all(r["status"] == "ok" for r in result["conversations"].values())
    frames = timeline_by_conversation(sam)
    assert {c: [f["seq"] for f in frames[c]] for c in ids} == {
        c: [cursors[c] + 1, cursors[c] + 2] for c in ids
    }
