"""Old notification records go: read ones, and attempts, after `notifications_keep_days`;
an unread one stays however old, since it still tells someone something."""

from __future__ import annotations

import datetime as dt
import uuid

import httpx

from careline.db.tx import Actor, transaction
from careline.notifications.jobs import prune
from tests.notifications.support import record, send
from tests.realtime.test_live import open_care
from tests.support.server import RunningServer
from tests.support.world import World


async def _age(world: World, ids: list[uuid.UUID], days: int) -> None:
    async with transaction(Actor.system(world.tenant_id)) as tx:
        await tx.conn.execute(
            "UPDATE notifications SET created_at = now() - make_interval(days => $2),"
            " updated_at = now() - make_interval(days => $2),"
            " read_at = CASE WHEN read_at IS NULL THEN NULL"
            " ELSE now() - make_interval(days => $2) END WHERE id = ANY($1::uuid[])",
            ids,
            days,
        )


async def test_read_records_older_than_the_keep_days_are_removed_unread_ones_stay(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    lilys = await open_care(http, world)
    toms = await open_care(http, world, client="tom")
    await send(http, world, "sam", lilys)
    await send(http, world, "sam", toms)
    read = await record(world, "lily", lilys)
    unread = await record(world, "tom", toms)
    marked = await http.post(
        "/api/v1/notifications/read", json={"ids": [str(read["id"])]}, headers=world["lily"].auth
    )
    assert marked.status_code == 200, marked.text
    await _age(world, [read["id"], unread["id"]], days=91)

    await prune(int(dt.datetime.now(dt.UTC).timestamp()))

    assert await record(world, "lily", lilys) is None
    assert (await record(world, "tom", toms))["id"] == unread["id"]


async def test_records_within_the_keep_days_stay(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    lilys = await open_care(http, world)
    await send(http, world, "sam", lilys)
    read = await record(world, "lily", lilys)
    await http.post("/api/v1/notifications/read", json={"all": True}, headers=world["lily"].auth)
    await _age(world, [read["id"]], days=89)

    await prune(int(dt.datetime.now(dt.UTC).timestamp()))

    assert (await record(world, "lily", lilys))["id"] == read["id"]
