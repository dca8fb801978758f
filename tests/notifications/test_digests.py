"""Digests against a real SMTP server: in each person's morning in their own time zone,
daily or weekly, once per period, counts only and one link, and their one-click link
turning off only the digest. The time is passed in (never real time passing)."""

from __future__ import annotations

import datetime as dt
import uuid
from email.message import EmailMessage

import httpx

from careline import config
from careline.db.tx import Actor, transaction
from careline.jobs.app import TASK_MODULES
from careline.notifications import digest_jobs, digests, words
from tests.notifications.test_email import (
    attempts_of,
    leaks,
    own_choices,
    parts,
    raw_header,
    unsubscribe_url,
)
from tests.realtime.test_live import open_care
from tests.support.smtp import SmtpServer
from tests.support.world import World

UTC = dt.UTC
# Monday 4 January 2027; London keeps UTC in winter, New York is five hours behind.
MONDAY = dt.datetime(2027, 1, 4, tzinfo=UTC)


async def say(http: httpx.AsyncClient, world: World, who: str, conversation: str) -> None:
    response = await http.post(
        f"/api/v1/conversations/{conversation}/messages",
        json={"client_msg_id": uuid.uuid4().hex, "text": "zebra-canary-7f3a about my pills"},
        headers=world[who].auth,
    )
    assert response.status_code in (200, 201), response.text


async def choose(world: World, who: str, **values: object) -> None:
    """The person's own choices, as the settings page would store them."""
    names = list(values)
    async with transaction(Actor.system(world.tenant_id)) as tx:
        await tx.conn.execute(
            f"INSERT INTO notification_preferences (tenant_id, account_id, {', '.join(names)})"
            f" VALUES ($1, $2, {', '.join(f'${i + 3}' for i in range(len(names)))})",
            world.tenant_id,
            world[who].account_id,
            *values.values(),
        )


async def run(world: World, at: dt.datetime) -> int:
    return await digests.send_due(now=at, tenant_id=world.tenant_id)


def to(relay: SmtpServer, world: World, who: str) -> list[EmailMessage]:
    return [m for m in relay.inbox.messages if m["To"] == world[who].email]


async def test_a_weekly_digest_comes_on_monday_morning_once_with_counts_and_one_link(
    relay: SmtpServer, http: httpx.AsyncClient, world: World
) -> None:
    care = await open_care(http, world)
    for _ in range(3):
        await say(http, world, "sam", care)
    # lily: a client, weekly by default, in the organisation's zone (Europe/London).
    assert await run(world, MONDAY.replace(hour=7, minute=50)) == 0  # not yet morning
    assert await run(world, MONDAY.replace(hour=8, minute=10)) == 2  # lily and grace
    assert await run(world, MONDAY.replace(hour=9, minute=40)) == 0  # once a period
    [message] = to(relay, world, "lily")
    organisation = f"Org {world.slug}"
    assert message["Subject"] == f"{organisation}: 3 unread messages in 1 conversation"
    assert message["From"].addresses[0].display_name == organisation
    raw = relay.inbox.raw[relay.inbox.messages.index(message)]
    assert raw_header(raw, "List-Unsubscribe") == f"<{unsubscribe_url(message)}>"
    assert raw_header(raw, "List-Unsubscribe-Post") == "List-Unsubscribe=One-Click"
    bodies = parts(message)
    assert set(bodies) == {"text/plain", "text/html"}
    home = words.conversation_link(world.tenant_id, None)
    assert home == f"{config.current().base_url}/?org={world.tenant_id}"
    for body in bodies.values():
        assert "3 unread messages in 1 conversation" in body
        assert "weekly digests" in body
    links = [line for line in bodies["text/plain"].splitlines() if "://" in line]
    assert links == [home, f"Stop these e-mails: {unsubscribe_url(message)}"]
    for raw in relay.inbox.raw:
        assert leaks(raw, world) == []
    # Not on Tuesday; again the next Monday, with what is unread then.
    assert await run(world, MONDAY + dt.timedelta(days=1, hours=8, minutes=30)) == 0
    await say(http, world, "sam", care)
    assert await run(world, MONDAY + dt.timedelta(days=7, hours=8, minutes=30)) == 2
    later = to(relay, world, "lily")[1]
    assert later["Subject"] == f"{organisation}: 4 unread messages in 1 conversation"
    [first, second] = await attempts_of(world, "lily")
    assert (first["channel"], first["outcome"], first["notification_id"]) == (
        "digest",
        "sent",
        None,
    )
    assert second["outcome"] == "sent"


