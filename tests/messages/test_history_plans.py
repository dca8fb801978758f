"""A history page costs the page, not the conversation: the newest, a middle and the
oldest page of a 100,000-message conversation each read a bounded number of buffers,
under the generic plan a prepared statement may switch to after five runs and under the
plan for the actual values, as careline's own role with row-level security on.

The data lives in a database of its own on the suite's server (same roles, migrated to
head), so its 200,000 messages and its statistics touch no other test."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest

from careline.db import migrate
from careline.db.pool import connect_owner, create_app_pool
from careline.db.tx import Actor, Role, Tx
from careline.messages import store
from tests.support.plans import acting, database_dsn
from tests.support.server import RunningServer

BIG = 100_000  # messages in the conversation under test, seqs 1..BIG
OTHERS, EACH = 760, 130  # the rest of a clinic: many short conversations, interleaved
PAGE = 51  # what the API asks for: a page of 50 and one more to know if there is more
BUFFER_BOUND = 300  # a page of 51 reads ~155 buffers; the whole conversation ~300,000
RUNS = 6  # more than the 5 custom plans PostgreSQL makes before it may go generic
PLAN_MODES = ("auto", "force_generic_plan", "force_custom_plan")


@dataclass(frozen=True)
class Clinic:
    pool: asyncpg.Pool
    conversation_id: uuid.UUID
    staff: Actor
    outsider: Actor
    client_msg_id: str  # a message the staff member sent, at seq BIG // 2
    message_id: uuid.UUID


# The organisation, by literal ids (uuid4 values printed by the uuid module).
SEED = """
INSERT INTO tenants (id, slug, name) VALUES ({tenant}, 'plans-clinic', 'Clinic');
INSERT INTO accounts (id, email, display_name, password_hash)
  SELECT a, a || '@plans.test', 'Person', 'x' FROM unnest(ARRAY[{staff}, {client}, {other}]) a;
INSERT INTO memberships (tenant_id, account_id, display_name, role) VALUES
  ({tenant}, {staff}, 'Staff', 'staff'), ({tenant}, {client}, 'Client', 'client'),
  ({tenant}, {other}, 'Other', 'client');
INSERT INTO conversations (id, tenant_id, kind, client_id, staff_id, created_by, last_seq)
  VALUES ({conversation}, {tenant}, 'care', {client}, {staff}, {staff}, {big});
INSERT INTO participants (conversation_id, account_id, tenant_id, role)
  VALUES ({conversation}, {staff}, {tenant}, 'staff'), ({conversation}, {client}, {tenant}, 'client');
INSERT INTO conversations (id, tenant_id, kind, title, created_by, last_seq)
  SELECT ('00000000-0000-4000-8000-' || lpad(c::text, 12, '0'))::uuid, {tenant}, 'team', 'T',
         {staff}, {each} FROM generate_series(1, {others}) c;
INSERT INTO participants (conversation_id, account_id, tenant_id, role)
  SELECT ('00000000-0000-4000-8000-' || lpad(c::text, 12, '0'))::uuid, {other}, {tenant}, 'client'
  FROM generate_series(1, {others}) c;
"""

# Messages in the order a clinic writes them (every conversation's at once, by time), so
# the heap interleaves conversations as it does in use; a sealed-looking body.
SEED_MESSAGES = f"""
INSERT INTO messages (id, tenant_id, conversation_id, seq, sender_id, client_msg_id, body,
                      key_version)
SELECT gen_random_uuid(), $1, k.cid, k.seq, $2, 'm' || k.seq,
       '\\x01'::bytea || uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid()), 1
FROM (SELECT $3::uuid AS cid, g AS seq, g::float8 / {BIG} AS t
        FROM generate_series(1, {BIG}) g
      UNION ALL
      SELECT ('00000000-0000-4000-8000-' || lpad(c::text, 12, '0'))::uuid, g,
             g::float8 / {EACH}
        FROM generate_series(1, {OTHERS}) c, generate_series(1, {EACH}) g) k
