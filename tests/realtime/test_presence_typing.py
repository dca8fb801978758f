"""Typing and presence arrive and expire by themselves; neither is stored as history."""

from __future__ import annotations

import asyncio
import datetime as dt

import httpx

from tests.realtime.test_live import open_care
from tests.support.server import RunningServer
from tests.support.world import World
from tests.support.ws import connect


async def test_typing_shows_then_expires_by_itself_and_clears_on_send(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    conversation_id = await open_care(http, world)
    sam_id = str(world["sam"].account_id)
    async with (
        connect(server.ws_url, world["sam"].token) as sam,
        connect(server.ws_url, world["lily"].token) as lily,
    ):
        await sam.request("typing.start", conversation_id=conversation_id)
        on = await lily.next_event("typing.updated")
        assert on == {
            "op": "typing.updated",
            "conversation_id": conversation_id,
            "account_id": sam_id,
            "typing": True,
            "expires_in": server.settings.typing_ttl_seconds,
        }
        # Nobody renews it: it goes off after the TTL without another frame from sam.
        started = asyncio.get_running_loop().time()
        off = await lily.next_event(
            "typing.updated", timeout=server.settings.typing_ttl_seconds + 2
        )
        assert off["typing"] is False
        assert (
            asyncio.get_running_loop().time() - started >= server.settings.typing_ttl_seconds * 0.8
        )
        # Typing, then sending, clears it at once.
        await sam.request("typing.start", conversation_id=conversation_id)
        assert (await lily.next_event("typing.updated"))["typing"] is True
        await sam.request(
            "message.send", conversation_id=conversation_id, client_msg_id="t1", text="hi"
        )
        await lily.next_event("message.sent")
        assert (await lily.next_event("typing.updated", timeout=0.5))["typing"] is False
        # The typer's own devices are not told about their own typing.
        assert sam.take_all("typing.updated") == []
    events = (
        await http.get(f"/api/v1/conversations/{conversation_id}/events", headers=world["sam"].auth)
    ).json()
    assert {e["op"] for e in events["items"]} == {"conversation.created", "message.sent"}


async def test_presence_goes_online_away_offline_and_stores_last_seen(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    conversation_id = await open_care(http, world)
    lily_id = str(world["lily"].account_id)
    async with connect(server.ws_url, world["sam"].token) as sam:
        async with connect(server.ws_url, world["lily"].token) as lily_phone:
            online = await sam.next_event(
                "presence.updated", where=lambda f: f["account_id"] == lily_id
            )
            assert online["status"] == "online"
            async with connect(server.ws_url, world["lily"].token) as lily_laptop:
                # A second device changes nothing for others.
                await sam.assert_no_event(
                    "presence.updated", within=0.2, where=lambda f: f["account_id"] == lily_id
                )
                await lily_laptop.request("presence.set", status="away")
                await sam.assert_no_event(
                    "presence.updated", within=0.2, where=lambda f: f["account_id"] == lily_id
                )
                await lily_phone.request("presence.set", status="away")
                away = await sam.next_event(
                    "presence.updated", where=lambda f: f["account_id"] == lily_id
                )
                assert away["status"] == "away"
                listed = (
                    await http.get(
                        f"/api/v1/conversations/{conversation_id}", headers=world["sam"].auth
                    )
                ).json()
                assert {p["display_name"]: p["presence"] for p in listed["participants"]}[
                    "Lily Client"
                ] == "away"
        offline = await sam.next_event(
            "presence.updated", where=lambda f: f["account_id"] == lily_id
        )
        assert offline["status"] == "offline"
    for _ in range(50):
        conv = (
            await http.get(f"/api/v1/conversations/{conversation_id}", headers=world["sam"].auth)
        ).json()
        lily = next(p for p in conv["participants"] if p["account_id"] == lily_id)
        if lily["last_seen_at"]:
            break
        await asyncio.sleep(0.05)
    assert lily["presence"] == "offline"
    assert lily["last_seen_at"] is not None
    visible = await http.get(
        "/api/v1/presence", params={"account_id": [lily_id]}, headers=world["sam"].auth
    )
    assert visible.json()["presence"] == {lily_id: "offline"}
    # When she was last connected: the moment her last device went, as the event said.
    assert offline["last_seen"] is not None
    assert dt.datetime.fromisoformat(visible.json()["last_seen"][lily_id]) >= (
        dt.datetime.fromisoformat(offline["last_seen"]) - dt.timedelta(seconds=1)
    )
