"""Bad input on the socket gets a documented error frame or close code and changes
nothing; Origin is checked at the handshake; a too-slow reader is closed with 4008."""

from __future__ import annotations

import asyncio
import json
import socket

import httpx
import pytest
import websockets

from careline.realtime import protocol
from tests.realtime.test_live import open_care
from tests.support.server import RunningServer
from tests.support.world import World
from tests.support.ws import connect


async def close_code_after(
    server: RunningServer, *frames: str | bytes, **kwargs: object
) -> int | None:
    async with websockets.connect(server.ws_url, **kwargs) as ws:  # type: ignore[arg-type]
        for frame in frames:
            await ws.send(frame)
        with pytest.raises(websockets.ConnectionClosed):
            while True:
                await asyncio.wait_for(ws.recv(), 15)
        return ws.close_code


async def test_the_first_frame_must_authenticate(server: RunningServer, world: World) -> None:
    token = world["sam"].token
    assert await close_code_after(server, json.dumps({"op": "ping", "ref": "1"})) == 4001
    assert (
        await close_code_after(server, json.dumps({"op": "auth", "ref": "1", "token": "forged"}))
        == 4001
    )
    assert await close_code_after(server, "not json") == 4001
    assert (
        await close_code_after(server, json.dumps({"op": "auth", "ref": "1", "token": token + "x"}))
        == 4001
    )


async def test_cookie_auth_needs_the_csrf_token(server: RunningServer, world: World) -> None:
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        signed = await client.post(
            "/api/v1/auth/login",
            json={"email": world["lily"].email, "password": "correct horse battery staple"},
        )
        cookie = f"careline_session={signed.cookies['careline_session']}"
        csrf = signed.json()["csrf_token"]
    headers = {"Cookie": cookie, "Origin": server.base_url}
    assert (
        await close_code_after(
            server, json.dumps({"op": "auth", "ref": "1"}), additional_headers=headers
        )
        == 4001
    )
    async with websockets.connect(server.ws_url, additional_headers=headers) as ws:
        await ws.send(json.dumps({"op": "auth", "ref": "1", "csrf": csrf}))
        ready = json.loads(await ws.recv())
        assert ready["op"] == "ack"
        assert ready["result"]["account_id"] == str(world["lily"].account_id)


async def test_a_foreign_origin_is_refused_at_the_handshake(server: RunningServer) -> None:
    with pytest.raises(websockets.InvalidStatus) as caught:
        async with websockets.connect(
            server.ws_url, additional_headers={"Origin": "https://evil.example"}
        ):
            pass
    assert caught.value.response.status_code == 403