ORDER BY k.t
"""


async def _seed(conn: Any, ids: dict[str, uuid.UUID]) -> None:
    literals = {k: f"'{v}'::uuid" for k, v in ids.items()}
    await conn.execute(SEED.format(**literals, big=BIG, each=EACH, others=OTHERS))
    await conn.execute(SEED_MESSAGES, ids["tenant"], ids["staff"], ids["conversation"])
    await conn.execute(
        "INSERT INTO message_revisions (message_id, revision, tenant_id, conversation_id, "
        "body, key_version) SELECT id, r, tenant_id, conversation_id, body, 1 FROM messages, "
        "generate_series(0, 2) r WHERE conversation_id = $1 AND seq = $2",
        ids["conversation"],
        BIG // 2,
    )
    await conn.execute("ANALYZE")


@pytest.fixture(scope="module")
async def clinic(server: RunningServer) -> AsyncIterator[Clinic]:
    database = f"plans_{uuid.uuid4().hex[:12]}"
    admin = await connect_owner(database_dsn(server, user="postgres", database="postgres"))
    await admin.execute(f'CREATE DATABASE "{database}"')
    ids = {k: uuid.uuid4() for k in ("tenant", "staff", "client", "other", "conversation")}
    try:
        await asyncio.to_thread(
            migrate.upgrade, database_dsn(server, user="postgres", database=database)
        )
        owner = await connect_owner(database_dsn(server, user="postgres", database=database))
        try:
            await _seed(owner, ids)
            middle = await owner.fetchrow(
                "SELECT id, client_msg_id FROM messages WHERE conversation_id = $1 AND seq = $2",
                ids["conversation"],
                BIG // 2,
            )
        finally:
            await owner.close()
        pool = await create_app_pool(
            database_dsn(server, user="careline_app", database=database), size=2
        )
        try:
            yield Clinic(
                pool=pool,
                conversation_id=ids["conversation"],
                staff=Actor(account_id=ids["staff"], tenant_id=ids["tenant"], role=Role.STAFF),
                outsider=Actor(account_id=ids["other"], tenant_id=ids["tenant"], role=Role.CLIENT),
                client_msg_id=middle["client_msg_id"],
                message_id=middle["id"],
            )
        finally:
            await pool.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await admin.close()


async def _executions(tx: Tx) -> dict[str, tuple[str, int, int]]:
    rows = await tx.conn.fetch(
        "SELECT name, statement, custom_plans + generic_plans AS runs, "
        "cardinality(parameter_types) AS params FROM pg_prepared_statements "
        "WHERE statement NOT LIKE '%pg_prepared_statements%'"
    )
    return {r["name"]: (r["statement"], r["runs"], r["params"]) for r in rows}


async def statement_of(tx: Tx, call: Callable[[], Awaitable[object]]) -> tuple[str, int]:
    """The name and parameter count of the one prepared statement `call` ran: the store's
    own (asyncpg prepares and caches each SQL text per connection). It runs once before
    the count, so that asyncpg's own look-ups of new types are not counted."""
    await call()
    before = await _executions(tx)
    await call()
    after = await _executions(tx)
    ran = [(n, v[2]) for n, v in after.items() if v[1] > before.get(n, ("", 0, 0))[1]]
    assert len(ran) == 1, [after[n][0] for n, _ in ran]
    return ran[0]


def _literal(value: object) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, uuid.UUID | str):
        return "'" + str(value).replace("'", "''") + "'"
    assert isinstance(value, int), value
    return str(value)


@dataclass(frozen=True)
class Measured:
    buffers: int
    nodes: list[str]


def _nodes(plan: dict[str, Any]) -> list[str]:
    name = plan["Node Type"] + (f" {plan['Index Name']}" if "Index Name" in plan else "")
    return [name] + [n for child in plan.get("Plans", []) for n in _nodes(child)]


async def explain(tx: Tx, name: str, args: list[object], mode: str) -> Measured:
    """EXPLAIN (ANALYZE, BUFFERS) of prepared statement `name` in plan_cache_mode `mode`.
    Buffers of execution only: planning a custom plan reads the catalog, not the data."""
    await tx.conn.execute(f"SET LOCAL plan_cache_mode = {mode}")
    params = ", ".join(_literal(a) for a in args)
    out = await tx.conn.fetchval(
        f'EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE "{name}"({params})'
    )
    await tx.conn.execute("SET LOCAL plan_cache_mode = auto")
    plan = json.loads(out)[0]["Plan"]
    return Measured(plan["Shared Hit Blocks"] + plan["Shared Read Blocks"], _nodes(plan))


