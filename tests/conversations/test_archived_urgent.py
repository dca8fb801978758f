"""Nothing urgent stays hidden: a new message from someone else brings an archived
conversation back to the inbox of everyone who archived it, live, unless they chose to
keep archived conversations archived (`keep_archived` on /api/v1/me, per organisation)."""

from __future__ import annotations

import re

import httpx

from careline.db.tx import Role
from tests.realtime.test_live import open_care
from tests.support.server import RunningServer
from tests.support.world import World, join_by_invitation
from tests.support.ws import connect


async def settings_of(
    http: httpx.AsyncClient, world: World, who: str, cid: str
) -> tuple[bool, bool]:
    got = (await http.get(f"/api/v1/conversations/{cid}", headers=world[who].auth)).json()
    return got["archived"], got["muted"]


async def archive(http: httpx.AsyncClient, world: World, who: str, cid: str) -> None:
    r = await http.patch(
        f"/api/v1/conversations/{cid}/me",
        json={"archived": True, "muted": True},
        headers=world[who].auth,
    )
    assert r.status_code == 200, r.text


async def send(
    http: httpx.AsyncClient, world: World, who: str, cid: str, text: str
) -> dict[str, object]:
    r = await http.post(
        f"/api/v1/conversations/{cid}/messages",
        json={"client_msg_id": re.sub(r"[^A-Za-z0-9]", "-", text)[:60], "text": text},
        headers=world[who].auth,
    )
    assert r.status_code == 201, r.text
    message: dict[str, object] = r.json()
    return message


async def test_a_message_from_someone_else_brings_it_back_to_the_inbox_live(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    cid = await open_care(http, world)
    await archive(http, world, "sam", cid)
    await archive(http, world, "lily", cid)
    async with connect(server.ws_url, world["sam"].token) as sams_phone:
        await send(http, world, "grace", cid, "Are you there? It is urgent")
        back = await sams_phone.next_event("participant.settings_updated")
        # Back in the inbox, still muted: muting quietens, archiving no longer hides.
        assert back == {
            "op": "participant.settings_updated",
            "conversation_id": cid,
            "archived": False,
            "muted": True,
        }
    assert await settings_of(http, world, "sam", cid) == (False, True)
    assert await settings_of(http, world, "lily", cid) == (False, True)
    inbox = await http.get("/api/v1/conversations?archived=false", headers=world["sam"].auth)
    listed = next(c for c in inbox.json()["items"] if c["id"] == cid)
    assert listed["unread"] == 1


async def test_your_own_message_edits_deletions_and_reactions_leave_it_archived(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    cid = await open_care(http, world)
    first = await send(http, world, "grace", cid, "first")
    await archive(http, world, "sam", cid)
    await archive(http, world, "grace", cid)
    async with connect(server.ws_url, world["sam"].token) as sams_phone:
        # Grace's own message does not bring it back for Grace ...
        mine = await send(http, world, "grace", cid, "second")
        assert await settings_of(http, world, "grace", cid) == (True, True)
        # ... and Sam, who archived after the first, gets it back for the second.
        await sams_phone.next_event("participant.settings_updated")
        await archive(http, world, "sam", cid)
        await sams_phone.next_event("participant.settings_updated")
        edited = await http.patch(
            f"/api/v1/messages/{mine['id']}",
            json={"text": "second, edited"},
            headers=world["grace"].auth,
        )
        assert edited.status_code == 200, edited.text
        reacted = await http.put(
            f"/api/v1/messages/{first['id']}/reactions/👍", headers=world["lily"].auth
        )
        assert reacted.status_code in (200, 204), reacted.text
        deleted = await http.delete(f"/api/v1/messages/{mine['id']}", headers=world["grace"].auth)
        assert deleted.status_code == 200, deleted.text
        await sams_phone.assert_no_event("participant.settings_updated", within=0.3)
    assert await settings_of(http, world, "sam", cid) == (True, True)


async def test_keep_archived_is_a_per_person_setting_off_by_default(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    me = await http.get("/api/v1/me", headers=world["sam"].auth)
    assert me.json()["keep_archived"] is False
    on = await http.patch("/api/v1/me", json={"keep_archived": True}, headers=world["sam"].auth)
    assert on.status_code == 204, on.text
    assert (await http.get("/api/v1/me", headers=world["sam"].auth)).json()["keep_archived"]
    # Another person's setting is theirs.
    assert not (await http.get("/api/v1/me", headers=world["jo"].auth)).json()["keep_archived"]

    cid = await open_care(http, world)
    await archive(http, world, "sam", cid)
    await archive(http, world, "lily", cid)
    async with connect(server.ws_url, world["sam"].token) as sams_phone:
        await send(http, world, "grace", cid, "Are you there? It is urgent")
        await sams_phone.next_event("message.sent")
        await sams_phone.assert_no_event("participant.settings_updated", within=0.3)
    assert await settings_of(http, world, "sam", cid) == (True, True)
    # Lily keeps the default: hers comes back.
    assert await settings_of(http, world, "lily", cid) == (False, True)
    archived = await http.get("/api/v1/conversations?archived=true", headers=world["sam"].auth)
    assert next(c for c in archived.json()["items"] if c["id"] == cid)["unread"] == 1

    off = await http.patch("/api/v1/me", json={"keep_archived": False}, headers=world["sam"].auth)
    assert off.status_code == 204
    await send(http, world, "lily", cid, "Me too")
    assert await settings_of(http, world, "sam", cid) == (False, True)


async def test_keep_archived_takes_a_boolean_only(http: httpx.AsyncClient, world: World) -> None:
    for bad in ("yes", 1, None):
        r = await http.patch("/api/v1/me", json={"keep_archived": bad}, headers=world["sam"].auth)
        if bad is None:  # an absent change changes nothing
            assert r.status_code == 204, r.text
            continue
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
    assert (await http.get("/api/v1/me", headers=world["sam"].auth)).json()[
        "keep_archived"
    ] is False


async def test_keep_archived_belongs_to_one_organisation(
    server: RunningServer, http: httpx.AsyncClient, world: World, other_world: World
) -> None:
    # Sam of the other organisation joins this one too: one account, two memberships.
    here = await join_by_invitation(
        server.base_url,
        world["admin"],
        other_world["sam"],
        name="Sam Elsewhere",
        role=Role.STAFF,
        slug=world.slug,
    )
    on = await http.patch("/api/v1/me", json={"keep_archived": True}, headers=here.auth)
    assert on.status_code == 204, on.text
    assert (await http.get("/api/v1/me", headers=here.auth)).json()["keep_archived"] is True
    there = (await http.get("/api/v1/me", headers=other_world["sam"].auth)).json()
    assert there["keep_archived"] is False
