"""What the audit records of access to clinical data: exactly one event per access, with
its actor, organisation, ids, source address and user agent; none for an access that was
refused or rolled back; no text of anyone's in any event."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx
import pytest

from careline.audit.records import DetailValue
from tests.audit.support import USER_AGENT, all_audit_text, assert_by, audit_events, client
from tests.support import files
from tests.support.clamd import Clamd
from tests.support.server import RunningServer
from tests.support.world import Persona, World
from tests.support.ws import connect


@dataclass
class Access:
    """What a test did, and the one event it expects for it."""

    who: Persona
    action: str
    conversation_id: uuid.UUID
    object_id: uuid.UUID | None = None
    detail: dict[str, DetailValue] = field(default_factory=dict)


async def _open_care(http: httpx.AsyncClient, world: World) -> str:
    response = await http.post(
        "/api/v1/conversations",
        json={"kind": "care", "client_id": str(world["lily"].account_id)},
        headers=world["sam"].auth,
    )
    assert response.status_code in (200, 201), response.text
    conversation_id: str = response.json()["id"]
    return conversation_id


async def _send(http: httpx.AsyncClient, who: Persona, conversation_id: str, text: str) -> str:
    response = await http.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        json={"client_msg_id": uuid.uuid4().hex, "text": text},
        headers=who.auth,
    )
    assert response.status_code == 201, response.text
    message_id: str = response.json()["id"]
    return message_id


async def _shared_photo(http: httpx.AsyncClient, world: World, conversation_id: str) -> str:
    sam = world["sam"]
    uploaded = await files.upload(http, sam, conversation_id, "photo.jpg", files.photo_with_gps())
    assert uploaded.status_code == 201, uploaded.text
    attachment_id: str = uploaded.json()["id"]
    assert (await files.wait_state(http, sam, attachment_id))["state"] == "available"
    sent = await files.send_with(http, sam, conversation_id, [attachment_id])
    assert sent.status_code == 201, sent.text
    return attachment_id


async def _links(http: httpx.AsyncClient, who: Persona, attachment_id: str) -> dict[str, str]:
    response = await http.get(f"/api/v1/attachments/{attachment_id}", headers=who.auth)
    assert response.status_code == 200, response.text
    links: dict[str, str] = response.json()["links"]
    return links


Run = Callable[[RunningServer, httpx.AsyncClient, World], Awaitable[Access]]


async def history_page(server: RunningServer, http: httpx.AsyncClient, world: World) -> Access:
    conversation_id = await _open_care(http, world)
    await _send(http, world["sam"], conversation_id, "one")
    await _send(http, world["lily"], conversation_id, "two")
    lily = world["lily"]
    page = await http.get(f"/api/v1/conversations/{conversation_id}/messages", headers=lily.auth)
    assert page.status_code == 200, page.text
    return Access(
        lily, "conversation.history_read", uuid.UUID(conversation_id), detail={"count": 2}
    )


async def older_history_page(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> Access:
    conversation_id = await _open_care(http, world)
    for text in ("one", "two", "three"):
        await _send(http, world["sam"], conversation_id, text)
    grace = world["grace"]
    first = await http.get(
        f"/api/v1/conversations/{conversation_id}/messages",
        params={"limit": 2, "before_seq": 1000},
        headers=grace.auth,
    )
    assert first.status_code == 200, first.text
    assert len(first.json()["items"]) == 2
    return Access(
        grace,
        "conversation.history_read",
        uuid.UUID(conversation_id),
        detail={"count": 2, "before_seq": 1000},
    )


async def timeline_page(server: RunningServer, http: httpx.AsyncClient, world: World) -> Access:
    conversation_id = await _open_care(http, world)
    await _send(http, world["lily"], conversation_id, "one")
    sam = world["sam"]
    page = await http.get(f"/api/v1/conversations/{conversation_id}/events", headers=sam.auth)
    assert page.status_code == 200, page.text
    return Access(
        sam,
        "conversation.history_read",
        uuid.UUID(conversation_id),
        detail={"after_seq": 0, "count": 1},
    )


async def resume_replay(server: RunningServer, http: httpx.AsyncClient, world: World) -> Access:
    conversation_id = await _open_care(http, world)
    await _send(http, world["lily"], conversation_id, "one")
    await _send(http, world["lily"], conversation_id, "two")
    sam = world["sam"]
    async with connect(
        server.ws_url,
        sam.token,
        resume={conversation_id: 0},
        user_agent_header=USER_AGENT,
    ) as ws:
        assert ws.resumed["conversations"][conversation_id]["status"] == "ok"
        sent = [e for e in ws.events if e["op"] == "message.sent"]
        assert len(sent) == 2
    return Access(
        sam,
        "conversation.caught_up",
        uuid.UUID(conversation_id),
        detail={"after_seq": 0, "count": 2},
    )


async def one_message(server: RunningServer, http: httpx.AsyncClient, world: World) -> Access:
    conversation_id = await _open_care(http, world)
    message_id = await _send(http, world["lily"], conversation_id, "one")
    sam = world["sam"]
    found = await http.get(f"/api/v1/messages/{message_id}", headers=sam.auth)
    assert found.status_code == 200, found.text
    return Access(sam, "message.read", uuid.UUID(conversation_id), uuid.UUID(message_id))


async def revisions(server: RunningServer, http: httpx.AsyncClient, world: World) -> Access:
    conversation_id = await _open_care(http, world)
    sam = world["sam"]
    message_id = await _send(http, sam, conversation_id, "first")
    edited = await http.patch(
        f"/api/v1/messages/{message_id}", json={"text": "second"}, headers=sam.auth
    )
    assert edited.status_code == 200, edited.text
    found = await http.get(f"/api/v1/messages/{message_id}/revisions", headers=sam.auth)
    assert found.status_code == 200, found.text
    return Access(
        sam,
        "message.revisions_read",
        uuid.UUID(conversation_id),
        uuid.UUID(message_id),
        detail={"count": 2},
    )


async def download(server: RunningServer, http: httpx.AsyncClient, world: World) -> Access:
    conversation_id = await _open_care(http, world)
    attachment_id = await _shared_photo(http, world, conversation_id)
    lily = world["lily"]
    got = await http.get((await _links(http, lily, attachment_id))["original"], headers=lily.auth)
    assert got.status_code == 200, got.text
    return Access(
        lily, "attachment.downloaded", uuid.UUID(conversation_id), uuid.UUID(attachment_id)
    )


async def preview(server: RunningServer, http: httpx.AsyncClient, world: World) -> Access:
    conversation_id = await _open_care(http, world)
    attachment_id = await _shared_photo(http, world, conversation_id)
    grace = world["grace"]
    got = await http.get((await _links(http, grace, attachment_id))["preview"], headers=grace.auth)
    assert got.status_code == 200, got.text
    return Access(
        grace,
        "attachment.previewed",
        uuid.UUID(conversation_id),
        uuid.UUID(attachment_id),
        detail={"variant": "preview"},
    )


async def thumbnail(server: RunningServer, http: httpx.AsyncClient, world: World) -> Access:
    conversation_id = await _open_care(http, world)
    attachment_id = await _shared_photo(http, world, conversation_id)
    sam = world["sam"]
    got = await http.get((await _links(http, sam, attachment_id))["thumb"], headers=sam.auth)
    assert got.status_code == 200, got.text
    return Access(
        sam,
        "attachment.previewed",
        uuid.UUID(conversation_id),
        uuid.UUID(attachment_id),
        detail={"variant": "thumb"},
    )


ACCESSES: dict[str, Run] = {
    "history page": history_page,
    "older history page": older_history_page,
    "timeline page": timeline_page,
    "resume replay": resume_replay,
    "one message": one_message,
    "revisions": revisions,
    "download": download,
    "preview": preview,
    "thumbnail": thumbnail,
}


@pytest.mark.parametrize("kind", list(ACCESSES))
async def test_each_access_records_exactly_one_event(
    kind: str, server: RunningServer, world: World, other_world: World, clamd: Clamd
) -> None:
    async with client(server.base_url) as http:
        access = await ACCESSES[kind](server, http, world)
    (event,) = await audit_events(world.tenant_id)
    assert_by(event, access.who)
    assert event["action"] == access.action
    assert event["conversation_id"] == access.conversation_id
    assert event["object_id"] == access.object_id
    assert event["subject_account_id"] is None
    assert event["detail"] == access.detail
    assert event["reason_ct"] is None
    assert await audit_events(other_world.tenant_id) == []


Refusal = Callable[[RunningServer, httpx.AsyncClient, World, World], Awaitable[None]]


async def outsider_reads_history(
    server: RunningServer, http: httpx.AsyncClient, world: World, other: World
) -> None:
    conversation_id = await _open_care(http, world)
    await _send(http, world["sam"], conversation_id, "one")
    for who in (world["jo"], world["tom"], world["admin"], other["sam"], other["admin"]):
        for path in ("messages", "events"):
            page = await http.get(
                f"/api/v1/conversations/{conversation_id}/{path}", headers=who.auth
            )
            assert page.status_code == 404, page.text


async def outsider_reads_a_message(
    server: RunningServer, http: httpx.AsyncClient, world: World, other: World
) -> None:
    conversation_id = await _open_care(http, world)
    message_id = await _send(http, world["sam"], conversation_id, "one")
    for who in (world["jo"], other["sam"], other["admin"]):
        for path in ("", "/revisions"):
            found = await http.get(f"/api/v1/messages/{message_id}{path}", headers=who.auth)
            assert found.status_code == 404, found.text
    # A participant who is not staff is refused the revisions too.
    refused = await http.get(f"/api/v1/messages/{message_id}/revisions", headers=world["lily"].auth)
    assert refused.status_code == 403, refused.text


async def outsider_downloads(
    server: RunningServer, http: httpx.AsyncClient, world: World, other: World
) -> None:
    conversation_id = await _open_care(http, world)
    attachment_id = await _shared_photo(http, world, conversation_id)
    links = await _links(http, world["lily"], attachment_id)
    for who in (world["jo"], world["sam"], other["sam"]):
        # Someone else's link: refused, even for a participant.
        stolen = await http.get(links["original"], headers=who.auth)
        assert stolen.status_code == 403, stolen.text
    forged = links["original"].replace("sig=", "sig=x")
    assert (await http.get(forged, headers=world["lily"].auth)).status_code == 403
    # And a person outside the conversation cannot get a link of their own.
    assert (
        await http.get(f"/api/v1/attachments/{attachment_id}", headers=world["jo"].auth)
    ).status_code == 404


async def outsider_resumes(
    server: RunningServer, http: httpx.AsyncClient, world: World, other: World
) -> None:
    conversation_id = await _open_care(http, world)
    await _send(http, world["sam"], conversation_id, "one")
    for who in (world["jo"], other["sam"]):
        async with connect(server.ws_url, who.token, resume={conversation_id: 0}) as ws:
            assert ws.resumed["conversations"][conversation_id]["status"] == "not_found"
            assert not [e for e in ws.events if e["op"] == "message.sent"]


REFUSALS: dict[str, Refusal] = {
    "history": outsider_reads_history,
    "message and revisions": outsider_reads_a_message,
    "download": outsider_downloads,
    "resume": outsider_resumes,
}


@pytest.mark.parametrize("kind", list(REFUSALS))
async def test_a_refused_access_records_nothing(
    kind: str, server: RunningServer, world: World, other_world: World, clamd: Clamd
) -> None:
    async with client(server.base_url) as http:
        await REFUSALS[kind](server, http, world, other_world)
    assert await audit_events(world.tenant_id) == []
    assert await audit_events(other_world.tenant_id) == []


async def test_a_download_that_rolls_back_records_nothing(
    server: RunningServer, world: World, clamd: Clamd
) -> None:
    """The link and the person check out, then the range asked for is outside the file:
    the access fails inside its transaction, and its audit entry goes with it."""
    async with client(server.base_url) as http:
        conversation_id = await _open_care(http, world)
        attachment_id = await _shared_photo(http, world, conversation_id)
        lily = world["lily"]
        url = (await _links(http, lily, attachment_id))["original"]
        refused = await http.get(url, headers={**lily.auth, "range": "bytes=999999999-"})
        assert refused.status_code == 416, refused.text
        assert await audit_events(world.tenant_id) == []
        ranged = await http.get(url, headers={**lily.auth, "range": "bytes=0-9"})
        assert ranged.status_code == 206, ranged.text
    (event,) = await audit_events(world.tenant_id)
    assert event["action"] == "attachment.downloaded"


async def test_live_delivery_and_the_inbox_record_nothing(
    server: RunningServer, world: World
) -> None:
    """A message reaching an open socket as it is sent, and the conversation list, are
    not history reads (docs/audit.md says why)."""
    async with client(server.base_url) as http:
        conversation_id = await _open_care(http, world)
        sam = world["sam"]
        async with connect(server.ws_url, sam.token) as ws:
            await _send(http, world["lily"], conversation_id, "one")
            await ws.next_event("message.sent")
        listed = await http.get("/api/v1/conversations", headers=sam.auth)
        assert listed.status_code == 200, listed.text
        empty = await http.get(
            f"/api/v1/conversations/{conversation_id}/events",
            params={"after_seq": listed.json()["items"][0]["last_seq"]},
            headers=sam.auth,
        )
        assert empty.status_code == 200, empty.text
    assert await audit_events(world.tenant_id) == []


async def test_no_text_or_name_in_any_event(
    server: RunningServer, world: World, clamd: Clamd
) -> None:
    marker = f"audit-marker-{uuid.uuid4().hex}"
    async with client(server.base_url) as http:
        conversation_id = await _open_care(http, world)
        sam, lily = world["sam"], world["lily"]
        message_id = await _send(http, sam, conversation_id, f"{marker} first")
        edited = await http.patch(
            f"/api/v1/messages/{message_id}", json={"text": f"{marker} second"}, headers=sam.auth
        )
        assert edited.status_code == 200, edited.text
        uploaded = await files.upload(
            http, sam, conversation_id, f"{marker}.jpg", files.photo_with_gps()
        )
        attachment_id = uploaded.json()["id"]
        assert (await files.wait_state(http, sam, attachment_id))["state"] == "available"
        sent = await files.send_with(http, sam, conversation_id, [attachment_id], text=marker)
        assert sent.status_code == 201, sent.text
        for path in (
            f"/api/v1/conversations/{conversation_id}/messages",
            f"/api/v1/conversations/{conversation_id}/events",
            f"/api/v1/messages/{message_id}",
            f"/api/v1/messages/{message_id}/revisions",
        ):
            assert (await http.get(path, headers=sam.auth)).status_code == 200
        for url in (await _links(http, lily, attachment_id)).values():
            assert (await http.get(url, headers=lily.auth)).status_code == 200
        async with connect(server.ws_url, lily.token, resume={conversation_id: 0}):
            pass
    actions = {e["action"] for e in await audit_events(world.tenant_id)}
    assert actions == {
        "conversation.history_read",
        "conversation.caught_up",
        "message.read",
        "message.revisions_read",
        "attachment.downloaded",
        "attachment.previewed",
    }
    text = await all_audit_text()
    for secret in (marker, "first", "second", sam.name, lily.name, sam.email, lily.email):
        assert secret not in text
