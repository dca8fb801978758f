"""Per conversation: "all messages" or "only replies to me" in team conversations, beside
mute. The choice decides who gets a notification record (and so any push or e-mail)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from careline.db.tx import Actor, transaction
from tests.support.server import RunningServer
from tests.support.world import Persona, World
from tests.support.ws import connect


async def records(world: World, who: Persona, conversation_id: str) -> list[Any]:
    """(count, first_seq) of each notification record of `who` about the conversation."""
    async with transaction(Actor.system(world.tenant_id), readonly=True) as tx:
        rows = await tx.conn.fetch(
            "SELECT count, first_seq FROM notifications WHERE account_id = $1 "
            "AND conversation_id = $2 ORDER BY created_at",
            who.account_id,
            uuid.UUID(conversation_id),
        )
    return [(r["count"], r["first_seq"]) for r in rows]


async def send(
    http: httpx.AsyncClient, who: Persona, conversation_id: str, key: str, reply_to: str | None
) -> dict[str, Any]:
    body: dict[str, Any] = {"client_msg_id": key, "text": "a note"}
    if reply_to:
        body["reply_to_id"] = reply_to
    sent = await http.post(
        f"/api/v1/conversations/{conversation_id}/messages", json=body, headers=who.auth
    )
    assert sent.status_code == 201, sent.text
    message: dict[str, Any] = sent.json()
    return message


async def team(http: httpx.AsyncClient, world: World) -> str:
    created = await http.post(
        "/api/v1/conversations",
        json={
            "kind": "team",
            "member_ids": [str(world["jo"].account_id), str(world["admin"].account_id)],
            "title": "case review",
        },
        headers=world["sam"].auth,
    )
    assert created.status_code == 201, created.text
    assert created.json()["notify"] == "all"
    conversation_id: str = created.json()["id"]
    return conversation_id


async def test_only_replies_to_me_notifies_of_replies_to_me_alone(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    conversation = await team(http, world)
    jo = world["jo"]
    async with connect(server.ws_url, jo.token) as ws:
        chose = await http.patch(
            f"/api/v1/conversations/{conversation}/me",
            json={"notify": "replies"},
            headers=jo.auth,
        )
        assert chose.status_code == 200, chose.text
        assert (chose.json()["notify"], chose.json()["muted"]) == ("replies", False)
        # Jo's other devices follow.
        event = await ws.next_event("participant.settings_updated")
        assert (event["conversation_id"], event["notify"]) == (conversation, "replies")
    # Team chatter: the admin (all messages) is told, Jo is not.
    await send(http, world["sam"], conversation, "chatter", None)
    assert await records(world, jo, conversation) == []
    assert [c for c, _ in await records(world, world["admin"], conversation)] == [1]
    # A reply to the admin's message is not a reply to Jo either.
    admins = await send(http, world["admin"], conversation, "admins", None)
    await send(http, world["sam"], conversation, "to-admin", admins["id"])
    assert await records(world, jo, conversation) == []
    # A reply to Jo's own message is.
    jos = await send(http, jo, conversation, "jos", None)
    reply = await send(http, world["sam"], conversation, "to-jo", jos["id"])
    assert await records(world, jo, conversation) == [(1, reply["seq"])]
    listed = await http.get(f"/api/v1/conversations/{conversation}", headers=jo.auth)
    assert listed.json()["notify"] == "replies"
    # Sam's own choice is unaffected.
    sams = await http.get(f"/api/v1/conversations/{conversation}", headers=world["sam"].auth)
    assert sams.json()["notify"] == "all"


async def test_back_to_all_messages_and_mute_beside_it(
    http: httpx.AsyncClient, world: World
) -> None:
    conversation = await team(http, world)
    jo = world["jo"]
    url = f"/api/v1/conversations/{conversation}/me"
    await http.patch(url, json={"notify": "replies"}, headers=jo.auth)
    both = await http.patch(url, json={"notify": "all", "muted": True}, headers=jo.auth)
    assert (both.json()["notify"], both.json()["muted"]) == ("all", True)
    await send(http, world["sam"], conversation, "muted", None)
    assert await records(world, jo, conversation) == []  # muted wins over all messages
    unmuted = await http.patch(url, json={"muted": False}, headers=jo.auth)
    assert (unmuted.json()["notify"], unmuted.json()["muted"]) == ("all", False)
    await send(http, world["sam"], conversation, "all", None)
    assert [c for c, _ in await records(world, jo, conversation)] == [1]


async def test_notify_is_for_team_conversations_only_and_bad_values_change_nothing(
    http: httpx.AsyncClient, world: World
) -> None:
    care = await http.post(
        "/api/v1/conversations",
        json={"kind": "care", "client_id": str(world["lily"].account_id)},
        headers=world["sam"].auth,
    )
    care_url = f"/api/v1/conversations/{care.json()['id']}/me"
    for who in ("sam", "lily"):
        refused = await http.patch(
            care_url, json={"notify": "replies", "muted": True}, headers=world[who].auth
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["code"] == "notify_team_only"
        after = await http.get(care_url.removesuffix("/me"), headers=world[who].auth)
        assert (after.json()["notify"], after.json()["muted"]) == ("all", False)
    conversation = await team(http, world)
    url = f"/api/v1/conversations/{conversation}/me"
    for bad in ("mentions", None, 1, ""):
        body = {"notify": bad} if bad is not None else {"notify": None, "muted": "x"}
        refused = await http.patch(url, json=body, headers=world["jo"].auth)
        assert refused.status_code == 422, refused.text
        assert refused.json()["code"] == "invalid_input"
    kept = await http.get(f"/api/v1/conversations/{conversation}", headers=world["jo"].auth)
    assert (kept.json()["notify"], kept.json()["muted"]) == ("all", False)
