"""Fixtures for the attachment tests: clamd running, a care conversation, and a way to
see what is left in the database and the file store for an organisation."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from careline.attachments import storage as file_storage
from careline.db import tx as db_tx
from tests.support.clamd import Clamd
from tests.support.world import World


@pytest.fixture(autouse=True)
def _scanner(clamd: Clamd) -> Clamd:
    """Every test here has a running clamd (a test that stops it starts it again)."""
    if clamd.process is None:
        clamd.start()
    return clamd


@pytest.fixture
async def care(http: httpx.AsyncClient, world: World) -> AsyncIterator[str]:
    """The care conversation of sam (staff) and lily (client), with grace (guardian).
    Afterwards, waits for the scans its files started, so the next tests (and their
    timings) get a server that is not still busy with this one's files."""
    response = await http.post(
        "/api/v1/conversations",
        json={"kind": "care", "client_id": str(world["lily"].account_id)},
        headers=world["sam"].auth,
    )
    assert response.status_code in (200, 201), response.text
    conversation_id: str = response.json()["id"]
    yield conversation_id
    for _ in range(300):
        if await pending_of(world.tenant_id) == 0:
            return
        await asyncio.sleep(0.1)


async def rows_of(tenant_id: uuid.UUID) -> int:
    """Attachment rows of an organisation, counted as the system (no RLS filter)."""
    async with db_tx.pool().acquire() as conn, conn.transaction():
        await conn.execute("SELECT set_config('careline.role', 'system', true)")
        count: int = await conn.fetchval(
            "SELECT count(*) FROM attachments WHERE tenant_id = $1", tenant_id
        )
        return count


async def pending_of(tenant_id: uuid.UUID) -> int:
    async with db_tx.pool().acquire() as conn, conn.transaction():
        await conn.execute("SELECT set_config('careline.role', 'system', true)")
        count: int = await conn.fetchval(
            "SELECT count(*) FROM attachments WHERE tenant_id = $1 AND state = 'pending'",
            tenant_id,
        )
        return count


def objects_of(tenant_id: uuid.UUID) -> list[str]:
    """Every object (partial uploads included) the file store holds for an organisation."""
    return file_storage.store().keys(str(tenant_id))
