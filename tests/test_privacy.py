"""No health data leaves careline in logs: a message carrying a unique marker, sent,
edited, refused and looked up every way a client can, never shows up in the server's log
output (careline's, uvicorn's, PostgreSQL's)."""

from __future__ import annotations

import contextlib
import json
import uuid

import httpx
import websockets

from tests.conftest import LogCapture
from tests.realtime.test_live import open_care
from tests.support.server import RunningServer
from tests.support.world import World
from tests.support.ws import WsError, connect


async def test_message_text_never_appears_in_any_log(
    server: RunningServer, http: httpx.AsyncClient, world: World, log_capture: LogCapture
) -> None:
    marker = f"diagnosis-{uuid.uuid4().hex}"
    conversation_id = await open_care(http, world)
    start = len(log_capture.lines)
    sam = world["sam"].auth
    sent = await http.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        json={"client_msg_id": "p1", "text": marker},
        headers=sam,
    )
    mid = sent.json()["id"]
    await http.patch(f"/api/v1/messages/{mid}", json={"text": marker + " edited"}, headers=sam)
    await http.get(f"/api/v1/messages/{mid}/revisions", headers=sam)
    await http.get(
        f"/api/v1/conversations/{conversation_id}/messages", params={"q": marker}, headers=sam
    )
    # Refused input carrying the marker.
    for body in (
        {"client_msg_id": "p2", "text": marker * 2000},
        {"client_msg_id": "p3", "text": marker + "\x07"},
        {"client_msg_id": marker + " bad id", "text": marker},
        {"client_msg_id": "p4", "text": marker, "unknown": marker},
    ):
        r = await http.post(
            f"/api/v1/conversations/{conversation_id}/messages", json=body, headers=sam
        )
        assert r.status_code == 422
    await http.post("/api/v1/auth/token", json={"email": f"{marker}@x.test", "password": marker})
    await http.get(f"/api/v1/{marker}", headers=sam)
    # An invitation: the name the admin types, and what the invitee types on the page.
    invited = await http.post(
        "/api/v1/admin/members",
        json={"email": f"{marker}@x.test", "display_name": marker, "role": "client"},
        headers=world["admin"].auth,
    )
    assert invited.status_code == 201, invited.text
    token = invited.json()["link"].partition("#")[2]
    await http.post("/api/v1/invitations/preview", json={"token": marker})
    await http.post("/api/v1/invitations/accept", json={"token": token, "password": marker})
    accepted = await http.post(
        "/api/v1/invitations/accept",
        json={"token": token, "password": marker + marker, "display_name": marker},
    )
    assert accepted.status_code == 200, accepted.text
    async with connect(server.ws_url, world["lily"].token) as lily:
        await lily.request(
            "message.send", conversation_id=conversation_id, client_msg_id="w1", text=marker
        )
        for args in ({"text": marker}, {"text": marker * 300, "client_msg_id": "w2"}):
            with contextlib.suppress(WsError):  # refused, and that is the point
                await lily.request("message.send", conversation_id=conversation_id, **args)
        await lily.ws.send(marker)  # not even JSON
        await lily.next_event("error")
        await lily.request("ping")
    async with websockets.connect(server.ws_url) as raw:
        await raw.send(json.dumps({"op": "auth", "ref": "1", "token": marker}))
        await raw.wait_closed()
    lines = log_capture.lines[start:]
    assert len(lines) > 10, "the server logged the requests (ids, routes, statuses)"
    leaked = [line for line in lines if marker in line]
    assert leaked == []
    pg_log = (server.settings.data_dir / "pgdata" / "server.log").read_text(errors="replace")
    assert marker not in pg_log
