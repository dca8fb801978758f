"""Every list returns every row exactly once, in its order, across pages, for an
organisation larger than any old cap (care relationships and guardian links were cut
at 1,000 without a cursor)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from careline.db.tx import Actor, transaction
from careline.keys import service as key_service
from tests.support import bulk
from tests.support.server import RunningServer
from tests.support.world import Persona, World, make_world

CARE_ROWS = 1_200  # the old cap was 1,000
GUARDIAN_ROWS = 1_100


@dataclass
class Clinic:
    world: World
    staff: list[uuid.UUID]


@pytest.fixture(scope="module")
async def clinic(server: RunningServer) -> Clinic:
    """The six personas, and 40 staff, 900 clients and 1,000 guardians more: 1,200 care
    relationships and 1,100 guardian links beyond the personas' own."""
    world = await make_world(server.base_url)
    conn = await bulk.owner(server)
    try:
        staff = await bulk.add_people(conn, world.tenant_id, role="staff", count=40)
        clients = await bulk.add_people(conn, world.tenant_id, role="client", count=900)
        guardians = await bulk.add_people(conn, world.tenant_id, role="guardian", count=1_000)
        assert await bulk.link_care(conn, world.tenant_id, clients, staff) == CARE_ROWS
        assert await bulk.link_guardians(conn, world.tenant_id, guardians, clients) == GUARDIAN_ROWS
        await conn.execute("ANALYZE memberships, care_relationships, guardian_links")
    finally:
        await conn.close()
    return Clinic(world, staff)


async def walk(
    http: httpx.AsyncClient, path: str, who: Persona, *, limit: int, **params: Any
) -> list[dict[str, Any]]:
    """Every page of a list, following next_cursor to the end."""
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(10_000):
        query = {**params, "limit": limit} | ({"cursor": cursor} if cursor else {})
        r = await http.get(path, params=query, headers=who.auth)
        assert r.status_code == 200, r.text
        page = r.json()
        assert len(page["items"]) <= limit
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError(f"{path} never ended")


async def sealed_names(world: World, ids: list[uuid.UUID]) -> list[tuple[bytes, int]]:
    """File names sealed as an upload seals them (the list opens each row's name)."""
    async with transaction(Actor.system(world.tenant_id)) as tx:
        return [
            await key_service.keyring().encrypt(
                tx, world.tenant_id, b"report.txt", context=f"attachments.name:{i}"
            )
            for i in ids
        ]


async def owner_rows(server: RunningServer, sql: str, *args: Any) -> list[list[str]]:
    conn = await bulk.owner(server)
    try:
        return [[str(v) for v in r.values()] for r in await conn.fetch(sql, *args)]
    finally:
        await conn.close()


async def test_every_care_relationship_once_in_order_past_the_old_cap(
    server: RunningServer, http: httpx.AsyncClient, clinic: Clinic
) -> None:
    world = clinic.world
    got = await walk(http, "/api/v1/care-relationships", world["admin"], limit=200)
    expected = await owner_rows(
        server,
        "SELECT client_id, staff_id, is_primary FROM care_relationships WHERE tenant_id = $1 "
        "ORDER BY client_id, staff_id",
        world.tenant_id,
    )
    assert len(expected) == CARE_ROWS + 2  # and lily's and tom's
    assert [[r["client_id"], r["staff_id"], str(r["is_primary"])] for r in got] == expected


async def test_one_staff_members_clients_page_by_cursor(
    server: RunningServer, http: httpx.AsyncClient, clinic: Clinic
) -> None:
    staff_id = clinic.staff[0]
    got = await walk(
        http, "/api/v1/care-relationships", clinic.world["sam"], limit=7, staff_id=str(staff_id)
    )
    expected = await owner_rows(
        server,
        "SELECT client_id FROM care_relationships WHERE tenant_id = $1 AND staff_id = $2 "
        "ORDER BY client_id",
        clinic.world.tenant_id,
        staff_id,
    )
    assert len(expected) > 7 * 3
    assert [[r["client_id"]] for r in got] == expected
    assert {r["staff_id"] for r in got} == {str(staff_id)}


async def test_every_guardian_link_once_in_order_past_the_old_cap(
    server: RunningServer, http: httpx.AsyncClient, clinic: Clinic
) -> None:
    world = clinic.world
    got = await walk(http, "/api/v1/guardian-links", world["sam"], limit=150)
    expected = await owner_rows(
        server,
        "SELECT guardian_id, client_id FROM guardian_links WHERE tenant_id = $1 "
        "ORDER BY guardian_id, client_id",
        world.tenant_id,
    )
    assert len(expected) == GUARDIAN_ROWS + 1  # and grace's
    assert [[r["guardian_id"], r["client_id"]] for r in got] == expected


@pytest.mark.parametrize("role", [None, "client", "guardian"])
async def test_every_member_once_in_name_order(
    server: RunningServer, http: httpx.AsyncClient, clinic: Clinic, role: str | None
) -> None:
    world = clinic.world
    params = {"role": role} if role else {}
    got = await walk(http, "/api/v1/members", world["admin"], limit=200, **params)
    expected = await owner_rows(
        server,
        "SELECT account_id FROM memberships WHERE tenant_id = $1 "
        "AND ($2::text IS NULL OR role = $2) ORDER BY lower(display_name), account_id",
        world.tenant_id,
        role,
    )
    assert len(expected) > 900
    assert [[m["account_id"]] for m in got] == expected


