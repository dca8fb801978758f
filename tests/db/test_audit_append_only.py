"""The audit is append-only for careline's own database role, at the SQL level: however
a bug or an attacker in the app tries, no UPDATE or DELETE of audit_events, audit_chain
or audit_checkpoints goes through, and retention is careline's own, bounded step."""

from __future__ import annotations

import asyncpg
import pytest

from careline.db import tx as db_tx
from careline.db.tx import Actor, Role, transaction
from tests.audit.chain_support import record_events, sealed
from tests.support.server import RunningServer
from tests.support.world import World

TABLES = ["audit_events", "audit_chain", "audit_checkpoints"]
CHANGES = {
    "update": "UPDATE {table} SET tenant_id = tenant_id WHERE tenant_id = $1",
    "delete": "DELETE FROM {table} WHERE tenant_id = $1",
    "truncate": "TRUNCATE {table}",
}


@pytest.mark.parametrize("role", [Role.SYSTEM, Role.ADMIN])
@pytest.mark.parametrize("change", sorted(CHANGES))
@pytest.mark.parametrize("table", TABLES)
async def test_the_app_role_cannot_change_or_remove_audit_rows(
    server: RunningServer, world: World, table: str, change: str, role: Role
) -> None:
    await sealed(server, world, len(await record_events(world, 2)))
    actor = Actor.system(world.tenant_id) if role is Role.SYSTEM else world["admin"].actor
    sql = CHANGES[change].format(table=table)
    args = [] if change == "truncate" else [world.tenant_id]
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
        async with transaction(actor) as tx:
            await tx.conn.execute(sql, *args)
    async with transaction(Actor.system(world.tenant_id)) as tx:
        assert await tx.conn.fetchval(
            f"SELECT count(*) FROM {table} WHERE tenant_id = $1",
            world.tenant_id,
        )


async def test_the_app_role_writes_no_chain_or_checkpoint_as_a_person(world: World) -> None:
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        async with transaction(world["admin"].actor) as tx:
            await tx.conn.execute(
                "INSERT INTO audit_chain VALUES ($1, 1, gen_random_uuid(), $2, $2)",
                world.tenant_id,
                bytes(32),
            )


async def test_retention_is_careline_s_own_step_for_one_organisation(
    world: World, other_world: World
) -> None:
    for actor in (world["admin"].actor, Actor.system(), Actor.system(other_world.tenant_id)):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            async with transaction(actor) as tx:
                await tx.conn.fetchrow("SELECT * FROM cl_audit_prune($1, 2190)", world.tenant_id)


async def test_retention_keeps_at_least_a_year(world: World) -> None:
    with pytest.raises(asyncpg.InvalidParameterValueError, match="at least 365 days"):
        async with transaction(Actor.system(world.tenant_id)) as tx:
            await tx.conn.fetchrow("SELECT * FROM cl_audit_prune($1, 364)", world.tenant_id)


async def test_the_audit_tables_belong_to_no_app_role(server: RunningServer) -> None:
    async with db_tx.pool().acquire() as conn:
        rows = await conn.fetch(
            "SELECT relname, pg_get_userbyid(relowner) AS owner FROM pg_class "
            "WHERE relname = ANY($1::text[])",
            TABLES,
        )
    assert sorted(r["relname"] for r in rows) == sorted(TABLES)
    assert all(r["owner"] not in ("careline_app", "careline_rls") for r in rows)
