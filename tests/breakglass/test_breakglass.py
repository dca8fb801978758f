"""Emergency intervention through the API and the socket: freeze stops every change
with `conversation_frozen` and participants see why; staff see the timeline entries and
clients do not; read-only access reads, then ends at its expiry; other admins are told;
each step is audited with its reason encrypted."""

from __future__ import annotations

import datetime as dt
import uuid
from urllib.parse import quote

import httpx
import pytest

from careline.breakglass.jobs import note_expired
from careline.db.tx import transaction
from careline.jobs.app import app
from careline.kit import clock, limits
from tests.breakglass.support import (
    BASE,
    audit_rows,
    event_types,
    intervene,
    second_admin,
    send,
)
from tests.realtime.test_live import open_care
from tests.support.bulk import owner
from tests.support.files import upload
from tests.support.server import RunningServer
from tests.support.world import World
from tests.support.ws import WsError, connect

REASON = "safeguarding concern"


@pytest.mark.parametrize("reason", [None, "", "   ", "x" * 501])
async def test_every_step_needs_a_reason(
    http: httpx.AsyncClient, world: World, reason: str | None
) -> None:
    conversation = await open_care(http, world)
    expected = "reason_too_long" if reason and reason.strip() else "reason_required"
    for path in ("freeze", "access", f"participants/{world['grace'].account_id}/remove"):
        response = await intervene(http, world, f"{conversation}/{path}", reason)
        assert (response.status_code, response.json()["code"]) == (422, expected), path
    # Nothing changed: the conversation takes messages, grace is still in it.
    assert (await send(http, world["lily"], conversation)).status_code == 201
    assert (
        await http.get(f"/api/v1/conversations/{conversation}", headers=world["grace"].auth)
    ).status_code == 200


