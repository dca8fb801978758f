"""Helpers for the chain's tests: record events, wait for their seal, and act as the
database's owner (who can write anything, as an attacker with the database would)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from careline.audit import sealing, signing
from careline.audit import service as audit_service
from careline.audit.signing import SigningKey
from careline.db.pool import _init_connection, connect_owner
from careline.db.tx import Actor, transaction
from tests.support.server import RunningServer
from tests.support.world import World


def signing_key(server: RunningServer) -> SigningKey:
    return signing.load(server.settings.data_dir, create=False)


async def record_events(world: World, count: int) -> list[uuid.UUID]:
    """`count` accesses by the world's admin, one transaction each; their event ids."""
    for n in range(count):
        async with transaction(world["admin"].actor) as tx:
            await audit_service.record(tx, "audit.read", detail={"count": n})
    async with transaction(Actor.system(world.tenant_id)) as tx:
        rows = await tx.conn.fetch(
            "SELECT id FROM audit_events WHERE tenant_id = $1 ORDER BY at, id", world.tenant_id
        )
    return [r["id"] for r in rows]


async def chained(world: World) -> list[uuid.UUID]:
    async with transaction(Actor.system(world.tenant_id)) as tx:
        rows = await tx.conn.fetch(
            "SELECT event_id FROM audit_chain WHERE tenant_id = $1 ORDER BY position",
            world.tenant_id,
        )
    return [r["event_id"] for r in rows]


async def sealed(server: RunningServer, world: World, count: int) -> list[uuid.UUID]:
    """Seal until the world's chain holds `count` events (the background sealer may get
    there first); the chain's event ids."""
    key = signing_key(server)
    deadline = time.monotonic() + 30
    while len(got := await chained(world)) < count:
        assert time.monotonic() < deadline, f"only {len(got)} of {count} events sealed"
        if not await sealing.seal_tenant(world.tenant_id, key):
            await asyncio.sleep(0.05)  # a poll: another transaction holds the horizon back
    return got


@asynccontextmanager
async def owner(server: RunningServer) -> AsyncIterator[Any]:
    """A connection as the database's owner: past RLS and the app role's grants."""
    app = server.server.config.app
    assert isinstance(app, FastAPI)
    conn = await connect_owner(app.state.database.owner_dsn)
    await _init_connection(conn)  # reads jsonb as the app's pool does
    try:
        yield conn
    finally:
        await conn.close()
