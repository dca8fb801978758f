"""The audit page's API: filters, "who has opened this client's record", paging, the
reason of a break-glass step, and that reading the audit is itself audited."""

from __future__ import annotations

import uuid

import httpx

from careline.db.tx import Actor, transaction
from tests.audit.page_support import AGENT, SOURCE, record
from tests.realtime.test_live import open_care
from tests.support.world import World

URL = "/api/v1/admin/audit"


async def _page(http: httpx.AsyncClient, world: World, **params: str) -> dict:  # type: ignore[type-arg]
    response = await http.get(URL, params=params, headers=world["admin"].auth)
    assert response.status_code == 200, response.text
    body: dict = response.json()  # type: ignore[type-arg]
    return body


def _without_reads(page: dict) -> list[dict]:  # type: ignore[type-arg]
    return [i for i in page["items"] if i["action"] != "audit.read"]


async def test_filters_by_person_conversation_action_category_and_time(
    http: httpx.AsyncClient, world: World
) -> None:
    lily_care = uuid.UUID(await open_care(http, world, "sam", "lily"))
    tom_care = uuid.UUID(await open_care(http, world, "jo", "tom"))
    await record(world["sam"], "conversation.history_read", conversation_id=lily_care)
    await record(world["jo"], "conversation.history_read", conversation_id=tom_care)
    await record(
        world["admin"],
        "member.role_changed",
        subject_account_id=world["tom"].account_id,
        detail={"from_role": "client", "to_role": "staff"},
    )
    await record(world["lily"], "message.revisions_read", conversation_id=lily_care)

    everything = _without_reads(await _page(http, world))
    # Newest first, each with who acted (name and role), where from and the ids.
    assert [i["action"] for i in everything] == [
        "message.revisions_read",
        "member.role_changed",
        "conversation.history_read",
        "conversation.history_read",
    ]
    first = everything[-1]
    assert first["actor_account_id"] == str(world["sam"].account_id)
    assert (first["actor_name"], first["actor_role"]) == ("Sam Clinician", "staff")
    assert first["conversation_id"] == str(lily_care)
    assert (first["source"], first["user_agent"]) == (SOURCE, AGENT)
    assert first["category"] == "access"
    change = everything[1]
    assert change["subject_name"] == "Tom Client"
    assert change["detail"] == {"from_role": "client", "to_role": "staff"}

    by_sam = await _page(http, world, actor_id=str(world["sam"].account_id))
    assert [(i["action"], i["actor_name"]) for i in by_sam["items"]] == [
        ("conversation.history_read", "Sam Clinician")
    ]
    in_tom = await _page(http, world, conversation_id=str(tom_care))
    assert [i["actor_name"] for i in in_tom["items"]] == ["Jo Clinician"]
    reads = await _page(http, world, action="conversation.history_read")
    assert {i["actor_name"] for i in reads["items"]} == {"Sam Clinician", "Jo Clinician"}
    admin = await _page(http, world, category="admin")
    assert [i["action"] for i in admin["items"]] == ["member.role_changed"]
    # since is inclusive, until exclusive.
    at = [i["at"] for i in everything]
    window = await _page(http, world, since=at[2], until=at[0])
    assert [i["action"] for i in _without_reads(window)] == [
        "member.role_changed",
        "conversation.history_read",
    ]


async def test_pages_follow_the_cursor_newest_first(http: httpx.AsyncClient, world: World) -> None:
    care = uuid.UUID(await open_care(http, world))
    for _ in range(5):
        await record(world["sam"], "conversation.history_read", conversation_id=care)
    seen: list[str] = []
    params = {"action": "conversation.history_read", "limit": "2"}
    while True:
        page = await _page(http, world, **params)
        seen += [i["id"] for i in page["items"]]
        if not page["next_cursor"]:
            break
        params["cursor"] = page["next_cursor"]
    everything = await _page(http, world, action="conversation.history_read")
    assert seen == [i["id"] for i in everything["items"]]
    assert len(seen) == 5
    ats = [i["at"] for i in everything["items"]]
    assert ats == sorted(ats, reverse=True)


