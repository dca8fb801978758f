"""Delivery outside the app, against the records: when each channel is due, what the
job does at that time (read, off, quiet hours, visible), and coalescing into one send."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from careline.db.tx import Actor, transaction
from careline.kit import clock
from tests.notifications.support import (
    delays,
    open_awake,
    record,
    records,
    send,
    set_preferences,
    settle,
    until,
)
from tests.realtime.test_live import open_care
from tests.support.server import RunningServer
from tests.support.world import World
from tests.support.ws import WsError, connect


async def test_ten_messages_in_the_window_make_one_record_sent_once_with_count_10(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    conversation_id = await open_awake(http, world)
    with delays(server, push=1.0, email=1.5):
        await send(http, world, "sam", conversation_id, 10)
        waiting = await record(world, "lily", conversation_id)
        assert (waiting["count"], waiting["push_state"], waiting["push_round"]) == (10, "due", 1)
        done = await settle(world, "lily", conversation_id)
    assert len(await records(world, "lily", conversation_id)) == 1
    assert done["push_round"] == 1  # one send, not one per message
    assert done["push_state"] in ("sent", "off")


async def test_a_visible_open_conversation_suppresses_push_and_email(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    conversation_id = await open_awake(http, world)
    with delays(server):
        async with connect(server.ws_url, world["lily"].token) as lily:
            shown = await lily.request(
                "visibility.set", conversation_id=conversation_id, visible=True
            )
            assert shown == {"conversation_id": conversation_id, "visible": True}
            await send(http, world, "sam", conversation_id)
            done = await settle(world, "lily", conversation_id)
            assert (done["push_state"], done["email_state"]) == ("suppressed", "suppressed")

            # The same page hidden (another tab, the phone locked): no longer looking.
            await lily.request("visibility.set", conversation_id=conversation_id, visible=False)
            await send(http, world, "sam", conversation_id)
            again = await until(
                lambda: record(world, "lily", conversation_id),
                lambda r: r["push_round"] == 2 and r["push_state"] != "due",
            )
            assert again["push_state"] in ("sent", "off")


async def test_a_closed_socket_no_longer_suppresses(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    conversation_id = await open_awake(http, world)
    with delays(server):
        async with connect(server.ws_url, world["lily"].token) as lily:
            await lily.request("visibility.set", conversation_id=conversation_id, visible=True)
        await send(http, world, "sam", conversation_id)
        done = await settle(world, "lily", conversation_id)
    assert "suppressed" not in (done["push_state"], done["email_state"])


async def test_visibility_is_only_for_ones_own_conversations(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    conversation_id = await open_care(http, world, client="tom")
    async with connect(server.ws_url, world["lily"].token) as lily:
        with pytest.raises(WsError) as refused:
            await lily.request("visibility.set", conversation_id=conversation_id, visible=True)
        assert refused.value.code == "not_found"
        with pytest.raises(WsError) as bad:
            await lily.request("visibility.set", conversation_id="nope", visible=True)
        assert bad.value.code == "invalid_input"
        none = await lily.request("visibility.set", conversation_id=None, visible=True)
        assert none == {"conversation_id": None, "visible": True}


async def test_reading_within_the_delay_cancels_push_and_email(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    lilys = await open_awake(http, world)
    toms = await open_awake(http, world, client="tom")
    with delays(server):
        (seq,) = await send(http, world, "sam", lilys)
        await send(http, world, "sam", toms)
        read = await http.post(
            f"/api/v1/conversations/{lilys}/receipt",
            json={"read_seq": seq},
            headers=world["lily"].auth,
        )
        assert read.status_code == 200, read.text
        cancelled = await record(world, "lily", lilys)
        assert (cancelled["push_state"], cancelled["email_state"]) == ("cancelled", "cancelled")
        # Tom's, due at the same times, has been through its jobs: so has Lily's.
        await settle(world, "tom", toms)
    after = await record(world, "lily", lilys)
    assert (after["push_state"], after["email_state"]) == ("cancelled", "cancelled")
    assert after["push_count"] is None


async def test_a_muted_conversation_sends_nothing(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    lilys = await open_awake(http, world)
    toms = await open_awake(http, world, client="tom")
    muted = await http.patch(
        f"/api/v1/conversations/{lilys}/me", json={"muted": True}, headers=world["lily"].auth
    )
    assert muted.status_code == 200, muted.text
    with delays(server):
        await send(http, world, "sam", lilys, 3)
        await send(http, world, "sam", toms)
        await settle(world, "tom", toms)
    assert await records(world, "lily", lilys) == []


async def test_push_turned_off_is_off_and_email_still_comes(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    conversation_id = await open_awake(http, world)
    await set_preferences(world, "lily", push=False)
    with delays(server):
        await send(http, world, "sam", conversation_id)
        done = await settle(world, "lily", conversation_id)
    assert done["push_state"] == "off"
    assert done["email_state"] in ("sent", "off")  # no relay configured here: nowhere


async def test_quiet_hours_hold_what_comes_and_deliver_it_once_after(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    conversation_id = await open_awake(http, world)
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
    with delays(server, push=0.2, email=0.4):
        await send(http, world, "sam", conversation_id, 3)
        held = await until(
            lambda: record(world, "lily", conversation_id),
            lambda r: r["push_due_at"] > now + dt.timedelta(seconds=1),
        )
        # Postponed to the end of the night, still due, in the same round.
        assert held["push_state"] == "due"
        assert abs((held["push_due_at"] - ends).total_seconds()) < 0.01
        assert held["push_round"] == 1
        await send(http, world, "sam", conversation_id, 2)  # joins the held one
        done = await settle(world, "lily", conversation_id)
    assert clock.now() >= ends
    assert (done["count"], done["push_round"]) == (5, 1)
    assert done["push_state"] in ("sent", "off")


async def test_a_notification_for_someone_no_longer_a_member_is_off(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    conversation_id = await open_awake(http, world)
    with delays(server, push=0.5, email=0.5):
        await send(http, world, "sam", conversation_id)
        async with transaction(Actor.system(world.tenant_id)) as tx:
            await tx.conn.execute(
                "UPDATE memberships SET disabled_at = now() WHERE tenant_id = $1 AND account_id = $2",
                world.tenant_id,
                world["lily"].account_id,
            )
        done = await settle(world, "lily", conversation_id)
    assert (done["push_state"], done["email_state"]) == ("off", "off")
