"""Resume and catch-up read a batch of conversations at a cost of their own rows: the
last seqs of 1,000 conversations, and the events after given seqs of many at once,
probe the indexes once per conversation under the generic plan a prepared statement may
switch to after five runs and under the plan for the actual values, as careline's own
role with row-level security on, whatever the cursors and however large a conversation.

The data lives in a database of its own on the suite's server (same roles, migrated to
head), so its rows and statistics touch no other test."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest

from careline.conversations import store
from careline.db import migrate
from careline.db.pool import connect_owner, create_app_pool
from careline.db.tx import Actor, Role, Tx
from tests.support.plans import acting, database_dsn
from tests.support.server import RunningServer

MINE = 1_000  # conversations the clinician is in (the protocol's most per resume)
OTHERS = 2_000  # conversations of the same organisation the clinician is not in
EACH = 40  # events in each conversation but the big one
BIG = 25_000  # events in conversation 1, one of the clinician's
RUNS = 6  # more than the 5 custom plans PostgreSQL makes before it may go generic
PLAN_MODES = ("auto", "force_generic_plan", "force_custom_plan")
# A probe of a primary key reads 2-3 index pages and a heap page; the policy's own
# probe of participants as many again. Measured: ~6 per conversation named, ~3 per row
# (each row passes the policy: a probe of participants). The rest of one conversation
# through a bitmap, the plan a LIMIT without a range got: 75,701 for 25,000 events.
PER_KEY, PER_ROW = 12, 4


def conversation(n: int) -> uuid.UUID:
    return uuid.UUID(f"00000000-0000-4000-8000-{n:012d}")


MY_IDS = [conversation(n) for n in range(1, MINE + 1)]
OTHER_IDS = [conversation(n) for n in range(MINE + 1, MINE + OTHERS + 1)]


def last_seq(n: int) -> int:
    return BIG if n == 1 else EACH


@dataclass(frozen=True)
class Clinic:
    pool: asyncpg.Pool
    staff: Actor


# The organisation, by literal ids (uuid4 values printed by the uuid module).
SEED = f"""
INSERT INTO tenants (id, slug, name) VALUES ({{tenant}}, 'resume-clinic', 'Clinic');
INSERT INTO accounts (id, email, display_name, password_hash)
  SELECT a, a || '@resume.test', 'Person', 'x' FROM unnest(ARRAY[{{staff}}, {{other}}]) a;
INSERT INTO memberships (tenant_id, account_id, display_name, role) VALUES
  ({{tenant}}, {{staff}}, 'Staff', 'staff'), ({{tenant}}, {{other}}, 'Other', 'staff');
INSERT INTO conversations (id, tenant_id, kind, title, created_by, last_seq)
  SELECT ('00000000-0000-4000-8000-' || lpad(c::text, 12, '0'))::uuid, {{tenant}}, 'team', 'T',
         {{staff}}, CASE WHEN c = 1 THEN {BIG} ELSE {EACH} END
  FROM generate_series(1, {MINE + OTHERS}) c;
INSERT INTO participants (conversation_id, account_id, tenant_id, role)
  SELECT ('00000000-0000-4000-8000-' || lpad(c::text, 12, '0'))::uuid,
         CASE WHEN c <= {MINE} THEN {{staff}} ELSE {{other}} END, {{tenant}}, 'staff'
  FROM generate_series(1, {MINE + OTHERS}) c;