async def test_a_client_walks_only_the_people_they_may_see(
    http: httpx.AsyncClient, clinic: Clinic
) -> None:
    world = clinic.world
    got = await walk(http, "/api/v1/members", world["lily"], limit=10)
    names = [m["display_name"] for m in got]
    assert len(got) == len({m["account_id"] for m in got}) == 6 + 40 - 1  # not tom
    assert "Tom Client" not in names
    assert [n.lower() for n in names] == sorted(n.lower() for n in names)


async def test_every_conversation_quarantined_file_and_invitation_once_in_order(
    server: RunningServer, http: httpx.AsyncClient, clinic: Clinic
) -> None:
    """The lists ordered newest first, each with 250 rows and ties in time (the id
    decides), walked a page of 40 at a time."""
    world = clinic.world
    sam, admin = world["sam"], world["admin"]
    conn = await bulk.owner(server)
    try:
        at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        clients = await conn.fetch(
            "SELECT account_id FROM memberships WHERE tenant_id = $1 AND role = 'client' "
            "ORDER BY account_id LIMIT 250",
            world.tenant_id,
        )
        await conn.execute(
            """WITH c AS (
                 INSERT INTO conversations (id, tenant_id, kind, client_id, staff_id, created_by,
                                            last_activity_at)
                 SELECT gen_random_uuid(), $1, 'care', x.account_id, $2, $2, $3::timestamptz + (x.n / 3) * interval '1 s'
                   FROM unnest($4::uuid[]) WITH ORDINALITY AS x(account_id, n)
                 RETURNING id, tenant_id, client_id, staff_id)
               INSERT INTO participants (conversation_id, account_id, tenant_id, role)
               SELECT id, client_id, tenant_id, 'client' FROM c
               UNION ALL SELECT id, staff_id, tenant_id, 'staff' FROM c""",
            world.tenant_id,
            sam.account_id,
            at,
            [r["account_id"] for r in clients],
        )
        one = await conn.fetchval(
            "SELECT id FROM conversations WHERE tenant_id = $1 LIMIT 1", world.tenant_id
        )
        ids = [uuid.uuid4() for _ in range(250)]
        names = await sealed_names(world, ids)
        await conn.execute(
            """INSERT INTO attachments (id, tenant_id, conversation_id, uploader_id, state, name,
                 media_type, kind, size, sha256, chunk_bytes, key_version, scan_result, created_at)
               SELECT f.id, $1, $2, $3, 'quarantined', f.name, 'text/plain', 'text',
                      10, decode(repeat('00', 32), 'hex'), 65536, f.version, 'Eicar-Test-Signature',
                      $4::timestamptz + (f.i / 3) * interval '1 s'
                 FROM unnest($5::uuid[], $6::bytea[], $7::int[]) WITH ORDINALITY
                      AS f(id, name, version, i)""",
            world.tenant_id,
            one,
            sam.account_id,
            at,
            ids,
            [n for n, _ in names],
            [v for _, v in names],
        )
        await conn.execute(
            """INSERT INTO invitations (id, tenant_id, email, display_name, role, invited_by,
                 created_at, expires_at, delivery)
               SELECT gen_random_uuid(), $1, 'invitee' || i || '@bulk.test', 'Invitee ' || i,
                      'client', $2, $3::timestamptz + (i / 3) * interval '1 s', now() + interval '7 days', 'link'
                 FROM generate_series(1, 250) i""",
            world.tenant_id,
            admin.account_id,
            at,
        )
    finally:
        await conn.close()
    lists = [
        ("/api/v1/conversations", sam, "conversations", "last_activity_at", "", "id"),
        (
            "/api/v1/admin/attachments/quarantined",
            admin,
            "attachments",
            "created_at",
            "AND state = 'quarantined'",
            "id",
        ),
        (
            "/api/v1/admin/invitations",
            admin,
            "invitations",
            "created_at",
            "AND state = 'pending'",
            "id",
        ),
    ]
    for path, who, table, at_column, where, key in lists:
        got = await walk(http, path, who, limit=40)
        expected = await owner_rows(
            server,
            f"SELECT id FROM {table} WHERE tenant_id = $1 {where} "
            f"ORDER BY {at_column} DESC, id DESC",
            world.tenant_id,
        )
        assert len(expected) >= 250, path
        assert [[r[key]] for r in got] == expected, path


async def test_a_support_conversation_holds_every_admin_past_a_page(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    """careline's own reads of a role walk every page too: the support desk of an
    organisation with 250 admins is all 251 of them (it was the first 200 by name)."""
    conn = await bulk.owner(server)
    try:
        await bulk.add_people(conn, world.tenant_id, role="admin", count=250)
    finally:
        await conn.close()
    opened = await http.post(
        "/api/v1/conversations", json={"kind": "support"}, headers=world["lily"].auth
    )
    assert opened.status_code == 201, opened.text
    roles = [p["role"] for p in opened.json()["participants"]]
    assert roles.count("admin") == 251, roles.count("admin")
