"""The chain and its guarantees: the sealer chains every organisation's events and signs
its end; `verify` passes an untouched chain and names the first event someone who can
write the database changed, removed, reordered or slipped in, even with the hashes
recomputed (the signature catches that)."""

from __future__ import annotations

import asyncio
import itertools
import uuid

from careline.audit import chain, sealing
from careline.audit import service as audit_service
from careline.audit.verify import verify_tenant
from careline.db.tx import Actor, transaction
from tests.audit.chain_support import chained, owner, record_events, sealed, signing_key
from tests.support.server import RunningServer
from tests.support.world import World


async def test_events_are_chained_in_order_with_a_signed_checkpoint_and_verify(
    server: RunningServer, world: World
) -> None:
    events = await record_events(world, 3)
    assert await sealed(server, world, len(events)) == events  # (at, id) order
    async with owner(server) as conn:
        links = await conn.fetch(
            "SELECT position, prev_hash, hash FROM audit_chain WHERE tenant_id = $1 "
            "ORDER BY position",
            world.tenant_id,
        )
        last = await conn.fetchrow(
            "SELECT position, hash, key_id FROM audit_checkpoints WHERE tenant_id = $1 "
            "ORDER BY position DESC LIMIT 1",
            world.tenant_id,
        )
    assert [r["position"] for r in links] == list(range(1, len(events) + 1))
    assert links[0]["prev_hash"] == chain.GENESIS
    assert all(b["prev_hash"] == a["hash"] for a, b in itertools.pairwise(links))
    assert (last["position"], last["hash"]) == (len(events), links[-1]["hash"])
    assert last["key_id"] == signing_key(server).key_id
    result = await verify_tenant(world.tenant_id, signing_key(server))
    assert result.findings == []
    assert result.checked == len(events)


async def test_an_other_organisations_chain_is_its_own(
    server: RunningServer, world: World, other_world: World
) -> None:
    mine = await record_events(world, 2)
    theirs = await record_events(other_world, 1)
    assert await sealed(server, world, len(mine)) == mine
    assert await sealed(server, other_world, len(theirs)) == theirs
    assert (await verify_tenant(other_world.tenant_id, signing_key(server))).findings == []


async def test_a_changed_event_is_named(server: RunningServer, world: World) -> None:
    events = await sealed(server, world, len(await record_events(world, 3)))
    async with owner(server) as conn:
        await conn.execute(
            "UPDATE audit_events SET detail = '{\"count\": 99}' WHERE id = $1", events[1]
        )
    (finding,) = (await verify_tenant(world.tenant_id, signing_key(server))).findings
    assert (finding.kind, finding.position, finding.event_id) == ("changed", 2, events[1])


async def test_a_changed_time_is_named(server: RunningServer, world: World) -> None:
    events = await sealed(server, world, len(await record_events(world, 3)))
    async with owner(server) as conn:
        await conn.execute(
            "UPDATE audit_events SET at = at - interval '1 day' WHERE id = $1", events[2]
        )
    (finding,) = (await verify_tenant(world.tenant_id, signing_key(server))).findings
    assert (finding.kind, finding.position, finding.event_id) == ("changed", 3, events[2])


async def test_a_removed_event_is_named(server: RunningServer, world: World) -> None:
    events = await sealed(server, world, len(await record_events(world, 3)))
    async with owner(server) as conn:
        await conn.execute("DELETE FROM audit_events WHERE id = $1", events[1])
    (finding,) = (await verify_tenant(world.tenant_id, signing_key(server))).findings
    assert (finding.kind, finding.position, finding.event_id) == ("removed", 2, events[1])


async def test_an_event_removed_with_its_chain_entry_is_found(
    server: RunningServer, world: World
) -> None:
    events = await sealed(server, world, len(await record_events(world, 3)))
    async with owner(server) as conn:
        await conn.execute("DELETE FROM audit_chain WHERE event_id = $1", events[1])
        await conn.execute("DELETE FROM audit_events WHERE id = $1", events[1])
    (finding,) = (await verify_tenant(world.tenant_id, signing_key(server))).findings
    assert (finding.kind, finding.position) == ("removed", 2)