async def test_a_digest_follows_the_persons_own_time_zone(
    relay: SmtpServer, http: httpx.AsyncClient, world: World
) -> None:
    await choose(world, "lily", time_zone="America/New_York")
    care = await open_care(http, world)
    await say(http, world, "sam", care)
    assert await run(world, MONDAY.replace(hour=8, minute=30)) == 1  # grace, in London
    assert to(relay, world, "lily") == []  # 03:30 in New York
    assert await run(world, MONDAY.replace(hour=13, minute=30)) == 1  # 08:30 there
    [message] = to(relay, world, "lily")
    assert message["Subject"].endswith("1 unread message in 1 conversation")


async def test_a_daily_digest_counts_conversations_and_comes_every_morning(
    relay: SmtpServer, http: httpx.AsyncClient, world: World
) -> None:
    # sam is staff: no digest unless chosen (grace, told too, is weekly: Mondays).
    tuesday = MONDAY + dt.timedelta(days=1)
    care = await open_care(http, world)
    await say(http, world, "lily", care)
    await say(http, world, "lily", care)
    assert await run(world, tuesday.replace(hour=8, minute=30)) == 0
    await choose(world, "sam", digest="daily")
    team = await http.post(
        "/api/v1/conversations",
        json={"kind": "team", "member_ids": [str(world["sam"].account_id)], "title": "Rota"},
        headers=world["jo"].auth,
    )
    assert team.status_code in (200, 201), team.text
    await say(http, world, "jo", team.json()["id"])
    for day in (tuesday, tuesday + dt.timedelta(days=1)):
        assert await run(world, day.replace(hour=8, minute=20)) == 1
        assert await run(world, day.replace(hour=11, minute=50)) == 0
        assert await run(world, day.replace(hour=12, minute=10)) == 0  # morning is over
    messages = to(relay, world, "sam")
    assert [m["Subject"] for m in messages] == [
        f"Org {world.slug}: 3 unread messages in 2 conversations"
    ] * 2
    assert "daily digests" in parts(messages[0])["text/plain"]


async def test_nothing_unread_sends_no_digest(
    relay: SmtpServer, http: httpx.AsyncClient, world: World
) -> None:
    care = await open_care(http, world)
    await say(http, world, "sam", care)
    events = await http.get(f"/api/v1/conversations/{care}/messages", headers=world["lily"].auth)
    assert events.status_code == 200, events.text
    read = await http.post(
        f"/api/v1/conversations/{care}/receipt", json={"read_seq": 99}, headers=world["lily"].auth
    )
    assert read.status_code in (200, 204), read.text
    assert await run(world, MONDAY.replace(hour=8, minute=30)) == 1  # grace only
    assert to(relay, world, "lily") == []


async def test_the_digests_one_click_link_turns_off_only_the_digest(
    relay: SmtpServer, http: httpx.AsyncClient, world: World
) -> None:
    care = await open_care(http, world)
    await say(http, world, "sam", care)
    await run(world, MONDAY.replace(hour=8, minute=30))
    [message] = to(relay, world, "lily")
    async with httpx.AsyncClient() as anonymous:
        answer = await anonymous.post(
            unsubscribe_url(message), content=b"List-Unsubscribe=One-Click"
        )
    assert answer.json() == {"unsubscribed": "digest"}
    choices = await own_choices(world, "lily")
    assert (choices["digest"], choices["email"], choices["push"]) == ("off", None, None)
    assert await run(world, MONDAY + dt.timedelta(days=7, hours=8, minutes=30)) == 1  # grace


async def test_a_relay_that_is_down_leaves_the_digest_for_the_next_run(
    relay: SmtpServer, http: httpx.AsyncClient, world: World
) -> None:
    care = await open_care(http, world)
    await say(http, world, "sam", care)
    relay.stop()
    try:
        assert await run(world, MONDAY.replace(hour=8, minute=30)) == 0
    finally:
        relay.start()
    assert await run(world, MONDAY.replace(hour=8, minute=40)) == 2
    outcomes = [(a["outcome"], a["reason"]) for a in await attempts_of(world, "lily")]
    assert outcomes == [("retrying", "smtp_down"), ("sent", None)]


async def test_the_periodic_job_sends_what_was_due_at_its_own_time(
    relay: SmtpServer, http: httpx.AsyncClient, world: World
) -> None:
    assert "careline.notifications.digest_jobs" in TASK_MODULES
    care = await open_care(http, world)
    await say(http, world, "sam", care)
    due = MONDAY.replace(hour=9, minute=0)
    await digest_jobs.send_digests(int(due.timestamp()))
    [message] = to(relay, world, "lily")
    assert message["Subject"].endswith("1 unread message in 1 conversation")
    await digest_jobs.send_digests(int((due + dt.timedelta(minutes=10)).timestamp()))
    assert len(to(relay, world, "lily")) == 1
