"""Reading on one device clears the unread count on the reader's others and shows a
read receipt to the sender."""

from __future__ import annotations

import httpx

from tests.realtime.test_live import open_care
from tests.support.server import RunningServer
from tests.support.world import World
from tests.support.ws import connect


async def unread(http: httpx.AsyncClient, headers: dict[str, str], conversation_id: str) -> int:
    listed = (await http.get("/api/v1/conversations", headers=headers)).json()["items"]
    count: int = next(c for c in listed if c["id"] == conversation_id)["unread"]
    return count


async def test_reading_on_one_device_clears_unread_everywhere_and_tells_the_sender(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    conversation_id = await open_care(http, world)
    lily_id = str(world["lily"].account_id)
    async with (
        connect(server.ws_url, world["sam"].token) as sam,
        connect(server.ws_url, world["lily"].token) as phone,
        connect(server.ws_url, world["lily"].token) as laptop,
    ):
        for i in range(3):
            await sam.request(
                "message.send", conversation_id=conversation_id, client_msg_id=f"u{i}", text=f"u{i}"
            )
        last = [await laptop.next_event("message.sent") for _ in range(3)][-1]["seq"]
        assert await unread(http, world["lily"].auth, conversation_id) == 3
        assert (
            await unread(http, world["sam"].auth, conversation_id) == 0
        )  # own messages never count

        delivered = await laptop.request(
            "receipt.update", conversation_id=conversation_id, delivered_seq=last
        )
        assert delivered == {"delivered_seq": last, "read_seq": 0, "unread": 3}
        got = await sam.next_event("receipt.updated")
        assert (got["account_id"], got["delivered_seq"], got["read_seq"]) == (lily_id, last, 0)

        await phone.request("receipt.update", conversation_id=conversation_id, read_seq=last)
        on_laptop = await laptop.next_event(
            "receipt.updated", where=lambda f: f["read_seq"] == last
        )
        assert on_laptop["unread"] == 0
        seen = await sam.next_event("receipt.updated", where=lambda f: f["read_seq"] == last)
        assert seen["account_id"] == lily_id
        assert await unread(http, world["lily"].auth, conversation_id) == 0

        # Watermarks never move back, and never past the end.
        back = await laptop.request("receipt.update", conversation_id=conversation_id, read_seq=1)
        assert back["read_seq"] == last
        ahead = await laptop.request(
            "receipt.update", conversation_id=conversation_id, read_seq=10_000
        )
        assert ahead["read_seq"] == last
        await sam.assert_no_event("receipt.updated", within=0.2)  # nothing changed, nothing sent

    conv = (
        await http.get(f"/api/v1/conversations/{conversation_id}", headers=world["sam"].auth)
    ).json()
    lily = next(p for p in conv["participants"] if p["account_id"] == lily_id)
    assert (lily["delivered_seq"], lily["read_seq"]) == (last, last)


async def test_redacted_messages_do_not_count_as_unread(
    http: httpx.AsyncClient, world: World
) -> None:
    conversation_id = await open_care(http, world)
    sent = await http.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        json={"client_msg_id": "oops", "text": "wrong client"},
        headers=world["sam"].auth,
    )
    assert await unread(http, world["lily"].auth, conversation_id) == 1
    await http.delete(f"/api/v1/messages/{sent.json()['id']}", headers=world["sam"].auth)
    assert await unread(http, world["lily"].auth, conversation_id) == 0


async def test_sending_is_reading_the_sender_has_read_everything_before_their_message(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    conversation_id = await open_care(http, world)
    async with connect(server.ws_url, world["lily"].token) as lily:
        for i in range(2):
            await lily.request(
                "message.send", conversation_id=conversation_id, client_msg_id=f"q{i}", text=f"q{i}"
            )
        assert await unread(http, world["sam"].auth, conversation_id) == 2
        sent = await http.post(
            f"/api/v1/conversations/{conversation_id}/messages",
            json={"client_msg_id": "reply", "text": "On it"},
            headers=world["sam"].auth,
        )
        assert sent.status_code == 201, sent.text
        seq = sent.json()["seq"]
        # Replying read what came before: no badge beside "You: On it".
        assert await unread(http, world["sam"].auth, conversation_id) == 0
        got = await lily.next_event("message.sent", where=lambda f: f["seq"] == seq)
        assert got["message"]["sender_id"] == str(world["sam"].account_id)
    conv = (
        await http.get(f"/api/v1/conversations/{conversation_id}", headers=world["lily"].auth)
    ).json()
    sam = next(p for p in conv["participants"] if p["account_id"] == str(world["sam"].account_id))
    assert (sam["delivered_seq"], sam["read_seq"]) == (seq, seq)
    assert await unread(http, world["lily"].auth, conversation_id) == 1
