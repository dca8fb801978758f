"""A page of a list costs a page, wherever it starts and however large the organisation:
the store's own statements, as generic plans (what a prepared statement becomes after
five runs) under the app role with the actor set, measured by EXPLAIN (ANALYZE,
BUFFERS). Rows and buffers, never the clock.

Before migration 0008 the member list's cursor was a filter (lower() is not leakproof,
so under RLS it could not be an index condition) and every page read the organisation:
42,150 buffers for a page at 7,000 members."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from careline.attachments import store as attachment_store
from careline.care import store as care_store
from careline.conversations import store as conversation_store
from careline.db.tx import Actor, Role, Tx, transaction
from careline.tenants import store as tenant_store
from tests.support import bulk
from tests.support.plans import Explaining, Plan
from tests.support.server import RunningServer
from tests.support.world import World, make_world

PAGE = 100


@dataclass
class Org:
    world: World
    members: int
    staff: list[uuid.UUID]
    conversations: int


async def _org(
    server: RunningServer, *, staff: int, clients: int, guardians: int, quarantined: int
) -> Org:
    world = await make_world(server.base_url, sign_in_all=False)
    conn = await bulk.owner(server)
    try:
        staff_ids = await bulk.add_people(conn, world.tenant_id, role="staff", count=staff)
        client_ids = await bulk.add_people(conn, world.tenant_id, role="client", count=clients)
        guardian_ids = await bulk.add_people(
            conn, world.tenant_id, role="guardian", count=guardians
        )
        await bulk.link_care(conn, world.tenant_id, client_ids, staff_ids)
        await bulk.link_guardians(conn, world.tenant_id, guardian_ids, client_ids)
        # sam's conversations: one with each of (up to) 300 clients.
        sam = world["sam"].account_id
        mine = await bulk.add_conversations(conn, world.tenant_id, sam, client_ids[:300])
        await bulk.add_quarantined(conn, world.tenant_id, mine[0], sam, quarantined)
        # Vacuumed as autovacuum would have: heaps marked all-visible, statistics fresh.
        await conn.execute(
            "VACUUM (ANALYZE) memberships, accounts, care_relationships, guardian_links, "
            "conversations, participants, attachments"
        )
    finally:
        await conn.close()
    return Org(world, 6 + staff + clients + guardians, staff_ids, len(mine))


@pytest.fixture(scope="module")
async def elsewhere(server: RunningServer) -> None:
    """60 other organisations of 180 people: with them the planner sees each tenant as
    a small share of the tables, which is when the inlined policies' estimate made the
    first page read and sort the whole organisation (before migration 0008's opaque
    staff check)."""
    conn = await bulk.owner(server)
    try:
        for _ in range(60):
            tenant_id = await bulk.add_tenant(conn)
            staff = await bulk.add_people(conn, tenant_id, role="staff", count=10)
            clients = await bulk.add_people(conn, tenant_id, role="client", count=150)
            guardians = await bulk.add_people(conn, tenant_id, role="guardian", count=20)
            await bulk.link_care(conn, tenant_id, clients, staff)
            await bulk.link_guardians(conn, tenant_id, guardians, clients)
    finally:
        await conn.close()


@pytest.fixture(scope="module")
async def large(server: RunningServer, elsewhere: None) -> Org:
    """7,000 people: 100 staff, 5,894 clients (7,858 care relationships), 1,000
    guardians (1,100 links); 1,200 quarantined files; sam in 300 conversations."""
    return await _org(server, staff=100, clients=5_894, guardians=1_000, quarantined=1_200)


@pytest.fixture(scope="module")
async def small(server: RunningServer, elsewhere: None) -> Org:
    """A clinic of 306 people, the same shape, 150 quarantined files."""
    return await _org(server, staff=10, clients=240, guardians=50, quarantined=150)


Fetch = Callable[[Tx, Any], Awaitable[list[Any]]]


async def walk(actor: Actor, fetch: Fetch, key: Callable[[Any], Any]) -> list[Plan]:
    """Every page of a list through the store, each page's plan kept."""
    async with transaction(actor, readonly=True) as tx:
        explaining = Explaining(tx.conn)
        measured = Tx(conn=explaining, actor=actor)
        after = None
        for _ in range(1_000):
            page = await fetch(measured, after)
            if len(page) < PAGE:
                return explaining.plans
            after = key(page[-1])
    raise AssertionError("the list never ended")


def members(role: Role | None) -> Fetch:
    return lambda tx, after: tenant_store.list_members(
        tx, tx.actor.tenant, role=role, after=after, limit=PAGE
    )


def member_key(m: Any) -> Any:
    return (m.sort_key, m.account_id)