-- Events in the order a clinic writes them (every conversation's at once, by time), so
-- the heap interleaves conversations as it does in use.
INSERT INTO events (conversation_id, seq, tenant_id, type, actor_id, subject_id)
SELECT k.cid, k.seq, {{tenant}}, 'participant.added', {{staff}}, {{staff}}
FROM (SELECT ('00000000-0000-4000-8000-' || lpad('1', 12, '0'))::uuid AS cid, g AS seq,
             g::float8 / {BIG} AS t
        FROM generate_series(1, {BIG}) g
      UNION ALL
      SELECT ('00000000-0000-4000-8000-' || lpad(c::text, 12, '0'))::uuid, g, g::float8 / {EACH}
        FROM generate_series(2, {MINE + OTHERS}) c, generate_series(1, {EACH}) g) k
ORDER BY k.t;
ANALYZE;
"""


@pytest.fixture(scope="module")
async def clinic(server: RunningServer) -> AsyncIterator[Clinic]:
    database = f"resume_{uuid.uuid4().hex[:12]}"
    admin = await connect_owner(database_dsn(server, user="postgres", database="postgres"))
    await admin.execute(f'CREATE DATABASE "{database}"')
    ids = {k: uuid.uuid4() for k in ("tenant", "staff", "other")}
    try:
        await asyncio.to_thread(
            migrate.upgrade, database_dsn(server, user="postgres", database=database)
        )
        owner = await connect_owner(database_dsn(server, user="postgres", database=database))
        try:
            await owner.execute(SEED.format(**{k: f"'{v}'::uuid" for k, v in ids.items()}))
        finally:
            await owner.close()
        pool = await create_app_pool(
            database_dsn(server, user="careline_app", database=database), size=2
        )
        try:
            staff = Actor(account_id=ids["staff"], tenant_id=ids["tenant"], role=Role.STAFF)
            yield Clinic(pool=pool, staff=staff)
        finally:
            await pool.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await admin.close()


async def _runs(tx: Tx) -> dict[str, int]:
    rows = await tx.conn.fetch(
        "SELECT name, custom_plans + generic_plans AS runs FROM pg_prepared_statements "
        "WHERE statement NOT LIKE '%pg_prepared_statements%'"
    )
    return {r["name"]: r["runs"] for r in rows}


@dataclass(frozen=True)
class Measured:
    buffers: int
    nodes: list[str]
    text: str


def _nodes(plan: dict[str, Any]) -> list[str]:
    name = plan["Node Type"] + (f" {plan['Index Name']}" if "Index Name" in plan else "")
    return [name] + [n for child in plan.get("Plans", []) for n in _nodes(child)]


def _array(values: list[Any]) -> str:
    return "'{" + ",".join(str(v) for v in values) + "}'"


def batch_params(reads: list[tuple[uuid.UUID, int, int]]) -> list[str]:
    """list_events_after's parameters: conversations, after_seqs, until_seqs."""
    columns = [[r[0] for r in reads], [r[1] for r in reads], [r[1] + r[2] for r in reads]]
    return [_array(c) for c in columns]


async def measure(
    tx: Tx, run: Callable[[], Awaitable[object]], params: list[str]
) -> dict[str, Measured]:
    """Run the store function RUNS times (one prepared statement, whose parameters are
    the literals `params`), then EXPLAIN (ANALYZE, BUFFERS) that statement in each
    plan-cache mode.
    Buffers of execution only: planning a custom plan reads the catalog, not the data."""
    await run()  # the first run also has asyncpg look up the array types
    before = await _runs(tx)
    await run()
    ran = [n for n, runs in (await _runs(tx)).items() if runs > before.get(n, 0)]
    assert len(ran) == 1, ran
    for _ in range(RUNS - 2):
        await run()
    measured = {}
    for mode in PLAN_MODES:
        await tx.conn.execute(f"SET LOCAL plan_cache_mode = {mode}")
        execute = f'EXECUTE "{ran[0]}"({", ".join(params)})'
        out = await tx.conn.fetchval(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {execute}")
        plan = json.loads(out)[0]["Plan"]
        lines = await tx.conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {execute}")
        text = "\n".join(r[0] for r in lines)
        buffers = plan["Shared Hit Blocks"] + plan["Shared Read Blocks"]
        measured[mode] = Measured(buffers, _nodes(plan), text)
    await tx.conn.execute("SET LOCAL plan_cache_mode = auto")
    return measured


def assert_index_probes(
    measured: dict[str, Measured], *, bound: int, index: str, sort: bool = False
) -> None:
    for mode, m in measured.items():
        print(f"--- {mode}: {m.buffers} buffers\n{m.text}")  # the plans, with pytest -s
        assert m.buffers <= bound, (mode, m.buffers, bound, m.text)
        # A probe per key: no scan of a whole table, no join of whole tables, no sort
        # unless the statement asks for its order (then of the bounded rows it read).
        assert any(n.endswith(f"Index Scan {index}") for n in m.nodes), (mode, m.text)
        bad = [n for n in m.nodes if n.split()[0] in ("Seq", "Hash", *(() if sort else ("Sort",)))]
        assert bad == [], (mode, m.text)


async def test_the_last_seqs_of_1000_conversations_cost_a_probe_each_under_any_plan(
    clinic: Clinic,
) -> None:
    unknown = [uuid.uuid4() for _ in range(5)]
    named = MY_IDS + OTHER_IDS[:10] + unknown
    async with clinic.pool.acquire() as conn, acting(conn, clinic.staff) as tx:

        async def read() -> None:
            found = await store.get_last_seqs(tx, named)
            # Exactly the clinician's conversations: the others are not theirs to see.
            assert found == {c: last_seq(n) for n, c in enumerate(MY_IDS, start=1)}

        measured = await measure(tx, read, [_array(named)])
        assert_index_probes(measured, bound=PER_KEY * len(named), index="conversations_pkey")


async def test_events_after_given_seqs_cost_their_own_rows_whatever_the_cursors(
    clinic: Clinic,
) -> None:
    """A catch-up batch: the big conversation from its middle, conversations with two
    events each to come, ones with nothing new, and ones the clinician is not in."""
    reads: list[tuple[uuid.UUID, int, int]] = [(MY_IDS[0], BIG // 2, 200)]
    reads += [(c, EACH - 2, 2) for c in MY_IDS[1:150]]
    reads += [(c, EACH, 1) for c in MY_IDS[150:300]]
    reads += [(c, 0, 5) for c in OTHER_IDS[:20]]
    async with clinic.pool.acquire() as conn, acting(conn, clinic.staff) as tx:

        async def read() -> None:
            found = await store.list_events_after(tx, reads)
            assert set(found) == set(MY_IDS[:300])
            assert found[MY_IDS[0]][0] == BIG
            assert [e.seq for e in found[MY_IDS[0]][1]] == list(range(BIG // 2 + 1, BIG // 2 + 201))
            for c in MY_IDS[1:150]:
                assert found[c][0] == EACH
                assert [e.seq for e in found[c][1]] == [EACH - 1, EACH]
            assert all(found[c] == (EACH, []) for c in MY_IDS[150:300])

        measured = await measure(tx, read, batch_params(reads))
        rows = 200 + 2 * 149
        assert_index_probes(
            measured, bound=PER_KEY * len(reads) + PER_ROW * rows, index="events_pkey"
        )


@pytest.mark.parametrize("after", [0, BIG // 2, BIG - 200])
async def test_a_page_of_the_big_conversation_costs_the_page_at_any_cursor(
    clinic: Clinic, after: int
) -> None:
    reads = [(MY_IDS[0], after, 200)]
    async with clinic.pool.acquire() as conn, acting(conn, clinic.staff) as tx:

        async def read() -> None:
            found = await store.list_events_after(tx, reads)
            assert [e.seq for e in found[MY_IDS[0]][1]] == list(range(after + 1, after + 201))

        measured = await measure(tx, read, batch_params(reads))
        assert_index_probes(measured, bound=PER_KEY + PER_ROW * 200, index="events_pkey")


@pytest.mark.parametrize("after", [0, BIG // 2])
async def test_one_conversations_events_cost_the_page_at_any_cursor(
    clinic: Clinic, after: int
) -> None:
    """The same read for one conversation (GET .../events, and a frame another node
    published bare)."""
    async with clinic.pool.acquire() as conn, acting(conn, clinic.staff) as tx:

        async def read() -> None:
            events = await store.list_events(tx, MY_IDS[0], after_seq=after, limit=200)
            assert [e.seq for e in events] == list(range(after + 1, after + 201))

        measured = await measure(tx, read, [f"'{MY_IDS[0]}'", str(after), "200"])
        assert_index_probes(measured, bound=PER_KEY + PER_ROW * 200, index="events_pkey", sort=True)