async def test_two_events_reordered_are_named(server: RunningServer, world: World) -> None:
    events = await sealed(server, world, len(await record_events(world, 3)))
    async with owner(server) as conn, conn.transaction():
        placeholder = uuid.uuid4()
        swap = "UPDATE audit_chain SET event_id = $2 WHERE event_id = $1"
        await conn.execute(swap, events[1], placeholder)
        await conn.execute(swap, events[2], events[1])
        await conn.execute(swap, placeholder, events[2])
    (finding,) = (await verify_tenant(world.tenant_id, signing_key(server))).findings
    assert (finding.kind, finding.position, finding.event_id) == ("reordered", 2, events[1])


async def test_removed_checkpoints_leave_the_chain_unsigned(
    server: RunningServer, world: World
) -> None:
    events = await sealed(server, world, len(await record_events(world, 3)))
    async with owner(server) as conn:
        await conn.execute("UPDATE audit_events SET detail = '{}' WHERE id = $1", events[2])
        await conn.execute(
            "DELETE FROM audit_checkpoints WHERE tenant_id = $1 AND position >= 2",
            world.tenant_id,
        )
    (finding,) = (await verify_tenant(world.tenant_id, signing_key(server))).findings
    assert finding.kind == "unsigned"
    assert finding.position in (1, 2)  # past the last checkpoint left (one at 1, or none)


async def _rewrite_from(conn: object, world: World, position: int) -> bytes:
    """Recompute the chain's hashes from `position` on, as an attacker with the database
    (but not the signing key) would after changing an event; the new end's hash."""
    rows = await conn.fetch(  # type: ignore[attr-defined]
        "SELECT c.position, c.prev_hash, e.id, e.tenant_id, e.at, e.actor_account_id, "
        "e.actor_role, e.session_id, e.action, e.conversation_id, e.object_id, "
        "e.subject_account_id, e.detail, e.reason_ct, e.key_version, host(e.source) AS source, "
        "e.user_agent, e.txid::text AS txid FROM audit_chain c JOIN audit_events e "
        "ON e.id = c.event_id WHERE c.tenant_id = $1 AND c.position >= $2 ORDER BY c.position",
        world.tenant_id,
        position,
    )
    prev = bytes(rows[0]["prev_hash"])
    for row in rows:
        hash_ = chain.link(prev, row)
        await conn.execute(  # type: ignore[attr-defined]
            "UPDATE audit_chain SET prev_hash = $3, hash = $4 "
            "WHERE tenant_id = $1 AND position = $2",
            world.tenant_id,
            row["position"],
            prev,
            hash_,
        )
        prev = hash_
    return prev


async def test_a_rewritten_chain_is_caught_by_its_checkpoint(
    server: RunningServer, world: World
) -> None:
    events = await sealed(server, world, len(await record_events(world, 3)))
    async with owner(server) as conn:
        await conn.execute(
            "UPDATE audit_events SET detail = '{\"count\": 7}' WHERE id = $1", events[1]
        )
        await _rewrite_from(conn, world, 2)
    (finding,) = (await verify_tenant(world.tenant_id, signing_key(server))).findings
    assert finding.kind == "rewritten"
    assert "signed checkpoint" in finding.text


async def test_a_rewritten_chain_with_its_checkpoint_fails_the_signature(
    server: RunningServer, world: World
) -> None:
    events = await sealed(server, world, len(await record_events(world, 3)))
    async with owner(server) as conn:
        await conn.execute(
            "UPDATE audit_events SET detail = '{\"count\": 7}' WHERE id = $1", events[1]
        )
        end = await _rewrite_from(conn, world, 2)
        # The checkpoints from the change on are made to agree: one at 2 goes, the last
        # (at 3) takes the new hash.
        await conn.execute(
            "DELETE FROM audit_checkpoints WHERE tenant_id = $1 AND position = 2",
            world.tenant_id,
        )
        await conn.execute(
            "UPDATE audit_checkpoints SET hash = $2 WHERE tenant_id = $1 AND position = 3",
            world.tenant_id,
            end,
        )
    (finding,) = (await verify_tenant(world.tenant_id, signing_key(server))).findings
    assert (finding.kind, finding.position) == ("bad_signature", 3)


