"""Row-level security is the last line of isolation: proved at the SQL level, as
careline's own database role, with queries that "forget" their WHERE clause."""

from __future__ import annotations

import uuid

import asyncpg
import httpx
import pytest

from careline.db import tx as db_tx
from tests.support.server import RunningServer
from tests.support.world import World

# Tables that hold no tenant data, each with the reason it may go without RLS.
NOT_TENANT_DATA = {
    "alembic_version": "the schema revision; no rows about anyone",
}


async def tables(conn: asyncpg.Connection) -> list[str]:
    rows = await conn.fetch(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY 1"
    )
    return [r["relname"] for r in rows]


async def test_every_table_has_forced_rls_with_policies_and_the_app_role_cannot_bypass(
    server: RunningServer,
) -> None:
    async with db_tx.pool().acquire() as conn:
        role = await conn.fetchrow(
            "SELECT rolname, rolsuper, rolbypassrls, rolcreaterole, rolcreatedb FROM pg_roles "
            "WHERE rolname = current_user"
        )
        assert role["rolname"] == "careline_app"
        assert not role["rolsuper"]
        assert not role["rolbypassrls"]
        assert not role["rolcreaterole"]
        assert not role["rolcreatedb"]
        owned = await conn.fetchval(
            "SELECT count(*) FROM pg_class WHERE pg_get_userbyid(relowner) = current_user"
        )
        assert owned == 0, "careline_app must own no table (owners can skip policies)"
        member_of = await conn.fetch(
            "SELECT b.rolname FROM pg_auth_members m JOIN pg_roles b ON b.oid = m.roleid "
            "JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = current_user"
        )
        assert [r["rolname"] for r in member_of] == [], "careline_app inherits no other role"
        missing = []
        for name in await tables(conn):
            if name in NOT_TENANT_DATA or name.startswith("procrastinate_"):
                continue
            row = await conn.fetchrow(
                "SELECT relrowsecurity, relforcerowsecurity, "
                "(SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) AS policies "
                "FROM pg_class c WHERE c.relname = $1 AND c.relnamespace = 'public'::regnamespace",
                name,
            )
            if not (row["relrowsecurity"] and row["relforcerowsecurity"] and row["policies"]):
                missing.append(name)
        assert missing == [], f"tables without enabled+forced RLS and policies: {missing}"


async def _tenant_columns(conn: asyncpg.Connection) -> dict[str, str]:
    """Each table and the column naming its tenant."""
    result = {}
    for name in await tables(conn):
        if name in NOT_TENANT_DATA or name.startswith("procrastinate_"):
            continue
        cols = {
            r["attname"]
            for r in await conn.fetch(
                "SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 "
                "AND NOT attisdropped",
                name,
            )
        }
        if "tenant_id" in cols:
            result[name] = "tenant_id"
        elif name == "tenants":
            result[name] = "id"
    return result


async def _fill_tenant_b(http: httpx.AsyncClient, b: World) -> None:
    """Give tenant B rows in every table: a conversation with messages, an edit, a
    reaction, receipts and sessions."""
    conv = await http.post(
        "/api/v1/conversations",
        json={"kind": "care", "client_id": str(b["lily"].account_id)},
        headers=b["sam"].auth,
    )
    cid = conv.json()["id"]
    sent = await http.post(
        f"/api/v1/conversations/{cid}/messages",
        json={"client_msg_id": "b1", "text": "tenant B secret"},
        headers=b["sam"].auth,
    )
    mid = sent.json()["id"]
    await http.patch(
        f"/api/v1/messages/{mid}", json={"text": "tenant B secret, edited"}, headers=b["sam"].auth
    )
    await http.put(f"/api/v1/messages/{mid}/reactions/👍", headers=b["lily"].auth)
    await http.post(
        f"/api/v1/conversations/{cid}/receipt", json={"read_seq": 2}, headers=b["lily"].auth
    )
    wrong = {"email": b["tom"].email, "password": "wrong password!!"}
    await http.post("/api/v1/auth/token", json=wrong)
    invited = await http.post(
        "/api/v1/admin/members",
        json={"email": f"invitee@{b.slug}.test", "display_name": "Invitee", "role": "client"},
        headers=b["admin"].auth,
    )
    assert invited.status_code == 201, invited.text


