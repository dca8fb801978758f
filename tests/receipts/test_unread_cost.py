"""An unread count, and a read receipt that stops short of the end, cost the same
whatever the backlog: EXPLAIN (ANALYZE, BUFFERS) as careline_app with the actor set,
under the generic plan a pooled connection caches, for 10 and for 20,000 unread."""

from __future__ import annotations

import json
import uuid
from typing import Any

import asyncpg

from careline.db import tx as db_tx
from careline.db.pool import connect_owner
from careline.db.tx import Actor, transaction
from careline.receipts import service as receipt_service
from careline.receipts import store as receipt_store
from tests.receipts.unread_support import fresh_counts, open_team, unread_of
from tests.support.server import RunningServer
from tests.support.world import World

OWN = 5  # jo's own messages in the backlog, and sam's deleted ones: the rare rows a raise counts


def owner_dsn(server: RunningServer) -> str:
    dsn: str = server.server.config.app.state.database.owner_dsn  # type: ignore[attr-defined]
    return dsn


async def seed(server: RunningServer, world: World, unread: int) -> uuid.UUID:
    """A team conversation of sam and jo with `unread` messages from sam that jo has not
    read, plus OWN of jo's own and OWN deleted ones among them, bulk-inserted as the owner
    and then counted by the store's recount (as the bench's fast path does)."""
    conversation_id = await open_team(world, "jo")
    sam, jo = world["sam"].account_id, world["jo"].account_id
    total = unread + 2 * OWN
    conn = await connect_owner(owner_dsn(server))
    try:
        await conn.execute(
            "INSERT INTO messages (id, tenant_id, conversation_id, seq, sender_id, "
            "client_msg_id, body, key_version, redacted_at) "
            "SELECT gen_random_uuid(), $1, $2, s, CASE WHEN s % $5 = 0 AND s < $3 THEN $6::uuid "
            "ELSE $4::uuid END, 'bulk-' || s, '\\x00'::bytea, 1, "
            "CASE WHEN s % $5 = 1 AND s < $3 THEN now() END "
            "FROM generate_series(2, $3 + 1) s",
            world.tenant_id,
            conversation_id,
            total,
            sam,
            max(2, total // OWN),
            jo,
        )
        await conn.execute(
            "INSERT INTO events (conversation_id, seq, tenant_id, type, actor_id, message_id) "
            "SELECT conversation_id, seq, tenant_id, 'message.sent', sender_id, id "
            "FROM messages WHERE conversation_id = $1",
            conversation_id,
        )
        await conn.execute(
            "UPDATE conversations SET last_seq = $2 + 1, last_message_seq = $2 + 1 WHERE id = $1",
            conversation_id,
            total,
        )
        # Vacuumed as autovacuum would have (heap pages all-visible, statistics fresh):
        # whether autovacuum had got there before the measurement was a matter of timing,
        # and an index-only scan of unvacuumed rows visits the heap for every one.
        await conn.execute("VACUUM (ANALYZE) messages, events, participants, conversations")
    finally:
        await conn.close()
    async with transaction(Actor.system(world.tenant_id)) as tx:
        await receipt_service.internal_recount_unread(tx, [conversation_id])
    return conversation_id


def buffers(plan: Any) -> int:
    top = plan[0]["Plan"]
    return int(top["Shared Hit Blocks"]) + int(top["Shared Read Blocks"])


def scans_read(plan: Any) -> list[tuple[str, str, str, int]]:
    """Each scan with its table, index and buffers: a failed bound names the one that
    read too much."""
    found: list[tuple[str, str, str, int]] = []

    def walk(node: dict[str, Any]) -> None:
        if "Relation Name" in node:
            used = int(node.get("Shared Hit Blocks", 0)) + int(node.get("Shared Read Blocks", 0))
            found.append(
                (node["Node Type"], node["Relation Name"], node.get("Index Name", "-"), used)
            )
        for child in node.get("Plans", []):
            walk(child)

    walk(plan[0]["Plan"])
    return found


def node_types(plan: Any) -> set[str]:
    """The plan's node types, with the relation they read ("Seq Scan on messages")."""
    found: set[str] = set()

    def walk(node: dict[str, Any]) -> None:
        found.add(node["Node Type"])
        if "Relation Name" in node:
            found.add(f"{node['Node Type']} on {node['Relation Name']}")
        for child in node.get("Plans", []):
            walk(child)

    walk(plan[0]["Plan"])
    return found


async def explain(conn: asyncpg.Connection, sql: str, types: str, args: list[str]) -> Any:
    """EXPLAIN (ANALYZE, BUFFERS) of `sql` as a prepared statement's generic plan."""
    await conn.execute("SET plan_cache_mode = force_generic_plan")
    await conn.execute(f"PREPARE cost_probe({types}) AS {sql}")
    try:
        plan = await conn.fetchval(
            f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE cost_probe({', '.join(args)})"
        )
        return json.loads(plan) if isinstance(plan, str) else plan
    finally:
        await conn.execute("DEALLOCATE cost_probe")
        await conn.execute("RESET plan_cache_mode")


async def costs(world: World, conversation_id: uuid.UUID, read_to: int) -> tuple[Any, Any]:
    """The plans of jo's unread count and of jo's read receipt up to `read_to` (rolled
    back), as careline_app with jo acting."""
    jo = world["jo"].actor
    async with db_tx.pool().acquire() as conn:
        transaction = conn.transaction()
        await transaction.start()
        try:
            await conn.execute(db_tx._set_actor(jo))
            count = await explain(
                conn,
                receipt_store.UNREAD_SQL,
                "uuid, uuid[]",
                [f"'{jo.account_id}'::uuid", f"ARRAY['{conversation_id}']::uuid[]"],
            )
            raised = await explain(
                conn,
                receipt_store.RAISE_SQL,
                "uuid, uuid, bigint, bigint",
                [f"'{conversation_id}'::uuid", f"'{jo.account_id}'::uuid", "0", str(read_to)],
            )
        finally:
            await transaction.rollback()
    return count, raised


async def test_unread_count_and_a_partial_read_cost_the_same_whatever_the_backlog(
    server: RunningServer, world: World
) -> None:
    measured = {}
    raises: dict[int, Any] = {}
    # The large backlog first, so both are measured on a table of that size.
    for unread in (20_000, 10):
        conversation_id = await seed(server, world, unread)
        fresh = (await fresh_counts(world, conversation_id))[world["jo"].account_id]
        assert unread - 2 * OWN <= fresh <= unread + OWN
        assert await unread_of(world["jo"], conversation_id) == fresh
        # Half way: the jump passes thousands of rows, some of jo's own and deleted ones.
        middle = (unread + 2 * OWN) // 2
        count, raised = await costs(world, conversation_id, middle)
        measured[unread] = (buffers(count), buffers(raised))
        raises[unread] = raised
        # The backlog's own tables are reached by index only. (A few-row participants or
        # conversations table may be scanned whole where that is cheaper: the buffer
        # bounds below hold that to a page.)
        scans = {
            f"{kind} on {table}"
            for kind in ("Seq Scan", "Bitmap Heap Scan")
            for table in ("messages", "events")
        }
        assert scans.isdisjoint(node_types(count) | node_types(raised)), measured
    small, large = measured[10], measured[20_000]
    # 2,000 times the backlog, the same pages: an index level more at most. (The count
    # this replaced read 40,930 buffers for 20,000 unread, and 28 for 10.)
    assert abs(large[0] - small[0]) <= 2, measured
    assert large[0] <= 12, measured
    # The raise crosses jo's own and the deleted rows through their own indexes, which
    # the suite's other conversations share: a few leaf pages either way. What it reads
    # grows with the whole suite, not the backlog (36-45 seen alone, 59-62 in the full
    # suite since sends also write the sender's watermarks), so the bound is loose.
    assert abs(large[1] - small[1]) <= 15, (measured, scans_read(raises[20_000]))
    assert large[1] <= 90, measured
