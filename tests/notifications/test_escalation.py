"""Unread escalation: a client's (or guardian's) message no staff participant has read
within the organisation's threshold, in working hours, is told to the client's other
care-team staff, then to the admins, once each, and stops when a staff participant
reads or replies. The staff inbox shows since when it waits.

Time is the test's: the sweep (what the periodic job runs every minute) is given the
moment it runs at (careline/kit/clock.py is the default). Thresholds here are at least
an hour, so the server's own minute job, running on the real clock, never reaches them.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import httpx

from careline.db.tx import transaction
from careline.jobs.app import app
from careline.kit import clock
from careline.notifications import escalation
from careline.notifications.escalation_jobs import escalate
from careline.notifications.workhours import Calendar, deadline
from tests.conftest import LogCapture
from tests.messages.test_messages import send
from tests.realtime.test_live import open_care
from tests.support.server import RunningServer
from tests.support.world import World
from tests.support.ws import connect

PATCH = "/api/v1/admin/organisation/settings"
EVERY_DAY = {"time_zone": "UTC", "work_start": "00:00", "work_end": "23:59"}
ALWAYS = Calendar("UTC", dt.time(0), dt.time(23, 59), frozenset(range(1, 8)))
MINUTE = dt.timedelta(minutes=1)


async def turn_on(http: httpx.AsyncClient, world: World, **body: Any) -> None:
    settings = {"escalation_hours": 1, "escalation_admin_hours": 2, **EVERY_DAY}
    settings["work_days"] = [1, 2, 3, 4, 5, 6, 7]
    changed = await http.patch(PATCH, json={**settings, **body}, headers=world["admin"].auth)
    assert changed.status_code == 204, changed.text


async def join_care_team(http: httpx.AsyncClient, world: World, staff: str, client: str) -> None:
    body = {"client_id": str(world[client].account_id), "staff_id": str(world[staff].account_id)}
    added = await http.put(
        "/api/v1/admin/care-relationships", json=body, headers=world["admin"].auth
    )
    assert added.status_code == 200, added.text


async def records(world: World, who: str) -> list[dict[str, Any]]:
    """What the person's own notification records say (as them, under RLS)."""
    async with transaction(world[who].actor, readonly=True) as tx:
        rows = await tx.conn.fetch(
            "SELECT kind, conversation_id, count, first_seq, priority, read_at, push_state,"
            " email_state FROM notifications WHERE account_id = $1 AND kind <> 'message'"
            " ORDER BY created_at",
            world[who].account_id,
        )
    return [dict(r) for r in rows]


async def sweep_at(at: dt.datetime, conversation_id: str) -> list[tuple[str, set[uuid.UUID]]]:
    """Run the sweep at `at`; what it told about this conversation (other tests'
    organisations may have escalations of their own)."""
    told = await escalation.sweep(at)
    return [
        (t.stage, set(t.account_ids)) for t in told if str(t.conversation_id) == conversation_id
    ]


async def waiting_since(http: httpx.AsyncClient, world: World, who: str, cid: str) -> Any:
    got = await http.get(f"/api/v1/conversations/{cid}", headers=world[who].auth)
    assert got.status_code == 200, got.text
    listed = await http.get("/api/v1/conversations", headers=world[who].auth)
    [item] = [c for c in listed.json()["items"] if c["id"] == cid]
    assert item["waiting_since"] == got.json()["waiting_since"]
    return item["waiting_since"]


def at_(message: dict[str, Any]) -> dt.datetime:
    return dt.datetime.fromisoformat(message["created_at"])


