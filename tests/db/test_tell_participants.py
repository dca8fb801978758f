"""cl_tell_participants (migration 0012) writes other people's notification records
without the system role, so it must act for the acting person alone: in a conversation
they take part in, in their own organisation. Tried at the SQL level, as careline_app."""

from __future__ import annotations

import uuid

import httpx

from careline.db.tx import Actor, transaction
from tests.realtime.test_live import open_care
from tests.support.server import RunningServer
from tests.support.world import World

TELL = "SELECT * FROM cl_tell_participants($1, 1, NULL, 30, 900)"


async def _records(world: World, conversation_id: str) -> int:
    async with transaction(Actor.system(world.tenant_id), readonly=True) as tx:
        found: int = await tx.conn.fetchval(
            "SELECT count(*) FROM notifications WHERE conversation_id = $1",
            uuid.UUID(conversation_id),
        )
    return found


async def test_it_tells_no_one_of_a_conversation_the_actor_is_not_in(
    server: RunningServer, http: httpx.AsyncClient, world: World, other_world: World
) -> None:
    toms = await open_care(http, world, client="tom")  # sam and tom
    for outsider in (world["lily"], world["jo"], other_world["sam"], other_world["admin"]):
        async with transaction(outsider.actor) as tx:
            assert await tx.conn.fetch(TELL, uuid.UUID(toms)) == []
    assert await _records(world, toms) == 0
    # A system transaction has no person: it tells no one either.
    async with transaction(Actor.system(world.tenant_id)) as tx:
        assert await tx.conn.fetch(TELL, uuid.UUID(toms)) == []
    assert await _records(world, toms) == 0


async def test_a_participant_tells_the_others_and_not_themselves(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    toms = await open_care(http, world, client="tom")
    async with transaction(world["sam"].actor) as tx:
        told = await tx.conn.fetch(TELL, uuid.UUID(toms))
    assert [(r["told"], r["account_id"]) for r in told] == [(True, world["tom"].account_id)]