async def test_who_has_opened_this_clients_record(http: httpx.AsyncClient, world: World) -> None:
    lily_care = uuid.UUID(await open_care(http, world, "sam", "lily"))
    tom_care = uuid.UUID(await open_care(http, world, "jo", "tom"))
    lily = world["lily"].account_id
    await record(world["sam"], "conversation.history_read", conversation_id=lily_care)
    await record(world["grace"], "attachment.downloaded", conversation_id=lily_care)
    await record(world["jo"], "conversation.history_read", conversation_id=tom_care)
    # A change about her is in her record; one about someone else is not.
    await record(world["admin"], "care.assigned", subject_account_id=lily, detail={"primary": True})
    await record(world["admin"], "member.disabled", subject_account_id=world["tom"].account_id)
    # Her conversation's admin changes are not opening her record.
    await record(world["admin"], "participant.added", conversation_id=lily_care)

    page = await _page(http, world, client=str(lily))
    assert [(i["action"], i["actor_name"]) for i in _without_reads(page)] == [
        ("care.assigned", "Alex Admin"),
        ("attachment.downloaded", "Grace Guardian"),
        ("conversation.history_read", "Sam Clinician"),
    ]


async def test_the_reason_of_a_break_glass_step_is_shown_to_admins_and_stored_encrypted(
    http: httpx.AsyncClient, world: World
) -> None:
    care = uuid.UUID(await open_care(http, world))
    reason = "Safeguarding concern raised by phone"
    await record(world["admin"], "conversation.frozen", conversation_id=care, reason=reason)
    page = await _page(http, world, category="intervention")
    assert [(i["action"], i["reason"]) for i in page["items"]] == [("conversation.frozen", reason)]
    async with transaction(Actor.system(world.tenant_id)) as tx:
        stored = await tx.conn.fetchval(
            "SELECT reason_ct FROM audit_events WHERE tenant_id = $1 AND action = $2",
            world.tenant_id,
            "conversation.frozen",
        )
    assert reason.encode() not in stored


async def test_every_read_of_the_audit_is_recorded(http: httpx.AsyncClient, world: World) -> None:
    care = uuid.UUID(await open_care(http, world))
    await record(world["sam"], "conversation.history_read", conversation_id=care)
    await _page(http, world, conversation_id=str(care))
    reads = await _page(http, world, action="audit.read")
    [read] = reads["items"]
    assert read["actor_name"] == "Alex Admin"
    assert read["conversation_id"] == str(care)
    assert read["detail"] == {"count": 1}
    # That second read is recorded too, once committed.
    again = await _page(http, world, action="audit.read")
    assert len(again["items"]) == 2


async def test_bad_filters_are_clear_errors(http: httpx.AsyncClient, world: World) -> None:
    for params, code in (
        ({"action": "no.such"}, "invalid_filter"),
        ({"category": "gossip"}, "invalid_filter"),
        ({"since": "2026-12-02T10:00:00Z", "until": "2026-12-01T10:00:00Z"}, "invalid_filter"),
        ({"since": "2026-12-02T10:00:00"}, "invalid_filter"),
        ({"since": "yesterday"}, "invalid_filter"),
        ({"until": "0.5"}, "invalid_filter"),
        ({"until": "2026-13-02T10:00:00Z"}, "invalid_filter"),
        ({"actor_id": "not-an-id"}, "invalid_input"),
        ({"cursor": "bm90IG91cnM"}, "invalid_cursor"),
    ):
        response = await http.get(URL, params=params, headers=world["admin"].auth)
        assert response.status_code == 422, (params, response.text)
        assert response.json()["code"] == code, (params, response.text)
    nobody = await http.get(URL, params={"client": str(uuid.uuid4())}, headers=world["admin"].auth)
    assert nobody.status_code == 404, nobody.text


async def test_real_accesses_show_in_who_has_opened_the_clients_record(
    http: httpx.AsyncClient, world: World
) -> None:
    lily_care = await open_care(http, world, "sam", "lily")
    tom_care = await open_care(http, world, "jo", "tom")
    agent = {"user-agent": "RecordReader/2"}
    for who, conversation in (("sam", lily_care), ("jo", tom_care)):
        read = await http.get(
            f"/api/v1/conversations/{conversation}/messages",
            headers={**world[who].auth, **agent},
        )
        assert read.status_code == 200, read.text
    assigned = await http.put(
        "/api/v1/admin/care-relationships",
        json={"client_id": str(world["lily"].account_id), "staff_id": str(world["jo"].account_id)},
        headers=world["admin"].auth,
    )
    assert assigned.status_code in (200, 204), assigned.text

    page = await _page(http, world, client=str(world["lily"].account_id))
    shown = [(i["action"], i["actor_name"]) for i in _without_reads(page)]
    assert ("conversation.history_read", "Sam Clinician") in shown
    assert ("care.assigned", "Alex Admin") in shown
    assert all(name != "Jo Clinician" for _, name in shown), shown
    [sams] = [i for i in page["items"] if i["actor_name"] == "Sam Clinician"]
    assert sams["conversation_id"] == lily_care
    assert (sams["source"], sams["user_agent"]) == ("127.0.0.1", "RecordReader/2")