async def test_the_care_team_then_the_admins_are_told_once_and_reading_stops_it(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    await turn_on(http, world)
    await join_care_team(http, world, "jo", "lily")  # sam is lily's primary; jo too now
    cid = await open_care(http, world)  # sam and lily
    message = await send(http, world, "lily", cid, "Are you there?")
    team_due = deadline(at_(message), 1, ALWAYS)
    admins_due = deadline(at_(message), 2, ALWAYS)
    jo, admin = world["jo"].account_id, world["admin"].account_id

    async with (
        connect(server.ws_url, world["jo"].token) as jo_ws,
        connect(server.ws_url, world["admin"].token) as admin_ws,
        connect(server.ws_url, world["sam"].token) as sam_ws,
        connect(server.ws_url, world["lily"].token) as lily_ws,
    ):
        assert await sweep_at(team_due - MINUTE, cid) == []
        assert await waiting_since(http, world, "sam", cid) is None

        # Past the first threshold: the client's other care-team staff (not sam, who is
        # in the conversation and has not read it; not the admins yet).
        assert await sweep_at(team_due + MINUTE, cid) == [("team", {jo})]
        live = await jo_ws.next_event("notification.updated")
        assert live["notification"]["kind"] == "escalation"
        assert live["notification"]["conversation_id"] == cid
        assert live["notification"]["first_seq"] == message["seq"]
        assert live["notification"]["priority"] == "high"
        [record] = await records(world, "jo")
        assert (record["kind"], record["count"], record["push_state"]) == ("escalation", 1, "due")
        assert await records(world, "sam") == []
        assert await records(world, "admin") == []
        # The staff inbox shows since when it waits, live; clients never see it.
        waiting = await sam_ws.next_event("conversation.waiting")
        assert waiting["conversation_id"] == cid
        assert dt.datetime.fromisoformat(waiting["waiting_since"]) == at_(message)
        since = await waiting_since(http, world, "sam", cid)
        assert dt.datetime.fromisoformat(since) == at_(message)
        assert await waiting_since(http, world, "lily", cid) is None
        await lily_ws.assert_no_event("conversation.waiting")

        # Never twice for the same message and stage, however often the sweep runs.
        assert await sweep_at(team_due + 2 * MINUTE, cid) == []
        assert (await records(world, "jo"))[0]["count"] == 1

        # Still unread past the second threshold: the organisation's admins.
        assert await sweep_at(admins_due + MINUTE, cid) == [("admins", {admin})]
        live = await admin_ws.next_event("notification.updated")
        assert live["notification"]["kind"] == "escalation.admin"
        assert [r["kind"] for r in await records(world, "admin")] == ["escalation.admin"]
        assert await sweep_at(admins_due + 2 * MINUTE, cid) == []

        # Sam reads it: every escalation notice of it is read (and what was still due
        # outside the app cancelled), on the devices of those told, and it waits no more.
        read = await http.post(
            f"/api/v1/conversations/{cid}/receipt",
            json={"read_seq": message["seq"]},
            headers=world["sam"].auth,
        )
        assert read.status_code == 200, read.text
        await jo_ws.next_event("notification.read")
        await admin_ws.next_event("notification.read")
        waiting = await sam_ws.next_event("conversation.waiting")
        assert (waiting["conversation_id"], waiting["waiting_since"]) == (cid, None)
    for who in ("jo", "admin"):
        [record] = await records(world, who)
        assert record["read_at"] is not None
        assert (record["push_state"], record["email_state"]) == ("cancelled", "cancelled")
    assert await waiting_since(http, world, "sam", cid) is None
    assert await sweep_at(admins_due + dt.timedelta(days=3), cid) == []


async def test_a_staff_reply_ends_it_before_the_admins_hear(
    http: httpx.AsyncClient, world: World
) -> None:
    await turn_on(http, world)
    await join_care_team(http, world, "jo", "lily")
    cid = await open_care(http, world)
    message = await send(http, world, "lily", cid, "Can I change my appointment?")
    assert await sweep_at(deadline(at_(message), 1, ALWAYS) + MINUTE, cid) == [
        ("team", {world["jo"].account_id})
    ]
    await send(http, world, "sam", cid, "Yes, of course")  # sending is reading
    [record] = await records(world, "jo")
    assert record["read_at"] is not None
    assert await waiting_since(http, world, "sam", cid) is None
    assert await sweep_at(deadline(at_(message), 2, ALWAYS) + MINUTE, cid) == []
    assert await records(world, "admin") == []


async def test_a_new_message_after_staff_read_starts_a_new_wait(
    http: httpx.AsyncClient, world: World
) -> None:
    await turn_on(http, world)
    await join_care_team(http, world, "jo", "lily")
    cid = await open_care(http, world)
    first = await send(http, world, "lily", cid, "Hello")
    assert await sweep_at(deadline(at_(first), 1, ALWAYS) + MINUTE, cid) != []
    # A second message while the first still waits changes nothing: it waits since the first.
    await send(http, world, "lily", cid, "Hello again")
    assert await sweep_at(deadline(at_(first), 1, ALWAYS) + 2 * MINUTE, cid) == []
    read = await http.post(
        f"/api/v1/conversations/{cid}/receipt",
        json={"read_seq": first["seq"] + 1},
        headers=world["sam"].auth,
    )
    assert read.status_code == 200, read.text
    later = await send(http, world, "lily", cid, "One more thing")
    assert await sweep_at(deadline(at_(later), 1, ALWAYS) - MINUTE, cid) == []
    assert await sweep_at(deadline(at_(later), 1, ALWAYS) + MINUTE, cid) == [
        ("team", {world["jo"].account_id})
    ]
    since = await waiting_since(http, world, "sam", cid)
    assert dt.datetime.fromisoformat(since) == at_(later)


async def test_a_guardians_message_is_escalated_to_the_clients_care_team(
    http: httpx.AsyncClient, world: World
) -> None:
    await turn_on(http, world, escalation_admin_hours=None)
    await join_care_team(http, world, "jo", "lily")
    cid = await open_care(http, world)  # grace, lily's guardian, is in lily's conversations
    listed = await http.get(f"/api/v1/conversations/{cid}", headers=world["grace"].auth)
    assert listed.status_code == 200, listed.text
    message = await send(http, world, "grace", cid, "Lily is unwell today")
    assert await sweep_at(deadline(at_(message), 1, ALWAYS) + MINUTE, cid) == [
        ("team", {world["jo"].account_id})
    ]
    # No admin threshold: the admins are never told.
    assert await sweep_at(at_(message) + dt.timedelta(days=30), cid) == []


async def test_only_messages_from_clients_and_guardians_wait(
    http: httpx.AsyncClient, world: World
) -> None:
    await turn_on(http, world)
    await join_care_team(http, world, "jo", "lily")
    cid = await open_care(http, world)
    message = await send(http, world, "sam", cid, "How are you feeling?")
    assert await sweep_at(at_(message) + dt.timedelta(days=30), cid) == []


async def test_off_by_default_and_when_turned_off(http: httpx.AsyncClient, world: World) -> None:
    await join_care_team(http, world, "jo", "lily")
    cid = await open_care(http, world)
    message = await send(http, world, "lily", cid, "Anyone?")
    later = at_(message) + dt.timedelta(days=30)
    assert await sweep_at(later, cid) == []
    await turn_on(http, world)
    off = await http.patch(PATCH, json={"escalation_hours": None}, headers=world["admin"].auth)
    assert off.status_code == 204, off.text
    assert await sweep_at(later, cid) == []
    assert await records(world, "jo") == []


async def test_days_off_and_hours_outside_work_do_not_count(
    http: httpx.AsyncClient, world: World
) -> None:
    # Working only on the one weekday that is two days from today (UTC), 09:00-10:00.
    today = clock.now().date()
    workday = (today + dt.timedelta(days=2)).isoweekday()
    await turn_on(
        http,
        world,
        escalation_admin_hours=None,
        work_start="09:00",
        work_end="10:00",
        work_days=[workday],
    )
    await join_care_team(http, world, "jo", "lily")
    cid = await open_care(http, world)
    await send(http, world, "lily", cid, "Hello?")
    opens = dt.datetime.combine(today + dt.timedelta(days=2), dt.time(9), tzinfo=dt.UTC)
    # A day and more of wall time, but no working time yet.
    assert await sweep_at(opens - MINUTE, cid) == []
    assert await sweep_at(opens + dt.timedelta(minutes=59), cid) == []
    assert await sweep_at(opens + dt.timedelta(minutes=61), cid) == [
        ("team", {world["jo"].account_id})
    ]


async def test_an_escalation_says_nothing_of_the_text_or_the_people(
    server: RunningServer, http: httpx.AsyncClient, world: World, log_capture: LogCapture
) -> None:
    marker = f"diagnosis-{uuid.uuid4().hex}"
    name = f"Name {uuid.uuid4().hex[:12]}"
    await turn_on(http, world)
    await join_care_team(http, world, "jo", "lily")
    renamed = await http.patch(
        "/api/v1/me", json={"display_name": name}, headers=world["lily"].auth
    )
    assert renamed.status_code == 204, renamed.text
    cid = await open_care(http, world)
    start = len(log_capture.lines)
    message = await send(http, world, "lily", cid, marker)
    async with connect(server.ws_url, world["jo"].token) as jo_ws:
        assert await sweep_at(deadline(at_(message), 2, ALWAYS) + MINUTE, cid) != []
        frame = await jo_ws.next_event("notification.updated")
    told = json.dumps(frame)
    assert marker not in told
    assert name not in told
    assert set(frame["notification"]) <= {
        "id", "kind", "conversation_id", "object_id", "count", "first_seq", "last_seq",
        "priority", "created_at", "updated_at", "read_at",
    }  # fmt: skip
    lines = log_capture.lines[start:]
    assert any("escalations told" in line for line in lines)
    assert [line for line in lines if marker in line or name in line] == []


def test_the_queue_runs_the_sweep_every_minute() -> None:
    app.perform_import_paths()  # type: ignore[no-untyped-call]
    periodic = {task.task.name: task.cron for task in app.periodic_registry.periodic_tasks.values()}
    assert periodic["notifications.escalate"] == "* * * * *"


async def test_the_job_sweeps_on_the_clock(http: httpx.AsyncClient, world: World) -> None:
    # What the queue calls: a sweep at the clock's now; a message just written is not due.
    await turn_on(http, world)
    await join_care_team(http, world, "jo", "lily")
    cid = await open_care(http, world)
    await send(http, world, "lily", cid, "Just now")
    await escalate(timestamp=int(clock.now().timestamp()))
    assert await records(world, "jo") == []
