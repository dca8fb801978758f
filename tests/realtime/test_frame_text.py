"""Text PostgreSQL cannot hold (NUL, lone surrogates) in any string of a socket frame is
refused in one place, before any op runs: an `invalid_text` error with the frame's ref
and the field, the socket stays open, and nothing changes."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.realtime.test_live import open_care
from tests.support.server import RunningServer
from tests.support.world import World
from tests.support.ws import connect

# Frames as written on the wire: json.dumps escapes NUL and lone surrogates as \u....
FRAMES: dict[str, tuple[dict[str, Any], str | None, str]] = {
    "a lone surrogate in the text": (
        {"op": "message.send", "ref": "s1", "client_msg_id": "s1", "text": "hi \ud800"},
        "s1",
        "text",
    ),
    "NUL in the client_msg_id": (
        {"op": "message.send", "ref": "n1", "client_msg_id": "n1\x00", "text": "hi"},
        "n1",
        "client_msg_id",
    ),
    "a lone surrogate in a key": (
        {"op": "resume", "ref": "k1", "conversations": {"\udc00": 1}},
        "k1",
        "conversations",
    ),
    "NUL in the ref itself": (
        {"op": "ping", "ref": "r\x00"},
        None,
        "ref",
    ),
}


@pytest.mark.parametrize("case", list(FRAMES))
async def test_unstorable_text_in_a_frame_is_refused_with_its_ref_and_field(
    server: RunningServer, http: httpx.AsyncClient, world: World, case: str
) -> None:
    conversation_id = await open_care(http, world)
    frame, ref, field = FRAMES[case]
    if frame["op"] == "message.send":
        frame = {**frame, "conversation_id": conversation_id}
    async with connect(server.ws_url, world["sam"].token) as client:
        # Raw, past the client's own ref bookkeeping: the reply arrives as an event.
        await client.ws.send(json.dumps(frame))
        reply = await client.next_event("error", timeout=10)
        assert reply["ref"] == ref
        assert reply["code"] == "invalid_text", reply
        assert reply["field"] == field
        # The socket stays open and serves the next request.
        assert await client.request("ping") == {}
    history = await http.get(
        f"/api/v1/conversations/{conversation_id}/messages", headers=world["sam"].auth
    )
    assert history.json()["items"] == []
