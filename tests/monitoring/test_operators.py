"""Operators: made and unmade only by careline itself (`careline operator add|remove`,
the demo), never by anyone acting in an organisation, as RLS proves at the SQL level."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import asyncpg
import pytest
from fastapi import FastAPI

from careline.db import tx as db_tx
from careline.db.tx import Actor, transaction
from careline.monitoring import service as monitor_service
from tests.monitoring.support import make_operator
from tests.support.server import RunningServer
from tests.support.world import World

CARELINE = str(Path(sys.executable).parent / "careline")


async def _as(conn: asyncpg.Connection, actor: Actor) -> None:
    await conn.execute(
        "SELECT set_config('careline.account_id', $1, true), "
        "set_config('careline.tenant_id', $2, true), set_config('careline.role', $3, true)",
        str(actor.account_id) if actor.account_id else "",
        str(actor.tenant_id) if actor.tenant_id else "",
        actor.role.value,
    )


@pytest.mark.parametrize("persona", ["admin", "sam", "lily"])
async def test_nobody_in_an_organisation_can_make_or_unmake_an_operator(
    server: RunningServer, world: World, persona: str
) -> None:
    me = world[persona]
    await make_operator(world["jo"])
    async with db_tx.pool().acquire() as conn:
        for actor in (me.actor, Actor.system(world.tenant_id)):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                async with conn.transaction():
                    await _as(conn, actor)
                    await conn.execute(
                        "INSERT INTO operators (account_id) VALUES ($1)", me.account_id
                    )
            async with conn.transaction():
                await _as(conn, actor)
                removed = await conn.execute(
                    "DELETE FROM operators WHERE account_id = $1", world["jo"].account_id
                )
                assert removed == "DELETE 0"
        async with conn.transaction():
            await _as(conn, me.actor)
            # Each account sees whether it is one itself, and nobody else's row.
            assert await conn.fetchval("SELECT count(*) FROM operators") == 0
    async with transaction(world["jo"].actor, readonly=True) as tx:
        assert await monitor_service.is_operator(tx)


async def test_careline_operator_add_list_remove(server: RunningServer, world: World) -> None:
    app = server.server.config.app
    assert isinstance(app, FastAPI)
    env = {
        **os.environ,
        "CARELINE_DATA_DIR": str(server.settings.data_dir),
        "CARELINE_DATABASE_URL": app.state.database.owner_dsn,
        "CARELINE_DATABASE_APP_URL": app.state.database.app_dsn,
    }

    async def run(*args: str) -> tuple[int, str]:
        process = await asyncio.create_subprocess_exec(
            CARELINE,
            "operator",
            *args,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), 120)
        assert process.returncode is not None
        # stdout says what happened; errors go to stderr (with the migration's log lines).
        return process.returncode, out.decode() if process.returncode == 0 else err.decode()

    email = world["sam"].email
    assert await run("add", email) == (0, f"{email} is an operator\n")
    code, out = await run("list")
    assert code == 0
    assert email in out.splitlines()
    async with transaction(world["sam"].actor, readonly=True) as tx:
        assert await monitor_service.is_operator(tx)
    async with transaction(Actor.system()) as tx:  # as the command does it
        assert not await monitor_service.do_set_operator(tx, email, operator=True)  # already
    assert await run("remove", email) == (0, f"{email} is not an operator\n")
    async with transaction(Actor.system()) as tx:
        assert email not in await monitor_service.list_operators(tx)
    code, err = await run("add", "nobody@nowhere.test")
    assert code == 1
    assert "no account has that e-mail address" in err


async def test_the_demos_admin_is_an_operator(server: RunningServer) -> None:
    from careline.demo import PEOPLE, ensure_demo

    await ensure_demo()
    await ensure_demo()  # again: nothing changes, the admin stays one
    async with transaction(Actor.system()) as tx:
        operators = await monitor_service.list_operators(tx)
    admin = next(p for p in PEOPLE if p.key == "admin")
    assert admin.email in operators
    assert all(p.email not in operators for p in PEOPLE if p.key != "admin")
