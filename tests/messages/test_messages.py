"""Messages are the clinical record: edits keep revisions, deletes redact (hidden from
participants, kept in the database), replies and reactions behave."""

from __future__ import annotations

import uuid

import httpx

from careline.db import tx as db_tx
from careline.kit import limits
from tests.realtime.test_live import open_care
from tests.support.server import RunningServer
from tests.support.world import World
from tests.support.ws import connect


async def send(
    http: httpx.AsyncClient, world: World, who: str, conversation_id: str, text: str, **extra: str
) -> dict:
    r = await http.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        json={"client_msg_id": uuid.uuid4().hex, "text": text, **extra},
        headers=world[who].auth,
    )
    assert r.status_code == 201, r.text
    body: dict = r.json()
    return body


async def test_an_edit_keeps_every_revision_and_staff_can_read_them(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    conversation_id = await open_care(http, world)
    message = await send(http, world, "lily", conversation_id, "I feel anxious on Mondays")
    async with connect(server.ws_url, world["sam"].token) as sam:
        edited = await http.patch(
            f"/api/v1/messages/{message['id']}",
            json={"text": "I feel anxious on Sunday evenings"},
            headers=world["lily"].auth,
        )
        assert edited.status_code == 200, edited.text
        body = edited.json()
        assert (body["text"], body["revision"]) == ("I feel anxious on Sunday evenings", 1)
        assert body["edited_at"] is not None
        live = await sam.next_event("message.edited")
        assert live["message"]["text"] == "I feel anxious on Sunday evenings"
    await http.patch(
        f"/api/v1/messages/{message['id']}", json={"text": "third"}, headers=world["lily"].auth
    )
    revisions = await http.get(
        f"/api/v1/messages/{message['id']}/revisions", headers=world["sam"].auth
    )
    assert [r["text"] for r in revisions.json()] == [
        "I feel anxious on Mondays",
        "I feel anxious on Sunday evenings",
        "third",
    ]
    assert [r["revision"] for r in revisions.json()] == [0, 1, 2]
    # Clients see the current text; the history is for staff.
    denied = await http.get(
        f"/api/v1/messages/{message['id']}/revisions", headers=world["lily"].auth
    )
    assert denied.status_code == 403, denied.text
    # Only the sender edits.
    other = await http.patch(
        f"/api/v1/messages/{message['id']}", json={"text": "x"}, headers=world["sam"].auth
    )
    assert other.status_code == 403
    assert other.json()["code"] == "not_sender"


async def test_a_redaction_hides_the_text_from_everyone_and_keeps_it_in_the_database(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    conversation_id = await open_care(http, world)
    message = await send(http, world, "sam", conversation_id, "Note meant for another client")
    async with connect(server.ws_url, world["lily"].token) as lily:
        gone = await http.delete(f"/api/v1/messages/{message['id']}", headers=world["sam"].auth)
        assert gone.status_code == 200
        assert gone.json()["redacted"] is True
        assert gone.json()["text"] is None
        live = await lily.next_event("message.redacted")
        assert live["message"]["text"] is None
    # A device that comes back later and replays the whole timeline sees no text either.
    async with connect(server.ws_url, world["lily"].token, resume={conversation_id: 0}) as lily:
        assert lily.resumed["conversations"][conversation_id]["status"] == "ok"
        assert lily.events
        assert all(
            f.get("message", {}).get("text") is None
            for f in lily.events
            if f.get("conversation_id") == conversation_id
        )
    for who in ("sam", "lily", "grace"):
        history = (
            await http.get(
                f"/api/v1/conversations/{conversation_id}/messages", headers=world[who].auth
            )
        ).json()
        assert history["items"][0]["redacted"] is True
        assert history["items"][0]["text"] is None
        single = (
            await http.get(f"/api/v1/messages/{message['id']}", headers=world[who].auth)
        ).json()
        assert single["text"] is None
    revisions = await http.get(
        f"/api/v1/messages/{message['id']}/revisions", headers=world["sam"].auth
    )
    assert revisions.status_code == 409
    again = await http.delete(f"/api/v1/messages/{message['id']}", headers=world["sam"].auth)
    assert again.json()["code"] == "redacted"
    edit = await http.patch(
        f"/api/v1/messages/{message['id']}", json={"text": "x"}, headers=world["sam"].auth
    )
    assert edit.status_code == 409
    # Kept for audit: the row and its (encrypted) text are still in the database.
    async with db_tx.transaction(db_tx.Actor.system(world.tenant_id)) as tx:
        row = await tx.conn.fetchrow(
            "SELECT body, redacted_at, redacted_by FROM messages WHERE id = $1",
            uuid.UUID(message["id"]),
        )
        from careline.messages.service import _decrypt  # the audit path reads it back

        full = await tx.conn.fetchrow(
            "SELECT * FROM messages WHERE id = $1", uuid.UUID(message["id"])
        )
        assert await _decrypt(tx, full) == "Note meant for another client"
    assert row["redacted_at"] is not None
    assert row["redacted_by"] == world["sam"].account_id


async def test_replies_reactions_and_history_paging(http: httpx.AsyncClient, world: World) -> None:
    conversation_id = await open_care(http, world)
    first = await send(http, world, "sam", conversation_id, "How was the week?")
    reply = await send(http, world, "lily", conversation_id, "Good!", reply_to_id=first["id"])
    assert reply["reply_to_id"] == first["id"]
    other = await open_care(http, world, staff="jo", client="tom")
    cross = await http.post(
        f"/api/v1/conversations/{other}/messages",
        json={"client_msg_id": "x", "text": "hi", "reply_to_id": first["id"]},
        headers=world["jo"].auth,
    )
    assert cross.status_code == 422
    assert cross.json()["code"] == "bad_reply"

    for who in ("lily", "grace"):
        r = await http.put(f"/api/v1/messages/{first['id']}/reactions/❤️", headers=world[who].auth)
        assert r.status_code == 200
        assert r.json()["seq"] is not None
    twice = await http.put(
        f"/api/v1/messages/{first['id']}/reactions/❤️", headers=world["lily"].auth
    )
    assert twice.json()["seq"] is None
    got = (await http.get(f"/api/v1/messages/{first['id']}", headers=world["sam"].auth)).json()
    assert got["reactions"] == [
        {
            "emoji": "❤️",
            "account_ids": [str(world["lily"].account_id), str(world["grace"].account_id)],
        }
    ]
    await http.delete(f"/api/v1/messages/{first['id']}/reactions/❤️", headers=world["lily"].auth)
    got = (await http.get(f"/api/v1/messages/{first['id']}", headers=world["sam"].auth)).json()
    assert got["reactions"] == [{"emoji": "❤️", "account_ids": [str(world["grace"].account_id)]}]
    for bad in ("abc", "👍 👍", "<b>", "👍" * 20):
        r = await http.put(
            f"/api/v1/messages/{first['id']}/reactions/{bad}", headers=world["lily"].auth
        )
        assert r.status_code == 422, bad

    for i in range(10):
        await send(http, world, "sam", conversation_id, f"n{i}")
    newest = (
        await http.get(
            f"/api/v1/conversations/{conversation_id}/messages",
            params={"limit": 4},
            headers=world["lily"].auth,
        )
    ).json()
    assert [m["text"] for m in newest["items"]] == ["n6", "n7", "n8", "n9"]
    assert newest["has_more"] is True
    older = (
        await http.get(
            f"/api/v1/conversations/{conversation_id}/messages",
            params={"limit": 4, "before_seq": newest["items"][0]["seq"]},
            headers=world["lily"].auth,
        )
    ).json()
    assert [m["text"] for m in older["items"]] == ["n2", "n3", "n4", "n5"]
    forward = (
        await http.get(
            f"/api/v1/conversations/{conversation_id}/messages",
            params={"limit": 3, "after_seq": 0},
            headers=world["lily"].auth,
        )
    ).json()
    assert [m["text"] for m in forward["items"]] == ["How was the week?", "Good!", "n0"]
    assert forward["has_more"] is True


async def test_text_limits_and_normalisation(http: httpx.AsyncClient, world: World) -> None:
    conversation_id = await open_care(http, world)
    url = f"/api/v1/conversations/{conversation_id}/messages"
    cases = {
        "": "empty_text",
        "   \n\t ": "empty_text",
        "x" * (limits.MESSAGE_TEXT_MAX_CHARS + 1): "text_too_long",
        "bell\x07": "invalid_text",
        "spoof\u202egnp.exe": "invalid_text",
    }
    for text, code in cases.items():
        r = await http.post(
            url, json={"client_msg_id": uuid.uuid4().hex, "text": text}, headers=world["sam"].auth
        )
        assert r.status_code == 422, r.text
        assert r.json()["code"] == code
    ok = await http.post(
        url,
        json={"client_msg_id": "max", "text": "é" * limits.MESSAGE_TEXT_MAX_CHARS},
        headers=world["sam"].auth,
    )
    assert ok.status_code == 201
    decomposed = await http.post(
        url,
        json={"client_msg_id": "nfc", "text": "  cafe\u0301\n\nline two  "},
        headers=world["sam"].auth,
    )
    assert decomposed.json()["text"] == "café\n\nline two"
    for bad_id in ("", "has space", "x" * 65, "semi;colon"):
        r = await http.post(
            url, json={"client_msg_id": bad_id, "text": "hi"}, headers=world["sam"].auth
        )
        assert r.status_code == 422, bad_id
    history = (await http.get(url, headers=world["sam"].auth)).json()["items"]
    assert [m["client_msg_id"] for m in history] == ["max", "nfc"]