async def test_an_event_slipped_in_behind_the_seal_is_named_and_never_sealed(
    server: RunningServer, world: World
) -> None:
    events = await sealed(server, world, len(await record_events(world, 2)))
    slipped = uuid.uuid4()
    async with owner(server) as conn:
        # Dated between the two and claiming an old transaction, as if written then.
        await conn.execute(
            "INSERT INTO audit_events (id, tenant_id, at, actor_account_id, actor_role, "
            "action, txid) SELECT $1, tenant_id, at, actor_account_id, actor_role, "
            "'audit.read', '3'::xid8 FROM audit_events WHERE id = $2",
            slipped,
            events[0],
        )
    await sealing.seal_all(signing_key(server))
    async with transaction(Actor.system(world.tenant_id)) as tx:
        assert (
            await tx.conn.fetchval("SELECT count(*) FROM audit_chain WHERE event_id = $1", slipped)
            == 0
        )
    (finding,) = (await verify_tenant(world.tenant_id, signing_key(server))).findings
    assert (finding.kind, finding.event_id) == ("inserted", slipped)


async def test_an_event_of_a_transaction_still_running_is_sealed_after_it_ends(
    server: RunningServer, world: World
) -> None:
    before = await sealed(server, world, len(await record_events(world, 1)))
    slow_started, finish = asyncio.Event(), asyncio.Event()

    async def slow() -> None:
        async with transaction(world["admin"].actor) as tx:
            await audit_service.record(tx, "audit.read", detail={"count": 100})
            # A write gives the transaction its id now: the horizon stays below it.
            await tx.conn.execute("SELECT pg_current_xact_id()")
            slow_started.set()
            await finish.wait()

    task = asyncio.create_task(slow())
    await slow_started.wait()
    quick = await record_events(world, 1)
    assert await sealing.seal_tenant(world.tenant_id, signing_key(server)) == 0
    assert quick[-1] not in await chained(world)
    finish.set()
    await task
    everything = await record_events(world, 0)
    after = await sealed(server, world, len(everything))
    assert len(quick) == len(before) + 1
    assert set(after) == set(everything)
    assert (await verify_tenant(world.tenant_id, signing_key(server))).findings == []


async def test_sealers_racing_chain_each_event_once(server: RunningServer, world: World) -> None:
    events = await record_events(world, 4)
    key = signing_key(server)
    counts = await asyncio.gather(*(sealing.seal_tenant(world.tenant_id, key) for _ in range(3)))
    assert sum(counts) <= len(events)
    assert await sealed(server, world, len(events)) == events
    assert (await verify_tenant(world.tenant_id, key)).findings == []


async def test_a_round_that_fills_its_batch_leaves_the_rest_for_the_next(
    server: RunningServer, world: World
) -> None:
    events = await record_events(world, 5)
    key = signing_key(server)
    while len(await chained(world)) < len(events):
        if not await sealing.seal_tenant(world.tenant_id, key, batch=2):
            await asyncio.sleep(0.05)  # a poll: the background sealer holds the lock
    assert await chained(world) == events
    result = await verify_tenant(world.tenant_id, key)
    assert result.findings == []
    assert result.checked == len(events)


async def test_the_server_seals_by_itself(server: RunningServer, world: World) -> None:
    events = await record_events(world, 2)
    deadline = asyncio.get_running_loop().time() + 4 * server.settings.audit_seal_seconds
    while await chained(world) != events:
        assert asyncio.get_running_loop().time() < deadline, "the sealer never ran"
        await asyncio.sleep(0.1)  # a poll: the server's sealer runs every few seconds
    assert (await verify_tenant(world.tenant_id, signing_key(server))).findings == []