async def test_a_silent_client_is_closed_when_auth_times_out(
    server: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(protocol, "AUTH_TIMEOUT_SECONDS", 0.3)
    assert await close_code_after(server) == 4002


async def test_malformed_frames_get_error_frames_and_change_nothing(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    conversation_id = await open_care(http, world)
    async with connect(server.ws_url, world["sam"].token) as sam:
        ws = sam.ws
        cases: list[tuple[str, str, str | None]] = [
            ("{not json", "bad_frame", None),
            ("[1, 2]", "bad_frame", None),
            (json.dumps({"op": "ping"}), "bad_frame", None),
            (json.dumps({"op": "ping", "ref": 7}), "bad_frame", None),
            (json.dumps({"op": 5, "ref": "a"}), "bad_frame", "a"),
            (json.dumps({"op": "no.such.op", "ref": "b"}), "unknown_op", "b"),
            (
                json.dumps(
                    {
                        "op": "message.send",
                        "ref": "c",
                        "conversation_id": "not-a-uuid",
                        "client_msg_id": "x",
                        "text": "t",
                    }
                ),
                "invalid_input",
                "c",
            ),
            (
                json.dumps(
                    {
                        "op": "message.send",
                        "ref": "d",
                        "conversation_id": conversation_id,
                        "client_msg_id": "x",
                    }
                ),
                "invalid_input",
                "d",
            ),
            (
                json.dumps(
                    {
                        "op": "message.send",
                        "ref": "e",
                        "conversation_id": conversation_id,
                        "client_msg_id": "x",
                        "text": "t",
                        "admin": True,
                    }
                ),
                "invalid_input",
                "e",
            ),
            (
                json.dumps(
                    {
                        "op": "message.send",
                        "ref": "f",
                        "conversation_id": conversation_id,
                        "client_msg_id": "has space",
                        "text": "t",
                    }
                ),
                "invalid_client_msg_id",
                "f",
            ),
            (
                json.dumps(
                    {
                        "op": "message.send",
                        "ref": "g",
                        "conversation_id": conversation_id,
                        "client_msg_id": "ok",
                        "text": "  ",
                    }
                ),
                "empty_text",
                "g",
            ),
            (
                json.dumps(
                    {
                        "op": "receipt.update",
                        "ref": "h",
                        "conversation_id": conversation_id,
                        "read_seq": -1,
                    }
                ),
                "invalid_seq",
                "h",
            ),
            (
                json.dumps({"op": "presence.set", "ref": "i", "status": "invisible"}),
                "invalid_status",
                "i",
            ),
            (
                json.dumps({"op": "resume", "ref": "j", "conversations": {"nope": 1}}),
                "invalid_input",
                "j",
            ),
            (b"\xff\xfe binary junk", "bad_frame", None),
        ]
        for raw, code, ref in cases:
            await ws.send(raw)
            frame = await sam.next_event("error")
            assert (frame["code"], frame["ref"]) == (code, ref), raw
        assert (await sam.request("ping")) == {}
    events = (
        await http.get(f"/api/v1/conversations/{conversation_id}/events", headers=world["sam"].auth)
    ).json()
    assert events["last_seq"] == 1  # nothing was sent


async def test_an_oversize_frame_closes_with_1009(server: RunningServer, world: World) -> None:
    async with connect(server.ws_url, world["sam"].token, max_size=None) as sam:
        await sam.ws.send(json.dumps({"op": "ping", "ref": "1", "pad": "x" * (64 * 1024)}))
        assert await sam.closed() == 1009


async def test_too_many_malformed_frames_close_with_4000(
    server: RunningServer, world: World
) -> None:
    async with connect(server.ws_url, world["sam"].token) as sam:
        for _ in range(protocol.MAX_BAD_FRAMES + 1):
            await sam.ws.send("garbage")
        assert await sam.closed() == 4000


async def test_a_client_too_slow_to_read_is_closed_with_4008_and_can_resume(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    conversation_id = await open_care(http, world)
    # Lily's device stops reading: a tiny receive buffer, and the client library
    # stops pulling frames off the socket after one.
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.connect(("127.0.0.1", server.settings.port))
    slow = await websockets.connect(server.ws_url, sock=raw, max_queue=1, max_size=None)
    await slow.send(json.dumps({"op": "auth", "ref": "1", "token": world["lily"].token}))
    hub = http._transport  # keep the linter from flagging an unused name below
    del hub
    app_hub = server.server.config.app.state.hub  # type: ignore[attr-defined]
    lily_id = world["lily"].account_id
    for _ in range(100):
        if lily_id in app_hub.by_account:
            break
        await asyncio.sleep(0.02)
    text = "x" * 8000
    async with connect(server.ws_url, world["sam"].token) as sam:
        last_seq = 0
        for i in range(3000):
            sent = await sam.request(
                "message.send", conversation_id=conversation_id, client_msg_id=f"s{i}", text=text
            )
            last_seq = sent["message"]["seq"]
            sam.take_all("message.sent")
            if lily_id not in app_hub.by_account:
                break
        assert lily_id not in app_hub.by_account, "the slow socket was never closed"
    # Reading again, the client finds what was buffered and then the 4008 close.
    with pytest.raises(websockets.ConnectionClosed):
        while True:
            await asyncio.wait_for(slow.recv(), 20)
    assert slow.close_code == 4008
    # It reconnects and resumes: the server replays what the closed socket never sent.
    async with connect(server.ws_url, world["lily"].token) as lily:
        result = await lily.request("resume", conversations={conversation_id: last_seq - 5})
        assert result["conversations"][conversation_id]["status"] == "ok"
        seqs = [f["seq"] for f in lily.events if f.get("conversation_id") == conversation_id]
        assert seqs == list(range(last_seq - 4, last_seq + 1))
