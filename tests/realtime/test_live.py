"""Participants get each other's messages live, in seq order, on every device."""

from __future__ import annotations

import asyncio

import httpx

from tests.support.server import RunningServer
from tests.support.world import World
from tests.support.ws import connect


async def open_care(
    http: httpx.AsyncClient, world: World, staff: str = "sam", client: str = "lily"
) -> str:
    response = await http.post(
        "/api/v1/conversations",
        json={"kind": "care", "client_id": str(world[client].account_id)},
        headers=world[staff].auth,
    )
    assert response.status_code in (200, 201), response.text
    conversation_id: str = response.json()["id"]
    return conversation_id


async def test_messages_reach_every_device_of_every_participant_in_order(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    conversation_id = await open_care(http, world)
    async with (
        connect(server.ws_url, world["sam"].token) as sam_laptop,
        connect(server.ws_url, world["sam"].token) as sam_phone,
        connect(server.ws_url, world["lily"].token) as lily,
        connect(server.ws_url, world["grace"].token) as grace,
    ):
        sent = []
        for i in range(5):
            result = await sam_laptop.request(
                "message.send",
                conversation_id=conversation_id,
                client_msg_id=f"m{i}",
                text=f"hello {i}",
            )
            sent.append(result["message"])
        for device in (sam_laptop, sam_phone, lily, grace):
            got = [await device.next_event("message.sent") for _ in range(5)]
            assert [g["message"]["text"] for g in got] == [f"hello {i}" for i in range(5)]
            seqs = [g["seq"] for g in got]
            assert seqs == sorted(seqs)
            assert len(set(seqs)) == 5
            assert seqs == [m["seq"] for m in sent]


async def test_retried_send_returns_the_original_and_adds_nothing(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    conversation_id = await open_care(http, world)
    async with connect(server.ws_url, world["lily"].token) as lily:
        first = await lily.request(
            "message.send", conversation_id=conversation_id, client_msg_id="same", text="once"
        )
        again = await lily.request(
            "message.send", conversation_id=conversation_id, client_msg_id="same", text="once"
        )
        assert again["duplicate"] is True
        assert again["message"]["id"] == first["message"]["id"]
        rest = await http.post(
            f"/api/v1/conversations/{conversation_id}/messages",
            json={"client_msg_id": "same", "text": "once"},
            headers=world["lily"].auth,
        )
        assert rest.status_code == 200, rest.text
        assert rest.json()["id"] == first["message"]["id"]
    history = await http.get(
        f"/api/v1/conversations/{conversation_id}/messages", headers=world["sam"].auth
    )
    assert [m["text"] for m in history.json()["items"]] == ["once"]


async def test_concurrent_retries_of_one_send_make_one_message(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    conversation_id = await open_care(http, world)

    async def send() -> httpx.Response:
        return await http.post(
            f"/api/v1/conversations/{conversation_id}/messages",
            json={"client_msg_id": "racy", "text": "just once"},
            headers=world["lily"].auth,
        )

    responses = await asyncio.gather(*(send() for _ in range(8)))
    assert sorted(r.status_code for r in responses) == [200] * 7 + [201], [
        r.text for r in responses
    ]
    assert len({r.json()["id"] for r in responses}) == 1
    history = await http.get(
        f"/api/v1/conversations/{conversation_id}/messages", headers=world["sam"].auth
    )
    assert len(history.json()["items"]) == 1
