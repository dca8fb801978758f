"""The protocol questions docs/protocol.md answers, each checked on a real socket: binary
frames, the order of a sender's own event and ack, value types in the auth ack and in
typing events, live events before the first request, and paging /events to the end."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import websockets

from careline import config
from tests.realtime.test_live import open_care
from tests.realtime.test_protocol import close_code_after
from tests.support.server import RunningServer
from tests.support.world import World
from tests.support.ws import WsClient, connect


async def test_binary_frames_are_refused_even_when_they_hold_json(
    server: RunningServer, world: World
) -> None:
    ping = json.dumps({"op": "ping", "ref": "b1"}).encode()
    async with connect(server.ws_url, world["sam"].token) as sam:
        await sam.ws.send(ping)  # bytes: a binary frame
        refused = await sam.next_event("error")
        assert (refused["code"], refused["ref"]) == ("bad_frame", None)
        assert await sam.request("ping") == {}  # the same frame as text is fine
    auth = json.dumps({"op": "auth", "ref": "1", "token": world["sam"].token}).encode()
    assert await close_code_after(server, auth) == 4001  # before auth: not authenticated


async def raw_send_order(
    ws: websockets.ClientConnection, conversation_id: str, name: str, n: int
) -> list[str]:
    """Send n messages one after another; for each, what came first on this socket:
    its message.sent ("event") or its ack ("ack")."""
    firsts = []
    for i in range(n):
        ref = f"{name}-{i}"
        await ws.send(
            json.dumps(
                {
                    "op": "message.send",
                    "ref": ref,
                    "conversation_id": conversation_id,
                    "client_msg_id": ref,
                    "text": "hi",
                }
            )
        )
        seen_event = False
        while True:
            frame = json.loads(await asyncio.wait_for(ws.recv(), 10))
            if frame["op"] == "message.sent" and frame["message"]["client_msg_id"] == ref:
                seen_event = True
            elif frame.get("ref") == ref:
                assert frame["op"] == "ack", frame
                firsts.append("event" if seen_event else "ack")
                break
    return firsts


async def test_a_sender_gets_its_own_message_sent_before_its_ack(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    conversation_id = await open_care(http, world)
    # Six devices of two people sending into one conversation at once: events are
    # published in whichever order their commits resume, so an ack could overtake its
    # own event (the hub holds a later seq until the earlier one is out).
    devices = ["sam", "lily"] * 3
    sockets = [await websockets.connect(server.ws_url) for _ in devices]
    try:
        for ws, who in zip(sockets, devices, strict=True):
            await ws.send(json.dumps({"op": "auth", "ref": "a", "token": world[who].token}))
            assert json.loads(await ws.recv())["op"] == "ack"
        orders = await asyncio.gather(
            *(raw_send_order(ws, conversation_id, f"d{n}", 100) for n, ws in enumerate(sockets))
        )
    finally:
        for ws in sockets:
            await ws.close()
    firsts = [first for order in orders for first in order]
    assert firsts == ["event"] * len(firsts)


async def test_auth_ack_durations_are_floats_and_limits_integers(
    server: RunningServer, world: World
) -> None:
    async with connect(server.ws_url, world["sam"].token) as sam:
        ready: dict[str, Any] = sam.ready
    for key in ("heartbeat_seconds", "typing_ttl_seconds", "away_after_seconds"):
        assert type(ready[key]) is float, (key, ready[key])
    assert ready["typing_ttl_seconds"] == server.settings.typing_ttl_seconds
    assert ready["away_after_seconds"] == server.settings.away_after_seconds
    sizes = {k: v for k, v in ready["limits"].items() if k != "budgets"}
    assert all(type(v) is int for v in sizes.values()), ready["limits"]
    assert sizes["sockets_per_person"] == server.settings.ws_max_sockets_per_person
    # The budgets as the server enforces them, in the notation limits.md documents.
    settings = config.current()
    assert ready["limits"]["budgets"] == {
        name: getattr(settings, f"budget_{name}")
        for name in (
            "sends_per_conversation",
            "sends",
            "reactions",
            "receipts",
            "typing",
            "uploads",
        )
    }


async def test_typing_expires_in_is_float_seconds_both_ways(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    conversation_id = await open_care(http, world)
    async with (
        connect(server.ws_url, world["sam"].token) as sam,
        connect(server.ws_url, world["lily"].token) as lily,
    ):
        await sam.request("typing.start", conversation_id=conversation_id)
        on = await lily.next_event("typing.updated")
        await sam.request("typing.stop", conversation_id=conversation_id)
        off = await lily.next_event("typing.updated")
    assert (on["typing"], off["typing"]) == (True, False)
    assert type(on["expires_in"]) is float
    assert on["expires_in"] == lily.ready["typing_ttl_seconds"]
    assert type(off["expires_in"]) is float
    assert off["expires_in"] == 0.0


async def test_live_timeline_events_wait_for_the_first_request_after_auth(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    conversation_id = await open_care(http, world)
    async with websockets.connect(server.ws_url) as raw:
        lily = WsClient(raw)
        await lily.request("auth", token=world["lily"].token)
        sent = await http.post(
            f"/api/v1/conversations/{conversation_id}/messages",
            json={"client_msg_id": "early", "text": "before lily resumed"},
            headers=world["sam"].auth,
        )
        assert sent.status_code == 201
        await lily.assert_no_event("message.sent", within=0.3)  # held, not lost
        result = await lily.request("resume", conversations={conversation_id: 1})
        assert result["conversations"][conversation_id] == {"status": "ok", "last_seq": 2}
        assert len(lily.take_all("message.sent")) == 1
        await lily.assert_no_event("message.sent", within=0.3)
        seqs = [f["seq"] for f in lily.arrived if f.get("conversation_id") == conversation_id]
        assert seqs == [2]  # once: the replay sent it, the held live copy was dropped


async def test_events_page_to_the_end_with_next_after_seq(
    http: httpx.AsyncClient, world: World
) -> None:
    conversation_id = await open_care(http, world)
    for i in range(7):
        r = await http.post(
            f"/api/v1/conversations/{conversation_id}/messages",
            json={"client_msg_id": f"p{i}", "text": f"n{i}"},
            headers=world["sam"].auth,
        )
        assert r.status_code == 201
    seqs: list[int] = []
    after, pages = 0, 0
    while True:
        page = (
            await http.get(
                f"/api/v1/conversations/{conversation_id}/events",
                params={"after_seq": after, "limit": 3},
                headers=world["lily"].auth,
            )
        ).json()
        pages += 1
        seqs += [f["seq"] for f in page["items"]]
        after = page["next_after_seq"]
        if not page["has_more"]:
            break
    assert seqs == list(range(1, 9))
    assert after == page["last_seq"] == 8
    assert pages == 3


async def test_a_later_resume_never_repeats_a_seq_and_resets_what_it_cannot_fill(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    conversation_id = await open_care(http, world)
    async with connect(server.ws_url, world["lily"].token) as lily:  # streams live from here
        for i in range(3):
            r = await http.post(
                f"/api/v1/conversations/{conversation_id}/messages",
                json={"client_msg_id": f"r{i}", "text": "x"},
                headers=world["sam"].auth,
            )
            assert r.status_code == 201
            await lily.next_event("message.sent")
        # This socket sent 2..4; asking again from 2 replays nothing it already sent.
        again = await lily.request("resume", conversations={conversation_id: 2})
        assert again["conversations"][conversation_id] == {"status": "ok", "last_seq": 4}
        # From before where this socket's stream began: the gap cannot come in order.
        older = await lily.request("resume", conversations={conversation_id: 0})
        assert older["conversations"][conversation_id] == {"status": "reset", "last_seq": 4}
    seqs = [f["seq"] for f in lily.arrived if f.get("conversation_id") == conversation_id]
    assert seqs == [2, 3, 4]
