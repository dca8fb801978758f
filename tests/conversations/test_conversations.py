"""Who may open which conversation, uniqueness, archive / mute across devices, and a
removed participant losing everything at once."""

from __future__ import annotations

import httpx
import pytest

from tests.realtime.test_live import open_care
from tests.support.server import RunningServer
from tests.support.world import World
from tests.support.ws import WsError, connect


async def open_(http: httpx.AsyncClient, world: World, who: str, **body: object) -> httpx.Response:
    payload = {k: (str(v) if hasattr(v, "hex") else v) for k, v in body.items()}
    return await http.post("/api/v1/conversations", json=payload, headers=world[who].auth)


async def test_care_conversations_are_unique_per_client_and_staff(
    http: httpx.AsyncClient, world: World
) -> None:
    first = await open_(http, world, "sam", kind="care", client_id=world["lily"].account_id)
    assert first.status_code == 201
    again = await open_(http, world, "sam", kind="care", client_id=world["lily"].account_id)
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    # Lily opening it towards her care team finds the same one.
    from_lily = await open_(http, world, "lily", kind="care", staff_id=world["sam"].account_id)
    assert from_lily.json()["id"] == first.json()["id"]
    roles = {p["display_name"]: p["role"] for p in first.json()["participants"]}
    assert roles == {
        "Sam Clinician": "staff",
        "Lily Client": "client",
        "Grace Guardian": "guardian",
    }


@pytest.mark.parametrize(
    ("who", "body", "status", "code"),
    [
        # Clients only reach their care team.
        ("lily", {"kind": "care", "staff_id": "jo"}, 422, "not_care_team"),
        ("tom", {"kind": "care", "staff_id": "jo"}, 201, None),
        # A guardian acts only for their own client.
        ("grace", {"kind": "care", "client_id": "lily", "staff_id": "sam"}, 201, None),
        ("grace", {"kind": "care", "client_id": "tom", "staff_id": "jo"}, 422, "wrong_client"),
        # Staff open a care conversation with any client, never with staff.
        ("jo", {"kind": "care", "client_id": "lily"}, 201, None),
        ("jo", {"kind": "care", "client_id": "sam"}, 422, "wrong_role"),
        # Team conversations are staff only, with staff only.
        ("lily", {"kind": "team", "member_ids": ["sam"]}, 403, "staff_only"),
        ("sam", {"kind": "team", "member_ids": ["lily"]}, 422, "wrong_role"),
        ("sam", {"kind": "team", "member_ids": []}, 422, "no_members"),
        ("sam", {"kind": "team", "member_ids": ["jo", "admin"], "title": "MDT"}, 201, None),
        # Support: the client side with the organisation's admins.
        ("tom", {"kind": "support"}, 201, None),
        ("grace", {"kind": "support", "client_id": "lily"}, 201, None),
        ("sam", {"kind": "support"}, 422, "client_required"),
    ],
)
async def test_who_may_open_what(
    http: httpx.AsyncClient,
    world: World,
    who: str,
    body: dict[str, object],
    status: int,
    code: str | None,
) -> None:
    def resolve(value: object) -> object:
        if isinstance(value, str) and value in world.people:
            return str(world[value].account_id)
        if isinstance(value, list):
            return [resolve(v) for v in value]
        return value

    payload = {k: resolve(v) for k, v in body.items() if k != "kind"} | {"kind": body["kind"]}
    response = await http.post("/api/v1/conversations", json=payload, headers=world[who].auth)
    assert response.status_code == status, response.text
    if code:
        assert response.json()["code"] == code
    else:
        assert str(world[who].account_id) in {
            p["account_id"] for p in response.json()["participants"]
        }


async def test_support_includes_admins_and_is_unique_per_client(
    http: httpx.AsyncClient, world: World
) -> None:
    first = await open_(http, world, "lily", kind="support")
    names = {p["display_name"] for p in first.json()["participants"]}
    assert names == {"Lily Client", "Grace Guardian", "Alex Admin"}
    again = await open_(http, world, "grace", kind="support", client_id=world["lily"].account_id)
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]


