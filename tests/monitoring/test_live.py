"""The dashboard live over the socket: a snapshot of the organisation only (its people
connected, its messages per minute, its active conversations), `monitor.updated` every
`monitor_interval_seconds` to the sockets that watch and to no other, the same snapshot
for every watcher of a scope, and nothing more once unsubscribed or closed."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from careline import config
from careline.monitoring import health, live
from tests.monitoring.support import make_operator
from tests.realtime.test_live import open_care
from tests.support.server import RunningServer
from tests.support.world import World, sign_in
from tests.support.ws import WsClient, connect

INTERVAL = 0.2


@pytest.fixture
def quick(server: RunningServer) -> Iterator[None]:
    config.use(server.settings.model_copy(update={"monitor_interval_seconds": INTERVAL}))
    yield
    config.use(server.settings)


async def send(http: httpx.AsyncClient, world: World, conversation: str, n: int) -> None:
    for i in range(n):
        sent = await http.post(
            f"/api/v1/conversations/{conversation}/messages",
            json={"client_msg_id": f"m-{i}", "text": "a private word"},
            headers=world["sam"].auth,
        )
        assert sent.status_code == 201, sent.text


async def updated(ws: WsClient, want: Any = None, *, timeout: float = 10) -> dict[str, Any]:
    """The next snapshot (meeting `want`, when given) the socket is sent."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        left = deadline - asyncio.get_running_loop().time()
        assert left > 0, "no such monitor.updated in time"
        snapshot: dict[str, Any] = (await ws.next_event("monitor.updated", timeout=left))[
            "snapshot"
        ]
        if want is None or want(snapshot):
            return snapshot


async def test_a_tenant_snapshot_counts_only_its_organisation(
    server: RunningServer, http: httpx.AsyncClient, world: World, other_world: World, quick: None
) -> None:
    mine = await open_care(http, world)
    theirs = await open_care(http, other_world)
    await send(http, world, mine, 3)
    await send(http, other_world, theirs, 5)
    async with (
        connect(server.ws_url, world["admin"].token) as admin,
        connect(server.ws_url, other_world["sam"].token),
    ):
        first = (await admin.request("monitor.subscribe", scope="tenant"))["snapshot"]
        assert first["tenant_id"] == str(world.tenant_id)
        assert len(first["messages_per_minute"]) == 60
        # The current minute is last (a minute boundary may fall between send and read).
        assert sum(first["messages_per_minute"][-2:]) == 3
        assert first["active_conversations"] == 1
        # Only the admin is connected in this organisation (other_world's sam is not hers).
        assert (first["people_connected"], first["devices_connected"]) == (1, 1)
        async with (
            connect(server.ws_url, world["sam"].token),
            connect(server.ws_url, world["sam"].token),
        ):
            more = await updated(admin, lambda s: s["devices_connected"] == 3)
            assert more["people_connected"] == 2
        await send(http, world, await open_care(http, world, client="tom", staff="sam"), 2)
        later = await updated(admin, lambda s: sum(s["messages_per_minute"]) == 5)
        assert later["active_conversations"] == 2
        assert later["people_connected"] == 1
        for field in ("delivery_p50_ms", "delivery_p99_ms", "errors_per_minute", "queues"):
            assert field in later
        assert set(later["errors_per_minute"]) == {"http_5xx", "socket_error", "frame_refused"}
        assert len(later["sign_in_failures_per_minute"]) == 60


async def test_the_instance_snapshot_counts_every_organisation(
    server: RunningServer, http: httpx.AsyncClient, world: World, other_world: World, quick: None
) -> None:
    await make_operator(world["admin"])
    async with connect(server.ws_url, world["admin"].token) as admin:
        before = (await admin.request("monitor.subscribe", scope="instance"))["snapshot"]
        assert before["scope"] == "instance"
        assert before["tenant_id"] is None
        await send(http, world, await open_care(http, world), 2)
        await send(http, other_world, await open_care(http, other_world), 4)
        # Other tests' messages may land in the same minutes: at least these six more.
        total = sum(before["messages_per_minute"])
        after = await updated(admin, lambda s: sum(s["messages_per_minute"]) >= total + 6)
        assert after["active_conversations"] >= 2


async def test_updates_reach_only_watchers_and_are_built_once_per_scope(
    server: RunningServer, world: World, other_world: World, quick: None
) -> None:
    monitor = live.current()
    key = ("tenant", world.tenant_id)
    async with (
        connect(server.ws_url, world["admin"].token) as one,
        connect(server.ws_url, world["admin"].token) as two,
        connect(server.ws_url, world["admin"].token) as three,
        connect(server.ws_url, world["admin"].token) as idle,
        connect(server.ws_url, other_world["admin"].token) as elsewhere,
    ):
        for ws in (one, two, three):
            await ws.request("monitor.subscribe", scope="tenant")
        await elsewhere.request("monitor.subscribe", scope="tenant")
        assert monitor.watchers(key) == 3
        # Each tick's snapshot is one build, sent alike to every watcher of the scope.
        seen = [[(await updated(ws))["at"] for _ in range(3)] for ws in (one, two, three)]
        common = set(seen[0]) & set(seen[1]) & set(seen[2])
        assert len(common) >= 2, seen
        foreign = await updated(elsewhere)
        assert foreign["tenant_id"] == str(other_world.tenant_id)
        await idle.assert_no_event("monitor.updated", within=3 * INTERVAL)

        assert await two.request("monitor.unsubscribe") == {"subscribed": True}
        two.take_all("monitor.updated")
        await updated(one)
        await updated(one)
        await two.assert_no_event("monitor.updated", within=2 * INTERVAL)
        assert monitor.watchers(key) == 2
        await three.close()
        for _ in range(100):
            if monitor.watchers(key) == 1:
                break
            await asyncio.sleep(0.05)  # a poll: the close hook runs as the socket ends
        assert monitor.watchers(key) == 1