def assert_flat(plans: list[Plan], small_first: Plan, *, table: str, alias: str) -> None:
    """Every full page read about a page of rows, and touched no more buffers than the
    first page of a small organisation within a fifth and one buffer a row (a policy's
    probe of a larger organisation's index may go one level deeper): the cost is the
    page's, not the organisation's (the old plans read the whole list on every page)."""
    full = plans[:-1]
    assert len(full) >= 5
    for n, plan in enumerate(full):
        assert plan.rows_read(table, alias) <= PAGE + 1, (n, plan.sql, plan.root)
        assert plan.buffers <= small_first.buffers * 1.2 + PAGE, (n, plan.buffers, plan.sql)


@pytest.mark.parametrize("role", [None, Role.CLIENT])
async def test_every_member_page_costs_a_page_at_7000_members(
    large: Org, small: Org, role: Role | None
) -> None:
    admin = large.world["admin"].actor
    plans = await walk(admin, members(role), member_key)
    small_plans = await walk(small.world["admin"].actor, members(role), member_key)
    expected_pages = (large.members if role is None else 5_896) // PAGE + 1
    assert len(plans) == expected_pages
    assert_flat(plans, small_plans[0], table="memberships", alias="m")
    assert {"memberships_by_name", "memberships_by_role_name"} & plans[-2].index_names()
    # The last full page costs what the first does (the old plan: every page the whole org).
    assert plans[-2].buffers <= plans[0].buffers * 1.1 + 10


async def test_every_care_relationship_and_guardian_link_page_costs_a_page(
    large: Org, small: Org
) -> None:
    sam = large.world["sam"].actor
    cases: list[tuple[Fetch, Callable[[Any], Any], str]] = [
        (
            lambda tx, after: care_store.list_relationships(
                tx, tx.actor.tenant, client_id=None, staff_id=None, after=after, limit=PAGE
            ),
            lambda r: (r.client_id, r.staff_id),
            "care_relationships",
        ),
        (
            lambda tx, after: care_store.list_guardian_links(
                tx, tx.actor.tenant, guardian_id=None, client_id=None, after=after, limit=PAGE
            ),
            lambda g: (g.guardian_id, g.client_id),
            "guardian_links",
        ),
    ]
    for fetch, key, table in cases:
        plans = await walk(sam, fetch, key)
        small_plans = await walk(small.world["sam"].actor, fetch, key)
        assert_flat(plans, small_plans[0], table=table, alias=table)


async def test_one_staff_members_care_list_reads_only_their_rows(large: Org) -> None:
    staff_id = large.staff[0]

    def fetch(tx: Tx, after: Any) -> Awaitable[list[Any]]:
        return care_store.list_relationships(
            tx, tx.actor.tenant, client_id=None, staff_id=staff_id, after=after, limit=PAGE
        )

    plans = await walk(large.world["admin"].actor, fetch, lambda r: (r.client_id, r.staff_id))
    for plan in plans:
        assert "care_relationships_staff_client" in plan.index_names(), plan.root
        assert plan.rows_read("care_relationships", "care_relationships") <= PAGE + 1


async def test_every_quarantine_page_costs_a_page(large: Org, small: Org) -> None:
    """The admins' list of quarantined files walks attachments_quarantined: before
    migration 0008 the inlined read policy made bitmap-everything-older + sort look
    cheaper, and each page read the rest of the list."""

    def fetch(tx: Tx, before: Any) -> Awaitable[list[Any]]:
        return attachment_store.list_quarantined(tx, before=before, limit=PAGE)

    def key(row: Any) -> Any:
        return (row["created_at"], row["id"])

    plans = await walk(large.world["admin"].actor, fetch, key)
    small_plans = await walk(small.world["admin"].actor, fetch, key)
    assert len(plans) == 1_200 // PAGE + 1
    assert_flat(plans, small_plans[0], table="attachments", alias="a")
    assert all("attachments_quarantined" in p.index_names() for p in plans)


async def test_a_conversation_list_page_reads_only_the_persons_own_conversations(
    large: Org,
) -> None:
    """The conversation list orders by activity, which lives on the conversation and
    changes with every send, while who takes part lives on participants: no one index
    holds both, so a page reads the person's own participant rows (never the
    organisation's) and sorts them. Bounded by the person, not the organisation."""
    sam = large.world["sam"].actor

    def fetch(tx: Tx, before: Any) -> Awaitable[list[Any]]:
        return conversation_store.list_for_account(
            tx, tx.actor.account, archived=None, before=before, limit=PAGE
        )

    plans = await walk(sam, fetch, lambda row: (row[0].last_activity_at, row[0].id))
    assert len(plans) == large.conversations // PAGE + 1
    for plan in plans:
        assert plan.rows_read("participants", "p") <= large.conversations, plan.root
        assert "participants_account" in plan.index_names()
