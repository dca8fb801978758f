"""The notification centre over REST and the socket: a person's own records, newest
first and paged; the summary the bell shows; marking one or all read, which every device
of theirs follows; `resume` carrying the centre; and events for a person in one
organisation reaching only their sockets in that organisation."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from careline.db.tx import Role
from careline.kit import limits
from tests.realtime.test_live import open_care
from tests.support.server import RunningServer
from tests.support.world import Persona, World, join_by_invitation
from tests.support.ws import WsError, connect


async def send(http: httpx.AsyncClient, who: Persona, conversation: str, text: str = "hi") -> int:
    response = await http.post(
        f"/api/v1/conversations/{conversation}/messages",
        json={"client_msg_id": uuid.uuid4().hex, "text": text},
        headers=who.auth,
    )
    assert response.status_code == 201, response.text
    seq: int = response.json()["seq"]
    return seq


async def open_team(http: httpx.AsyncClient, world: World, by: str, *members: str) -> str:
    response = await http.post(
        "/api/v1/conversations",
        json={"kind": "team", "member_ids": [str(world[m].account_id) for m in members]},
        headers=world[by].auth,
    )
    assert response.status_code == 201, response.text
    conversation_id: str = response.json()["id"]
    return conversation_id


async def listed(http: httpx.AsyncClient, who: Persona, **params: Any) -> dict[str, Any]:
    response = await http.get("/api/v1/notifications", params=params, headers=who.auth)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


async def summary_of(http: httpx.AsyncClient, who: Persona) -> dict[str, int]:
    response = await http.get("/api/v1/notifications/summary", headers=who.auth)
    assert response.status_code == 200, response.text
    counts: dict[str, int] = response.json()
    return counts


async def mark(http: httpx.AsyncClient, who: Persona, body: Any) -> httpx.Response:
    return await http.post("/api/v1/notifications/read", json=body, headers=who.auth)


async def test_messages_make_one_record_per_conversation_newest_first(
    http: httpx.AsyncClient, world: World
) -> None:
    care = await open_care(http, world)
    first = await send(http, world["lily"], care)
    await send(http, world["lily"], care)
    team = await open_team(http, world, "jo", "sam")
    team_seq = await send(http, world["jo"], team)
    items = (await listed(http, world["sam"]))["items"]
    assert [(i["conversation_id"], i["kind"], i["count"], i["read_at"]) for i in items] == [
        (team, "message", 1, None),
        (care, "message", 2, None),
    ]
    assert items[0]["first_seq"] == team_seq
    assert items[1]["first_seq"] == first
    assert items[1]["priority"] == "high"  # a care conversation
    assert await summary_of(http, world["sam"]) == {"unread": 2, "messages": 3}
    # Another message in the older conversation moves it to the top.
    await send(http, world["lily"], care)
    items = (await listed(http, world["sam"]))["items"]
    assert [(i["conversation_id"], i["count"]) for i in items] == [(care, 3), (team, 1)]
    # The sender has none of their own.
    assert (await listed(http, world["lily"]))["items"] == []


async def test_the_list_pages_by_cursor_without_gaps_or_repeats(
    http: httpx.AsyncClient, world: World
) -> None:
    sent = []
    for client in ("lily", "tom"):
        conversation = await open_care(http, world, client=client)
        await send(http, world[client], conversation)
        sent.append(conversation)
    team = await open_team(http, world, "jo", "sam")
    await send(http, world["jo"], team)
    sent.append(team)
    seen, cursor, pages = [], None, 0
    while True:
        page = await listed(http, world["sam"], limit=1, **({"cursor": cursor} if cursor else {}))
        seen += [i["conversation_id"] for i in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sent[::-1]
    assert pages == 4  # the last full page cannot know it is the last
    bad = await http.get(
        "/api/v1/notifications", params={"cursor": "not-ours"}, headers=world["sam"].auth
    )
    assert bad.status_code == 422, bad.text
    assert bad.json()["code"] == "invalid_cursor"


async def test_marking_one_then_all_read_clears_every_device(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    care = await open_care(http, world)
    team = await open_team(http, world, "jo", "sam")
    async with (
        connect(server.ws_url, world["sam"].token) as laptop,
        connect(server.ws_url, world["sam"].token) as phone,
    ):
        await send(http, world["lily"], care)
        await send(http, world["jo"], team)
        for device in (laptop, phone):
            for conversation in (care, team):
                told = await device.next_event(
                    "notification.updated",
                    where=lambda f, c=conversation: f["notification"]["conversation_id"] == c,
                )
                assert told["tenant_id"] == str(world.tenant_id)
                assert told["notification"]["count"] == 1
        items = (await listed(http, world["sam"]))["items"]
        team_record, care_record = items[0]["id"], items[1]["id"]
        # One, over REST: both devices are told; the answer is the new summary.
        response = await mark(http, world["sam"], {"ids": [care_record]})
        assert response.status_code == 200, response.text
        assert response.json() == {"ids": [care_record], "unread": 1, "messages": 1}
        for device in (laptop, phone):
            read = await device.next_event("notification.read")
            assert read == {
                "op": "notification.read",
                "tenant_id": str(world.tenant_id),
                "ids": [care_record],
            }
        # Again: no change, and nobody is told.
        again = await mark(http, world["sam"], {"ids": [care_record]})
        assert again.json() == {"ids": [], "unread": 1, "messages": 1}
        # All, over the socket of one device: the other follows.
        result = await phone.request("notifications.read", all=True)
        assert result == {"ids": [team_record], "unread": 0, "messages": 0}
        for device in (laptop, phone):
            read = await device.next_event("notification.read")
            assert read["ids"] == [team_record]
        await laptop.assert_no_event("notification.read", within=0.2)
    assert await summary_of(http, world["sam"]) == {"unread": 0, "messages": 0}
    items = (await listed(http, world["sam"]))["items"]
    assert all(i["read_at"] is not None for i in items)
    # A new message after reading makes a new record from that message on.
    seq = await send(http, world["lily"], care)
    newest = (await listed(http, world["sam"]))["items"][0]
    assert (newest["conversation_id"], newest["first_seq"], newest["count"]) == (care, seq, 1)
    assert newest["id"] != care_record


async def test_reading_the_conversation_clears_its_record_on_every_device(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    care = await open_care(http, world)
    async with (
        connect(server.ws_url, world["sam"].token) as laptop,
        connect(server.ws_url, world["sam"].token) as phone,
    ):
        seq = await send(http, world["lily"], care)
        record = (await laptop.next_event("notification.updated"))["notification"]["id"]
        await phone.request("receipt.update", conversation_id=care, read_seq=seq)
        for device in (laptop, phone):
            assert (await device.next_event("notification.read"))["ids"] == [record]
    assert await summary_of(http, world["sam"]) == {"unread": 0, "messages": 0}


async def test_resume_carries_the_summary_and_the_newest_records(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    care = await open_care(http, world)
    await send(http, world["lily"], care)
    await send(http, world["lily"], care)
    async with connect(server.ws_url, world["sam"].token) as sam:
        centre = sam.resumed["notifications"]
        assert (centre["unread"], centre["messages"], centre["next_cursor"]) == (1, 2, None)
        assert [(i["conversation_id"], i["count"]) for i in centre["items"]] == [(care, 2)]
        # A later resume on the same socket reads it again.
        await mark(http, world["sam"], {"all": True})
        again = await sam.request("resume", conversations={care: 0})
        assert (again["notifications"]["unread"], again["notifications"]["messages"]) == (0, 0)
        assert again["conversations"][care]["status"] == "ok"
    # Only the newest few ride on the ack; the rest page over REST from its cursor.
    for n in range(limits.NOTIFICATIONS_RESUME_ITEMS):
        conversation = await open_team(http, world, "jo", "sam")
        await send(http, world["jo"], conversation, text=f"n{n}")
    async with connect(server.ws_url, world["sam"].token) as sam:
        centre = sam.resumed["notifications"]
        assert len(centre["items"]) == limits.NOTIFICATIONS_RESUME_ITEMS
        assert centre["unread"] == limits.NOTIFICATIONS_RESUME_ITEMS
        rest = await listed(http, world["sam"], cursor=centre["next_cursor"])
        assert [i["conversation_id"] for i in rest["items"]] == [care]


BAD_BODIES = [
    {},
    {"ids": []},
    {"all": False},
    {"all": True, "ids": [str(uuid.uuid4())]},
    {"ids": ["not-a-uuid"]},
    {"ids": [str(uuid.uuid4()) for _ in range(limits.NOTIFICATIONS_READ_MAX_IDS + 1)]},
    {"all": True, "extra": 1},
]


@pytest.mark.parametrize("body", BAD_BODIES, ids=range(len(BAD_BODIES)))
async def test_bad_mark_read_requests_are_refused_and_change_nothing(
    server: RunningServer, http: httpx.AsyncClient, world: World, body: Any
) -> None:
    care = await open_care(http, world)
    await send(http, world["lily"], care)
    response = await mark(http, world["sam"], body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "invalid_input"
    async with connect(server.ws_url, world["sam"].token) as sam:
        with pytest.raises(WsError) as caught:
            await sam.request("notifications.read", **body)
        assert caught.value.code == "invalid_input", caught.value.frame
    assert await summary_of(http, world["sam"]) == {"unread": 1, "messages": 1}


async def test_the_largest_mark_read_is_accepted(http: httpx.AsyncClient, world: World) -> None:
    care = await open_care(http, world)
    await send(http, world["lily"], care)
    [record] = (await listed(http, world["sam"]))["items"]
    ids = [record["id"]] * limits.NOTIFICATIONS_READ_MAX_IDS  # NOTIFICATIONS_READ_MAX_IDS
    response = await mark(http, world["sam"], {"ids": ids})
    assert response.status_code == 200, response.text
    assert response.json()["ids"] == [record["id"]]


async def test_someone_elses_record_is_not_found_and_nothing_changes(
    server: RunningServer, http: httpx.AsyncClient, world: World, other_world: World
) -> None:
    care = await open_care(http, world)
    team = await open_team(http, world, "sam", "jo")
    await send(http, world["lily"], care)
    await send(http, world["sam"], team)
    [sams] = (await listed(http, world["sam"]))["items"]
    [jos] = (await listed(http, world["jo"]))["items"]
    for who in (world["jo"], world["admin"], world["lily"], other_world["sam"]):
        # Mixed with one of their own, still nothing changes.
        own = (await listed(http, who))["items"]
        body = {"ids": [sams["id"], *(i["id"] for i in own)]}
        response = await mark(http, who, body)
        assert response.status_code == 404, response.text
        assert response.json()["code"] == "not_found"
        assert sams["id"] not in {i["id"] for i in (await listed(http, who))["items"]}
        async with connect(server.ws_url, who.token) as ws:
            with pytest.raises(WsError) as caught:
                await ws.request("notifications.read", **body)
            assert caught.value.code == "not_found"
    assert await summary_of(http, world["sam"]) == {"unread": 1, "messages": 1}
    assert await summary_of(http, world["jo"]) == {"unread": 1, "messages": 1}
    assert (await listed(http, world["jo"]))["items"][0]["id"] == jos["id"]


async def test_a_person_in_two_organisations_is_told_only_where_it_happened(
    server: RunningServer, http: httpx.AsyncClient, world: World, other_world: World
) -> None:
    # Sam of organisation A is also staff in B, the same account.
    sam_in_b = await join_by_invitation(
        server.base_url,
        other_world["admin"],
        world["sam"],
        name="Sam in B",
        role=Role.STAFF,
        slug=other_world.slug,
    )
    care = await open_care(http, world)
    async with (
        connect(server.ws_url, world["sam"].token) as in_a,
        connect(server.ws_url, sam_in_b.token) as in_b,
    ):
        assert in_b.resumed["notifications"]["unread"] == 0
        await send(http, world["lily"], care)
        told = await in_a.next_event("notification.updated")
        assert told["tenant_id"] == str(world.tenant_id)
        await in_a.request("notifications.read", all=True)
        await in_a.next_event("notification.read")
        # Settings changes are account events too: they stay in their organisation.
        await http.patch(
            f"/api/v1/conversations/{care}/me", json={"muted": True}, headers=world["sam"].auth
        )
        await in_a.next_event("participant.settings_updated")
        # A conversation made for them in A subscribes only their sockets in A.
        team = await open_team(http, world, "jo", "sam")
        await send(http, world["jo"], team, text="only in A")
        await in_a.next_event("message.sent", where=lambda f: f["conversation_id"] == team)
        for op in (
            "notification.updated",
            "notification.read",
            "participant.settings_updated",
            "conversation.created",
            "message.sent",
        ):
            await in_b.assert_no_event(op, within=0.1)
    assert (await listed(http, sam_in_b))["items"] == []
    assert await summary_of(http, sam_in_b) == {"unread": 0, "messages": 0}