async def check_bounded(
    tx: Tx, run: Callable[[], Awaitable[object]], args: list[object]
) -> dict[str, Measured]:
    """Runs the store function RUNS times (one prepared statement), then measures that
    statement in each plan-cache mode: each must read fewer than BUFFER_BOUND buffers.
    `args` are its parameters; a None among them is dropped if the statement has fewer."""
    name, params = await statement_of(tx, run)
    for _ in range(RUNS - 2):
        await run()
    if len(args) > params:
        args = [a for a in args if a is not None]
    measured = {mode: await explain(tx, name, args, mode) for mode in PLAN_MODES}
    over = {m: (v.buffers, v.nodes) for m, v in measured.items() if v.buffers >= BUFFER_BOUND}
    assert over == {}, over
    return measured


# Each page: its cursor and the seqs it must return.
PAGES: dict[str, tuple[dict[str, int | None], list[int]]] = {
    "newest": ({"before_seq": None, "after_seq": None}, list(range(BIG - PAGE + 1, BIG + 1))),
    "middle": (
        {"before_seq": BIG // 2, "after_seq": None},
        list(range(BIG // 2 - PAGE, BIG // 2)),
    ),
    "oldest": ({"before_seq": PAGE + 1, "after_seq": None}, list(range(1, PAGE + 1))),
    "after the middle": (
        {"before_seq": None, "after_seq": BIG // 2},
        list(range(BIG // 2 + 1, BIG // 2 + PAGE + 1)),
    ),
}


@pytest.mark.parametrize("position", list(PAGES))
async def test_a_history_page_reads_its_own_rows_at_any_position_under_any_plan(
    clinic: Clinic, position: str
) -> None:
    cursor, expected = PAGES[position]
    async with clinic.pool.acquire() as conn, acting(conn, clinic.staff) as tx:

        async def page() -> None:
            rows = await store.list_page(tx, clinic.conversation_id, limit=PAGE, **cursor)
            assert [r["seq"] for r in rows] == expected

        seq = cursor["after_seq"] if cursor["after_seq"] is not None else cursor["before_seq"]
        measured = await check_bounded(tx, page, [clinic.conversation_id, seq, PAGE])
        for plan in measured.values():
            assert "Sort" not in plan.nodes, plan.nodes  # the index gives the order
        await page()  # the plan PostgreSQL settled on after RUNS runs: the same rows


async def test_look_ups_by_key_read_a_bounded_number_of_buffers_under_any_plan(
    clinic: Clinic,
) -> None:
    """What a send and a resume run beside the page: the message a client_msg_id names,
    the messages at given seqs, and a message's revisions."""
    async with clinic.pool.acquire() as conn, acting(conn, clinic.staff) as tx:
        staff = clinic.staff.account

        async def by_client_msg_id() -> None:
            row = await store.get_by_client_msg_id(
                tx, clinic.conversation_id, staff, clinic.client_msg_id
            )
            assert row["id"] == clinic.message_id

        async def by_seqs() -> None:
            rows = await store.list_by_seqs(tx, [(clinic.conversation_id, BIG // 2)])
            assert [r["id"] for r in rows] == [clinic.message_id]

        async def revisions() -> None:
            rows = await store.list_revisions(tx, clinic.message_id)
            assert [r["revision"] for r in rows] == [0, 1, 2]

        key = [clinic.conversation_id, staff, clinic.client_msg_id]
        arrays = ["{" + str(clinic.conversation_id) + "}", "{" + str(BIG // 2) + "}"]
        for run, args in ((by_client_msg_id, key), (by_seqs, arrays)):
            measured = await check_bounded(tx, run, list(args))
            assert all(m.buffers < 20 for m in measured.values()), measured
        await check_bounded(tx, revisions, [clinic.message_id])


async def test_an_outsider_reads_no_page_of_a_conversation_they_are_not_in(
    clinic: Clinic,
) -> None:
    """Isolation holds with the policy in its new form. (The service answers 404 before
    it pages a conversation the actor is not in; here the policy alone stands between.)"""
    async with clinic.pool.acquire() as conn, acting(conn, clinic.outsider) as tx:
        cursor, _ = PAGES["oldest"]
        assert await store.list_page(tx, clinic.conversation_id, limit=PAGE, **cursor) == []
        assert await store.list_by_seqs(tx, [(clinic.conversation_id, BIG // 2)]) == []
        assert await store.list_revisions(tx, clinic.message_id) == []