async def test_a_frozen_conversation_refuses_every_change_over_rest_and_the_socket(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    conversation = await open_care(http, world)
    message = (await send(http, world["sam"], conversation)).json()["id"]
    frozen = await intervene(http, world, f"{conversation}/freeze", REASON)
    assert frozen.status_code == 200, frozen.text
    again = await intervene(http, world, f"{conversation}/freeze", REASON)
    assert (again.status_code, again.json()["code"]) == (409, "already_frozen")

    for who in ("sam", "lily", "grace"):
        refused = await send(http, world[who], conversation)
        assert (refused.status_code, refused.json()["code"]) == (409, "conversation_frozen"), who
    auth = world["sam"].auth
    edit = await http.patch(f"/api/v1/messages/{message}", json={"text": "new"}, headers=auth)
    assert (edit.status_code, edit.json()["code"]) == (409, "conversation_frozen")
    delete = await http.delete(f"/api/v1/messages/{message}", headers=auth)
    assert (delete.status_code, delete.json()["code"]) == (409, "conversation_frozen")
    react = await http.put(
        f"/api/v1/messages/{message}/reactions/{quote('👍')}", headers=world["lily"].auth
    )
    assert (react.status_code, react.json()["code"]) == (409, "conversation_frozen")
    uploaded = await upload(http, world["lily"], conversation, "notes.txt", b"plain notes")
    assert (uploaded.status_code, uploaded.json()["code"]) == (409, "conversation_frozen")
    async with connect(server.ws_url, world["lily"].token) as lily:
        with pytest.raises(WsError) as refused_ws:
            await lily.request(
                "message.send", conversation_id=conversation, client_msg_id="ws-1", text="hi"
            )
        assert refused_ws.value.code == "conversation_frozen"

    # Participants see that it is paused, and why.
    for who in ("sam", "lily", "grace"):
        seen = await http.get(f"/api/v1/conversations/{conversation}", headers=world[who].auth)
        assert seen.json()["frozen"]["reason"] == REASON, who
    history = await http.get(f"/api/v1/conversations/{conversation}/messages", headers=auth)
    assert [m["text"] for m in history.json()["items"]] == ["hello"]

    assert (await intervene(http, world, f"{conversation}/unfreeze", "resolved")).status_code == 200
    assert (await send(http, world["lily"], conversation)).status_code == 201
    seen = await http.get(f"/api/v1/conversations/{conversation}", headers=world["lily"].auth)
    assert seen.json()["frozen"] is None
    not_frozen = await intervene(http, world, f"{conversation}/unfreeze", "again")
    assert (not_frozen.status_code, not_frozen.json()["code"]) == (409, "not_frozen")


async def test_staff_see_the_intervention_on_the_timeline_and_clients_do_not(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    conversation = await open_care(http, world)
    async with (
        connect(server.ws_url, world["sam"].token) as sam,
        connect(server.ws_url, world["lily"].token) as lily,
    ):
        assert (await intervene(http, world, f"{conversation}/freeze", REASON)).status_code == 200
        await sam.next_event("conversation.frozen")
        # Both sides are told to look again at the conversation (the banner).
        await lily.next_event("conversation.frozen_changed")
        await intervene(http, world, f"{conversation}/unfreeze", "resolved")
        sent = await send(http, world["sam"], conversation, "after the pause")
        seq = sent.json()["seq"]
        # lily's socket steps over the two entries she may not read and gets the message.
        got = await lily.next_event("message.sent")
        assert got["seq"] == seq
        assert not [
            f
            for f in lily.events
            if f["op"].startswith("conversation.") and f["op"] != "conversation.frozen_changed"
        ]
    staff = await event_types(http, world["sam"], conversation)
    client = await event_types(http, world["lily"], conversation)
    assert {"conversation.frozen", "conversation.unfrozen"} <= set(staff)
    assert "conversation.frozen" not in client
    assert "conversation.unfrozen" not in client
    assert "message.sent" in client
    # The REST catch-up moves past the hidden entries to the end.
    page = await http.get(
        f"/api/v1/conversations/{conversation}/events",
        params={"after_seq": seq - 3, "limit": 2},
        headers=world["lily"].auth,
    )
    assert page.json()["next_after_seq"] == seq - 1, page.json()
    # Resuming from before the entries: status ok, the message replayed, nothing hidden.
    async with connect(server.ws_url, world["grace"].token, resume={conversation: 1}) as grace:
        assert grace.resumed["conversations"][conversation]["status"] == "ok"
        replayed = await grace.next_event("message.sent")
        assert replayed["seq"] == seq
        assert not [f for f in grace.events if f["op"] == "conversation.frozen"]


async def test_readonly_access_reads_the_history_and_ends_at_its_expiry(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    conversation = await open_care(http, world)
    await send(http, world["lily"], conversation, "a private worry")
    admin = world["admin"].auth
    url = f"{BASE}/{conversation}/messages"
    assert (await http.get(url, headers=admin)).status_code == 404
    opened = await http.post(
        f"{BASE}/{conversation}/access", json={"reason": REASON, "hours": 2}, headers=admin
    )
    assert opened.status_code == 201, opened.text
    expires = dt.datetime.fromisoformat(opened.json()["expires_at"])
    assert dt.timedelta(hours=1, minutes=59) < expires - clock.now() <= dt.timedelta(hours=2)
    read = await http.get(url, headers=admin)
    assert read.status_code == 200, read.text
    assert [m["text"] for m in read.json()["items"]] == ["a private worry"]
    # Read-only: the admin cannot send, and the regular thread is not theirs.
    assert (await send(http, world["admin"], conversation)).status_code == 404
    twice = await http.post(f"{BASE}/{conversation}/access", json={"reason": REASON}, headers=admin)
    assert (twice.status_code, twice.json()["code"]) == (409, "access_open")
    assert "access.granted" in await event_types(http, world["sam"], conversation)

    # Time passes to the expiry: the database's own check ends the access then.
    conn = await owner(server)
    try:
        await conn.execute(
            "UPDATE access_grants SET expires_at = now() - interval '1 second', "
            "granted_at = now() - interval '2 hours' WHERE conversation_id = $1",
            uuid.UUID(conversation),
        )
    finally:
        await conn.close()
    assert (await http.get(url, headers=admin)).status_code == 404
    async with transaction(world["admin"].actor, readonly=True) as tx:
        rows = await tx.conn.fetch(
            "SELECT id FROM messages WHERE conversation_id = $1", uuid.UUID(conversation)
        )
    assert rows == []  # at the SQL level too

    assert await note_expired(now=clock.now()) >= 1
    assert await note_expired(now=clock.now()) == 0  # noted once
    assert "access.expired" in await event_types(http, world["sam"], conversation)
    rows = await audit_rows(server, conversation)
    actions = [r["action"] for r in rows]
    assert actions.count("access.granted") == 1
    assert actions.count("access.expired") == 1
    # The one page the admin read while the access was open (Sam's own reads of the
    # timeline are audited too, as Sam's).
    admins_reads = [
        r
        for r in rows
        if r["action"] == "conversation.history_read"
        and r["actor_account_id"] == world["admin"].account_id
    ]
    assert len(admins_reads) == 1, rows


async def test_an_admin_ends_their_access_early(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    conversation = await open_care(http, world)
    admin = world["admin"].auth
    await http.post(f"{BASE}/{conversation}/access", json={"reason": REASON}, headers=admin)
    assert (await http.get(f"{BASE}/{conversation}/access", headers=admin)).status_code == 200
    assert (await http.delete(f"{BASE}/{conversation}/access", headers=admin)).status_code == 204
    assert (await http.get(f"{BASE}/{conversation}/messages", headers=admin)).status_code == 404
    assert (await http.delete(f"{BASE}/{conversation}/access", headers=admin)).status_code == 404
    assert "access.ended" in await event_types(http, world["sam"], conversation)
    assert "access.ended" in [r["action"] for r in await audit_rows(server, conversation)]


@pytest.mark.parametrize("hours", [0, limits.BREAKGLASS_HOURS_MAX + 1, -3])
async def test_access_lasts_one_to_24_hours(
    http: httpx.AsyncClient, world: World, hours: int
) -> None:
    conversation = await open_care(http, world)
    response = await http.post(
        f"{BASE}/{conversation}/access",
        json={"reason": REASON, "hours": hours},
        headers=world["admin"].auth,
    )
    assert (response.status_code, response.json()["code"]) == (422, "invalid_input")
    assert response.json()["limit"] == limits.BREAKGLASS_HOURS_MAX
    ok = await http.post(
        f"{BASE}/{conversation}/access",
        json={"reason": REASON, "hours": limits.BREAKGLASS_HOURS_MAX},
        headers=world["admin"].auth,
    )
    assert ok.status_code == 201, ok.text


async def test_an_admin_removes_a_participant_who_then_reads_nothing(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    conversation = await open_care(http, world)
    grace = world["grace"]
    removed = await intervene(
        http, world, f"{conversation}/participants/{grace.account_id}/remove", REASON
    )
    assert removed.status_code == 200, removed.text
    gone = await http.get(f"/api/v1/conversations/{conversation}/messages", headers=grace.auth)
    assert gone.status_code == 404
    people = await http.get(f"{BASE}/{conversation}/participants", headers=world["admin"].auth)
    assert str(grace.account_id) not in [p["account_id"] for p in people.json()]
    again = await intervene(
        http, world, f"{conversation}/participants/{grace.account_id}/remove", REASON
    )
    assert again.status_code == 404
    [row] = [
        r for r in await audit_rows(server, conversation) if r["action"] == "participant.removed"
    ]
    assert row["subject_account_id"] == grace.account_id
    assert row["actor_account_id"] == world["admin"].account_id
    assert "participant.removed" in await event_types(http, world["sam"], conversation)
    assert "participant.removed" not in await event_types(http, world["lily"], conversation)


async def test_other_admins_are_told_and_the_audit_keeps_the_reason_encrypted(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    ann = await second_admin(server, world)
    conversation = await open_care(http, world)
    marker = f"marker-{uuid.uuid4().hex}"
    assert (await intervene(http, world, f"{conversation}/freeze", marker)).status_code == 200
    told = await http.get("/api/v1/notifications", headers=ann.auth)
    assert told.status_code == 200, told.text
    kinds = [n["kind"] for n in told.json()["items"]]
    assert "intervention" in kinds
    mine = await http.get("/api/v1/notifications", headers=world["admin"].auth)
    assert "intervention" not in [n["kind"] for n in mine.json()["items"]]
    [row] = [
        r for r in await audit_rows(server, conversation) if r["action"] == "conversation.frozen"
    ]
    assert row["actor_role"] == "admin"
    assert row["reason_ct"] is not None
    conn = await owner(server)
    try:
        for table, column in (
            ("audit_events", "reason_ct"),
            ("conversations", "frozen_reason_ct"),
            ("notifications", "kind"),
        ):
            found = await conn.fetchval(
                f"SELECT count(*) FROM {table} WHERE {column}::text LIKE $1",
                f"%{marker}%",
            )
            assert found == 0, table
    finally:
        await conn.close()


async def test_the_admin_list_shows_the_organisations_conversations_without_titles(
    http: httpx.AsyncClient, world: World, other_world: World
) -> None:
    conversation = await open_care(http, world)
    await intervene(http, world, f"{conversation}/freeze", REASON)
    listed = await http.get(BASE, headers=world["admin"].auth)
    assert listed.status_code == 200, listed.text
    [item] = [i for i in listed.json()["items"] if i["id"] == conversation]
    assert (item["kind"], item["participant_count"], item["participant"]) == ("care", 3, False)
    assert item["frozen_at"] is not None
    assert "title" not in item
    other = await http.get(BASE, headers=other_world["admin"].auth)
    assert conversation not in [i["id"] for i in other.json()["items"]]


def test_the_queue_notes_expiries_every_minute() -> None:
    app.perform_import_paths()  # type: ignore[no-untyped-call]
    periodic = {task.task.name: task.cron for task in app.periodic_registry.periodic_tasks.values()}
    assert periodic["breakglass.expire"] == "* * * * *"


async def test_the_job_notes_an_expiry_the_clock_has_passed(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    ann = await second_admin(server, world)
    conversation = await open_care(http, world)
    opened = await http.post(
        f"{BASE}/{conversation}/access", json={"reason": REASON}, headers=world["admin"].auth
    )
    expires = dt.datetime.fromisoformat(opened.json()["expires_at"])
    # Before the expiry nothing is noted; at it, the grant is.
    await note_expired(now=expires - dt.timedelta(seconds=1))
    assert "access.expired" not in [r["action"] for r in await audit_rows(server, conversation)]
    await note_expired(now=expires)
    [row] = [r for r in await audit_rows(server, conversation) if r["action"] == "access.expired"]
    assert (row["actor_role"], row["subject_account_id"]) == ("system", world["admin"].account_id)
    # The access is over for good: ending it now finds nothing, the other admin was told.
    ended = await http.delete(f"{BASE}/{conversation}/access", headers=world["admin"].auth)
    assert ended.status_code == 404
    told = await http.get("/api/v1/notifications", headers=ann.auth)
    assert [n["kind"] for n in told.json()["items"]].count("intervention") >= 1