async def test_subscribing_again_changes_the_scope(
    server: RunningServer, http: httpx.AsyncClient, world: World, quick: None
) -> None:
    await make_operator(world["admin"])
    monitor = live.current()
    async with connect(server.ws_url, world["admin"].token) as ws:
        await ws.request("monitor.subscribe", scope="tenant")
        await ws.request("monitor.subscribe", scope="instance")
        assert monitor.watchers(("tenant", world.tenant_id)) == 0
        ws.take_all("monitor.updated")
        for _ in range(3):
            assert (await updated(ws))["scope"] == "instance"
        # A refused subscribe leaves what the socket watched.
        await make_operator(world["admin"], operator=False)
        with pytest.raises(Exception, match="operator_only"):
            await ws.request("monitor.subscribe", scope="instance")
        assert (await updated(ws))["scope"] == "instance"


async def test_the_snapshot_has_delivery_times_sign_in_failures_and_parts_and_nothing_personal(
    server: RunningServer, http: httpx.AsyncClient, world: World, quick: None
) -> None:
    marker = "zebra-marker-7731"
    conversation = await open_care(http, world)
    async with (
        connect(server.ws_url, world["admin"].token) as admin,
        connect(server.ws_url, world["lily"].token) as lily,
    ):
        first = (await admin.request("monitor.subscribe", scope="tenant"))["snapshot"]
        assert [p["name"] for p in first["parts"]] == list(health.PARTS)
        assert {p["name"]: p["state"] for p in first["parts"]}["postgres"] == "up"
        assert sum(first["sign_in_failures_per_minute"]) == 0
        for i in range(3):
            sent = await http.post(
                f"/api/v1/conversations/{conversation}/messages",
                json={"client_msg_id": f"p-{i}", "text": f"{marker} {i}"},
                headers=world["sam"].auth,
            )
            assert sent.status_code == 201, sent.text
            await lily.next_event("message.sent")
        wrong = await http.post(
            "/api/v1/auth/token", json={"email": world["tom"].email, "password": "not it at all"}
        )
        assert wrong.status_code == 401
        later = await updated(
            admin,
            lambda s: s["delivery_p50_ms"] is not None and sum(s["sign_in_failures_per_minute"]),
        )
        assert later["delivery_p99_ms"] >= later["delivery_p50_ms"] > 0
        assert sum(later["sign_in_failures_per_minute"]) == 1
        said = json.dumps(later) + json.dumps(first)
        for secret in (marker, conversation, *(p.name for p in world.people.values())):
            assert secret not in said
        for person in world.people.values():
            assert str(person.account_id) not in said
            assert person.email not in said


async def test_a_demoted_admin_and_a_removed_operator_stop_watching_without_reconnecting(
    server: RunningServer, http: httpx.AsyncClient, world: World, quick: None
) -> None:
    jo = world["jo"]
    made = await http.patch(
        f"/api/v1/admin/members/{jo.account_id}",
        json={"role": "admin"},
        headers=world["admin"].auth,
    )
    assert made.status_code == 200, made.text
    jo.token = await sign_in(server.base_url, jo.email)  # signed in as an admin now
    await make_operator(world["admin"])
    async with (
        connect(server.ws_url, jo.token) as demoted,
        connect(server.ws_url, world["admin"].token) as removed,
    ):
        await demoted.request("monitor.subscribe", scope="tenant")
        await removed.request("monitor.subscribe", scope="instance")
        await updated(demoted)
        await updated(removed)
        back = await http.patch(
            f"/api/v1/admin/members/{jo.account_id}",
            json={"role": "staff"},
            headers=world["admin"].auth,
        )
        assert back.status_code == 200, back.text
        await make_operator(world["admin"], operator=False)
        # Within RECHECK_EVERY intervals each is told, and gets nothing more.
        within = live.RECHECK_EVERY * INTERVAL * 3
        ended = await demoted.next_event("monitor.ended", timeout=within)
        assert ended["code"] == "admin_only"
        assert (await removed.next_event("monitor.ended", timeout=within))["code"] == (
            "operator_only"
        )
        demoted.take_all("monitor.updated")
        removed.take_all("monitor.updated")
        await demoted.assert_no_event("monitor.updated", within=3 * INTERVAL)
        await removed.assert_no_event("monitor.updated", within=3 * INTERVAL)
