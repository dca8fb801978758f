"""Delivery end to end, through the real channels: web push to the local push service
(VAPID-checked and decrypted) and e-mail to a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import asyncio
import datetime as dt

import httpx

from careline import config
from careline.db.tx import Actor, transaction
from careline.kit import clock
from careline.notifications import delivery, email_channel
from tests.notifications.support import (
    delays,
    open_awake,
    record,
    send,
    set_preferences,
    settle,
    until,
)
from tests.push.support import subscribe
from tests.support.pushservice import PushService
from tests.support.server import RunningServer, free_port
from tests.support.smtp import SmtpServer
from tests.support.world import World
from tests.support.ws import connect


def _mail_to(relay: SmtpServer, world: World, who: str) -> int:
    address = world[who].email
    return sum(1 for m in relay.inbox.messages if address in str(m["To"]))


async def test_ten_messages_in_the_window_make_one_push_with_count_10_then_one_email(
    server: RunningServer,
    http: httpx.AsyncClient,
    world: World,
    push_service: PushService,
    relay: SmtpServer,
) -> None:
    conversation_id = await open_awake(http, world)
    browser = await subscribe(http, push_service, world["lily"])
    with delays(server, push=1.0, email=1.5):
        await send(http, world, "sam", conversation_id, 10)
        done = await settle(world, "lily", conversation_id)
        (pushed,) = await push_service.wait_for(browser, 1)
    assert pushed.payload is not None
    assert (pushed.payload["count"], pushed.payload["body"]) == (10, "10 new messages")
    assert pushed.payload["url"].endswith(f"/c/{conversation_id}?org={world.tenant_id}")
    assert (done["push_state"], done["push_count"], done["push_round"]) == ("sent", 10, 1)
    assert done["email_state"] == "sent"
    await relay.inbox.wait_for(1)
    assert _mail_to(relay, world, "lily") == 1
    assert len(push_service.received(browser)) == 1  # one push, not one per message


async def test_a_message_after_the_push_replaces_it_under_the_same_tag(
    server: RunningServer, http: httpx.AsyncClient, world: World, push_service: PushService
) -> None:
    conversation_id = await open_awake(http, world)
    browser = await subscribe(http, push_service, world["lily"])
    with delays(server, push=0.3, email=600):
        await send(http, world, "sam", conversation_id, 2)
        await push_service.wait_for(browser, 1)
        await send(http, world, "sam", conversation_id)
        first, second = [r.payload for r in await push_service.wait_for(browser, 2)]
    assert first is not None
    assert second is not None
    assert (first["count"], second["count"]) == (2, 3)
    assert first["tag"] == second["tag"]  # the device shows one notification, replaced
    # The push service has it a moment before careline records its answer.
    after = await until(
        lambda: record(world, "lily", conversation_id), lambda r: r["push_state"] != "due"
    )
    assert (after["push_state"], after["push_round"], after["push_count"]) == ("sent", 2, 3)


async def test_a_visible_open_conversation_sends_no_push_and_no_email(
    server: RunningServer,
    http: httpx.AsyncClient,
    world: World,
    push_service: PushService,
    relay: SmtpServer,
) -> None:
    lilys = await open_awake(http, world)
    toms = await open_awake(http, world, client="tom")
    lily_browser = await subscribe(http, push_service, world["lily"])
    tom_browser = await subscribe(http, push_service, world["tom"])
    with delays(server):
        async with connect(server.ws_url, world["lily"].token) as lily:
            await lily.request("visibility.set", conversation_id=lilys, visible=True)
            await send(http, world, "sam", lilys)
            await send(http, world, "sam", toms)
            done = await settle(world, "lily", lilys)
            await settle(world, "tom", toms)
    assert (done["push_state"], done["email_state"]) == ("suppressed", "suppressed")
    assert len(await push_service.wait_for(tom_browser, 1)) == 1  # the same delays reached Tom
    await relay.inbox.wait_for(1)
    assert push_service.received(lily_browser) == []
    assert _mail_to(relay, world, "lily") == 0


async def test_reading_within_the_delay_sends_no_push_and_no_email(
    server: RunningServer,
    http: httpx.AsyncClient,
    world: World,
    push_service: PushService,
    relay: SmtpServer,
) -> None:
    lilys = await open_awake(http, world)
    toms = await open_awake(http, world, client="tom")
    lily_browser = await subscribe(http, push_service, world["lily"])
    tom_browser = await subscribe(http, push_service, world["tom"])
    with delays(server, push=0.5, email=0.8):
        (seq,) = await send(http, world, "sam", lilys)
        await send(http, world, "sam", toms)
        read = await http.post(
            f"/api/v1/conversations/{lilys}/receipt",
            json={"read_seq": seq},
            headers=world["lily"].auth,
        )
        assert read.status_code == 200, read.text
        await settle(world, "tom", toms)
    await push_service.wait_for(tom_browser, 1)
    await relay.inbox.wait_for(1)  # Tom's e-mail, due when Lily's would have been
    assert push_service.received(lily_browser) == []
    assert _mail_to(relay, world, "lily") == 0
    cancelled = await record(world, "lily", lilys)
    assert (cancelled["push_state"], cancelled["email_state"]) == ("cancelled", "cancelled")


async def test_a_muted_conversation_sends_nothing(
    server: RunningServer,
    http: httpx.AsyncClient,
    world: World,
    push_service: PushService,
    relay: SmtpServer,
) -> None:
    lilys = await open_awake(http, world)
    toms = await open_awake(http, world, client="tom")
    lily_browser = await subscribe(http, push_service, world["lily"])
    tom_browser = await subscribe(http, push_service, world["tom"])
    muted = await http.patch(
        f"/api/v1/conversations/{lilys}/me", json={"muted": True}, headers=world["lily"].auth
    )
    assert muted.status_code == 200, muted.text
    with delays(server):
        await send(http, world, "sam", lilys, 3)
        await send(http, world, "sam", toms)
        await settle(world, "tom", toms)
    await push_service.wait_for(tom_browser, 1)
    await relay.inbox.wait_for(1)
    assert push_service.received(lily_browser) == []
    assert _mail_to(relay, world, "lily") == 0
    assert await record(world, "lily", lilys) is None


async def test_quiet_hours_hold_the_push_and_deliver_it_once_after_with_the_count(
    server: RunningServer, http: httpx.AsyncClient, world: World, push_service: PushService
) -> None:
    conversation_id = await open_awake(http, world)
    browser = await subscribe(http, push_service, world["lily"])
    now = clock.now()
    ends = now + dt.timedelta(seconds=3)
    await set_preferences(
        world,
        "lily",
        quiet_hours=True,
        quiet_start=(now - dt.timedelta(hours=1)).time(),
        quiet_end=ends.time(),
        time_zone="UTC",
    )
    with delays(server, push=0.2, email=600):
        await send(http, world, "sam", conversation_id, 3)
        await until(
            lambda: record(world, "lily", conversation_id),
            lambda r: r["push_due_at"] > now + dt.timedelta(seconds=1),
        )
        await send(http, world, "sam", conversation_id, 2)
        assert push_service.received(browser) == []  # held through the night
        (pushed,) = await push_service.wait_for(browser, 1, within=20)
    assert clock.now() >= ends
    assert pushed.payload is not None
    assert pushed.payload["count"] == 5
    done = await until(
        lambda: record(world, "lily", conversation_id), lambda r: r["push_state"] != "due"
    )
    assert (done["push_state"], done["push_round"], done["push_count"]) == ("sent", 1, 5)
    assert len(push_service.received(browser)) == 1


async def test_an_smtp_outage_keeps_the_email_due_in_the_same_round_for_later(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    conversation_id = await open_awake(http, world)
    nowhere = {"smtp_host": "127.0.0.1", "smtp_port": free_port(), "smtp_starttls": False}
    config.use(server.settings.model_copy(update=nowhere))
    try:
        with delays(server, push=0.2, email=0.3):
            await send(http, world, "sam", conversation_id)
            retry = dt.timedelta(seconds=email_channel.RETRY_SECONDS)
            # Due again one retry from now (not the send's two-minute lease: it is over).
            later = await until(
                lambda: record(world, "lily", conversation_id),
                lambda r: abs((r["email_due_at"] - (clock.now() + retry)).total_seconds()) < 5,
            )
    finally:
        config.use(server.settings)
    assert (later["email_state"], later["email_round"]) == ("due", 1)


async def test_the_same_send_run_twice_at_once_and_again_later_pushes_once(
    server: RunningServer, http: httpx.AsyncClient, world: World, push_service: PushService
) -> None:
    conversation_id = await open_awake(http, world)
    browser = await subscribe(http, push_service, world["lily"])
    with delays(server, push=600, email=600):  # no timer of the server's own fires
        await send(http, world, "sam", conversation_id, 2)
        row = await record(world, "lily", conversation_id)
        async with transaction(Actor.system(world.tenant_id)) as tx:
            await tx.conn.execute(
                "UPDATE notifications SET push_due_at = now() WHERE id = $1", row["id"]
            )
        due = delivery.Due(row["id"], row["tenant_id"], "push", row["push_round"], clock.now())
        outcomes = await asyncio.gather(delivery.deliver(due), delivery.deliver(due))
        # A retry or a sweep after it has nothing left to do.
        assert await delivery.deliver(due) == "done"
    assert sorted(outcomes) == ["done", "sent"]
    (pushed,) = push_service.delivered(browser)
    assert pushed["count"] == 2
    done = await record(world, "lily", conversation_id)
    assert (done["push_state"], done["push_count"], done["push_round"]) == ("sent", 2, 1)