@pytest.mark.parametrize("persona", ["admin", "sam", "lily", "grace"])
async def test_an_actor_of_tenant_a_sees_and_changes_no_row_of_tenant_b(
    server: RunningServer, http: httpx.AsyncClient, world: World, other_world: World, persona: str
) -> None:
    await _fill_tenant_b(http, other_world)
    actor = world[persona]
    b = other_world.tenant_id
    async with db_tx.pool().acquire() as conn:
        columns = await _tenant_columns(conn)
        assert {
            "messages",
            "message_revisions",
            "events",
            "participants",
            "sessions",
            "invitations",
        } <= set(columns)
        for table, column in columns.items():
            async with conn.transaction():
                # As careline_app, superuser-free: count tenant B's rows in a query that
                # "forgets" every condition but the tenant.
                await conn.execute(
                    "SELECT set_config('careline.account_id', $1, true), "
                    "set_config('careline.tenant_id', $2, true), set_config('careline.role', $3, true)",
                    str(actor.account_id),
                    str(actor.tenant_id),
                    actor.role.value,
                )
                seen = await conn.fetchval(f"SELECT count(*) FROM {table} WHERE {column} = $1", b)
                assert seen == 0, f"{persona} sees {seen} row(s) of tenant B in {table}"
                everything = await conn.fetchval(f"SELECT count(*) FROM {table}")
                mine = await conn.fetchval(
                    f"SELECT count(*) FROM {table} WHERE {column} = $1",
                    actor.tenant_id,
                )
                assert everything == mine, f"{persona} sees foreign rows in {table}"
                for statement in (
                    f"UPDATE {table} SET {column} = {column} WHERE {column} = $1",
                    f"DELETE FROM {table} WHERE {column} = $1",
                ):
                    try:
                        async with conn.transaction():
                            status = await conn.execute(statement, b)
                        assert status.endswith(" 0"), f"{persona}: {statement} -> {status}"
                    except asyncpg.InsufficientPrivilegeError:
                        pass  # not even granted: touches nothing either
    # And tenant B's data is all still there.
    async with db_tx.pool().acquire() as conn, conn.transaction():
        await conn.execute("SELECT set_config('careline.role', 'system', true)")
        assert await conn.fetchval("SELECT count(*) FROM messages WHERE tenant_id = $1", b) == 1
        assert await conn.fetchval("SELECT count(*) FROM reactions WHERE tenant_id = $1", b) == 1
        assert await conn.fetchval("SELECT count(*) FROM invitations WHERE tenant_id = $1", b) == 1


async def test_with_no_actor_set_every_table_is_empty(server: RunningServer, world: World) -> None:
    async with db_tx.pool().acquire() as conn, conn.transaction():
        for table in await tables(conn):
            if table in NOT_TENANT_DATA or table.startswith("procrastinate_"):
                continue
            assert await conn.fetchval(f"SELECT count(*) FROM {table}") == 0, table


async def test_a_participant_cannot_write_rows_claiming_another_tenant_or_sender(
    server: RunningServer, http: httpx.AsyncClient, world: World, other_world: World
) -> None:
    conv = await http.post(
        "/api/v1/conversations",
        json={"kind": "care", "client_id": str(world["lily"].account_id)},
        headers=world["sam"].auth,
    )
    cid = uuid.UUID(conv.json()["id"])
    sam = world["sam"]
    async with db_tx.pool().acquire() as conn:
        for tenant_id, sender in (
            (other_world.tenant_id, sam.account_id),  # claims tenant B
            (world.tenant_id, world["lily"].account_id),  # claims to be lily
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                async with conn.transaction():
                    await conn.execute(
                        "SELECT set_config('careline.account_id', $1, true), "
                        "set_config('careline.tenant_id', $2, true), set_config('careline.role', 'staff', true)",
                        str(sam.account_id),
                        str(world.tenant_id),
                    )
                    await conn.execute(
                        "INSERT INTO messages (id, tenant_id, conversation_id, seq, sender_id, "
                        "client_msg_id, body, key_version) VALUES ($1, $2, $3, 99, $4, 'x', '\\x00', 1)",
                        uuid.uuid4(),
                        tenant_id,
                        cid,
                        sender,
                    )


async def test_a_temporary_table_cannot_stand_in_for_participants(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    """The membership helper is SECURITY DEFINER without a fixed search_path (a SET clause
    costs every row it checks): its names are schema-qualified, and the app role can
    create nothing but temporary tables."""
    conv = await http.post(
        "/api/v1/conversations",
        json={"kind": "care", "client_id": str(world["lily"].account_id)},
        headers=world["sam"].auth,
    )
    cid = uuid.UUID(conv.json()["id"])
    sent = await http.post(
        f"/api/v1/conversations/{cid}/messages",
        json={"client_msg_id": "shadow-1", "text": "for sam and lily only"},
        headers=world["sam"].auth,
    )
    assert sent.status_code == 201

    async def visible_messages(conn: asyncpg.Connection, who: str) -> int:
        await conn.execute(
            "SELECT set_config('careline.account_id', $1, true), "
            "set_config('careline.tenant_id', $2, true), set_config('careline.role', 'staff', true)",
            str(world[who].account_id),
            str(world.tenant_id),
        )
        count: int = await conn.fetchval(
            "SELECT count(*) FROM messages WHERE conversation_id = $1", cid
        )
        return count

    async with db_tx.pool().acquire() as conn:
        for schema in ("public", "pg_catalog"):
            assert not await conn.fetchval(
                "SELECT has_schema_privilege(current_user, $1, 'CREATE')", schema
            )
        async with conn.transaction():
            assert await visible_messages(conn, "sam") == 1
        tr = conn.transaction()
        await tr.start()
        try:
            await conn.execute(
                "CREATE TEMPORARY TABLE participants (conversation_id uuid, account_id uuid, "
                "tenant_id uuid) ON COMMIT DROP"
            )
            await conn.execute(
                "INSERT INTO pg_temp.participants VALUES ($1, $2, $3)",
                cid,
                world["jo"].account_id,
                world.tenant_id,
            )
            await conn.execute("SET LOCAL search_path = pg_temp, public")
            assert await visible_messages(conn, "jo") == 0
        finally:
            await tr.rollback()
