"""A device that drops off the network without closing its socket goes offline within
the heartbeat window (docs/protocol.md#heartbeats): the server pings every
`ws_heartbeat_seconds`, closes a socket whose pong does not come within as long again,
and the people who share a conversation with its owner get `presence.updated` offline
with when they were last seen."""

from __future__ import annotations

import asyncio
import datetime as dt

import httpx
import websockets

from tests.realtime.test_live import open_care
from tests.support.server import RunningServer
from tests.support.world import World
from tests.support.ws import WsClient, connect
from tests.web.test_http_abuse import listener

HEARTBEAT = 1.0
# The window is two heartbeats (a ping, then as long for its pong); the rest is for an
# event loop on two busy cores to get to its timers.
WINDOW = 2 * HEARTBEAT
SLACK = 3.0


async def test_a_silent_socket_goes_offline_within_the_heartbeat_window(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    await open_care(http, world)
    lily_id = str(world["lily"].account_id)
    loop = asyncio.get_running_loop()
    async with (
        listener(server, ws_heartbeat_seconds=HEARTBEAT) as short,
        connect(server.ws_url, world["sam"].token) as sam,
    ):
        ws = await websockets.connect(short.ws_url, ping_interval=None)
        lily = WsClient(ws)
        ready = await lily.request("auth", token=world["lily"].token)
        assert ready["heartbeat_seconds"] == HEARTBEAT  # the client's own heartbeat too
        await lily.request("resume", conversations={})
        online = await sam.next_event(
            "presence.updated", where=lambda f: f["account_id"] == lily_id
        )
        assert online["status"] == "online"
        assert "last_seen" not in online
        # Answering pings keeps her online, however quiet she is otherwise.
        await sam.assert_no_event(
            "presence.updated", within=2 * WINDOW, where=lambda f: f["account_id"] == lily_id
        )
        # Her network goes: nothing more is read, so no ping is answered, and no close
        # frame is sent either.
        ws.transport.pause_reading()
        silent_at = loop.time()
        offline = await sam.next_event(
            "presence.updated",
            where=lambda f: f["account_id"] == lily_id,
            timeout=WINDOW + SLACK,
        )
        assert offline["status"] == "offline"
        assert loop.time() - silent_at <= WINDOW + SLACK
        seen = dt.datetime.fromisoformat(offline["last_seen"])
        assert abs((dt.datetime.now(dt.UTC) - seen).total_seconds()) < WINDOW + SLACK
        ws.transport.abort()
    visible = await http.get(
        "/api/v1/presence", params={"account_id": [lily_id]}, headers=world["sam"].auth
    )
    assert visible.json()["presence"] == {lily_id: "offline"}
    assert dt.datetime.fromisoformat(visible.json()["last_seen"][lily_id]) >= seen


async def test_offline_comes_when_the_last_device_goes_and_only_to_who_shares_a_conversation(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    await open_care(http, world)  # sam and lily; tom shares nothing with lily
    lily_id = str(world["lily"].account_id)
    async with (
        connect(server.ws_url, world["sam"].token) as sam,
        connect(server.ws_url, world["tom"].token) as tom,
    ):
        async with connect(server.ws_url, world["lily"].token) as phone:
            await sam.next_event("presence.updated", where=lambda f: f["account_id"] == lily_id)
            async with connect(server.ws_url, world["lily"].token):
                pass
            # One of two devices went: she is still online.
            await sam.assert_no_event(
                "presence.updated", within=0.3, where=lambda f: f["account_id"] == lily_id
            )
            await phone.close()
            offline = await sam.next_event(
                "presence.updated", where=lambda f: f["account_id"] == lily_id
            )
        assert offline["status"] == "offline"
        assert offline["last_seen"] is not None
        assert not [f for f in tom.arrived if f.get("account_id") == lily_id]
    hidden = await http.get(
        "/api/v1/presence", params={"account_id": [lily_id]}, headers=world["tom"].auth
    )
    assert hidden.json() == {"presence": {}, "last_seen": {}}