async def test_archive_and_mute_are_per_person_and_follow_to_other_devices(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    conversation_id = await open_care(http, world)
    async with connect(server.ws_url, world["lily"].token) as other_device:
        r = await http.patch(
            f"/api/v1/conversations/{conversation_id}/me",
            json={"archived": True, "muted": True},
            headers=world["lily"].auth,
        )
        assert (r.json()["archived"], r.json()["muted"]) == (True, True)
        update = await other_device.next_event("participant.settings_updated")
        assert update == {
            "op": "participant.settings_updated",
            "conversation_id": conversation_id,
            "archived": True,
            "muted": True,
            "notify": "all",
        }
    archived = (
        await http.get(
            "/api/v1/conversations", params={"archived": "true"}, headers=world["lily"].auth
        )
    ).json()
    assert [c["id"] for c in archived["items"]] == [conversation_id]
    active = (
        await http.get(
            "/api/v1/conversations", params={"archived": "false"}, headers=world["lily"].auth
        )
    ).json()
    assert conversation_id not in [c["id"] for c in active["items"]]
    sams = (
        await http.get(f"/api/v1/conversations/{conversation_id}", headers=world["sam"].auth)
    ).json()
    assert (sams["archived"], sams["muted"]) == (False, False)


async def test_a_removed_participant_loses_history_live_events_and_everything_at_once(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    team = await open_(http, world, "sam", kind="team", member_ids=[str(world["jo"].account_id)])
    conversation_id = team.json()["id"]
    async with (
        connect(server.ws_url, world["jo"].token) as jo,
        connect(server.ws_url, world["sam"].token) as sam,
    ):
        await sam.request(
            "message.send", conversation_id=conversation_id, client_msg_id="a", text="before"
        )
        await jo.next_event("message.sent")
        removed = await http.delete(
            f"/api/v1/conversations/{conversation_id}/participants/{world['jo'].account_id}",
            headers=world["sam"].auth,
        )
        assert removed.status_code == 200, removed.text
        notice = await jo.next_event("participant.removed")
        assert notice["account_id"] == str(world["jo"].account_id)
        await sam.request(
            "message.send", conversation_id=conversation_id, client_msg_id="b", text="after removal"
        )
        await jo.assert_no_event("message.sent", within=0.3)
        with pytest.raises(WsError) as caught:
            await jo.request(
                "message.send",
                conversation_id=conversation_id,
                client_msg_id="c",
                text="still here?",
            )
        assert caught.value.code == "not_found"
        with pytest.raises(WsError):
            await jo.request("typing.start", conversation_id=conversation_id)
        resumed = await jo.request("resume", conversations={conversation_id: 0})
        assert resumed["conversations"][conversation_id] == {"status": "not_found"}
    for path in (
        f"/api/v1/conversations/{conversation_id}",
        f"/api/v1/conversations/{conversation_id}/messages",
        f"/api/v1/conversations/{conversation_id}/events",
    ):
        assert (await http.get(path, headers=world["jo"].auth)).status_code == 404
    listed = (await http.get("/api/v1/conversations", headers=world["jo"].auth)).json()["items"]
    assert conversation_id not in [c["id"] for c in listed]
    # Added back, they are live again from that moment.
    async with connect(server.ws_url, world["jo"].token) as jo:
        added = await http.post(
            f"/api/v1/conversations/{conversation_id}/participants",
            json={"account_id": str(world["jo"].account_id)},
            headers=world["sam"].auth,
        )
        assert added.status_code == 201
        await jo.next_event("participant.added")
        await http.post(
            f"/api/v1/conversations/{conversation_id}/messages",
            json={"client_msg_id": "d", "text": "welcome back"},
            headers=world["sam"].auth,
        )
        assert (await jo.next_event("message.sent"))["message"]["text"] == "welcome back"


async def test_an_unlinked_guardian_leaves_the_clients_conversations(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    conversation_id = await open_care(http, world)
    async with connect(server.ws_url, world["grace"].token) as grace:
        r = await http.post(
            "/api/v1/admin/guardian-links/delete",
            json={
                "guardian_id": str(world["grace"].account_id),
                "client_id": str(world["lily"].account_id),
            },
            headers=world["admin"].auth,
        )
        assert r.status_code == 204, r.text
        await grace.next_event("participant.removed")
        await http.post(
            f"/api/v1/conversations/{conversation_id}/messages",
            json={"client_msg_id": "x", "text": "after unlink"},
            headers=world["sam"].auth,
        )
        await grace.assert_no_event("message.sent", within=0.3)
    assert (
        await http.get(f"/api/v1/conversations/{conversation_id}", headers=world["grace"].auth)
    ).status_code == 404
    relinked = await http.put(
        "/api/v1/admin/guardian-links",
        json={
            "guardian_id": str(world["grace"].account_id),
            "client_id": str(world["lily"].account_id),
        },
        headers=world["admin"].auth,
    )
    assert relinked.status_code == 200
    assert (
        await http.get(f"/api/v1/conversations/{conversation_id}", headers=world["grace"].auth)
    ).status_code == 200


async def test_new_conversations_reach_open_sockets(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    async with connect(server.ws_url, world["tom"].token) as tom:
        conversation_id = await open_care(http, world, staff="jo", client="tom")
        created = await tom.next_event("conversation.created")
        assert created["conversation_id"] == conversation_id
        await http.post(
            f"/api/v1/conversations/{conversation_id}/messages",
            json={"client_msg_id": "x", "text": "first"},
            headers=world["jo"].auth,
        )
        assert (await tom.next_event("message.sent"))["message"]["text"] == "first"


async def test_conversation_list_pages_by_cursor(http: httpx.AsyncClient, world: World) -> None:
    ids = []
    for client in ("lily", "tom"):
        ids.append(await open_care(http, world, staff="sam", client=client))
    ids.append(
        (
            await open_(http, world, "sam", kind="team", member_ids=[str(world["jo"].account_id)])
        ).json()["id"]
    )
    first = (
        await http.get("/api/v1/conversations", params={"limit": 2}, headers=world["sam"].auth)
    ).json()
    assert len(first["items"]) == 2
    rest = (
        await http.get(
            "/api/v1/conversations",
            params={"limit": 2, "cursor": first["next_cursor"]},
            headers=world["sam"].auth,
        )
    ).json()
    assert [c["id"] for c in first["items"] + rest["items"]] == ids[::-1]
    bad = await http.get(
        "/api/v1/conversations", params={"cursor": "garbage!"}, headers=world["sam"].auth
    )
    assert bad.status_code == 422
    assert bad.json()["code"] == "invalid_cursor"
