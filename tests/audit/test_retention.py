"""Retention: events past `audit_keep_days` go, up to a signed checkpoint that anchors
what remains, the removal is itself audited, and the chain still verifies."""

from __future__ import annotations

import datetime as dt

import pytest

from careline.audit import jobs as audit_jobs
from careline.audit.verify import verify_tenant
from careline.db.tx import Actor, transaction
from careline.kit import clock
from tests.audit.chain_support import record_events, sealed, signing_key
from tests.support.server import RunningServer
from tests.support.world import World


async def test_old_events_go_and_the_chain_verifies_from_its_new_start(
    server: RunningServer, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    seven_years_ago = clock.now() - dt.timedelta(days=7 * 365)
    monkeypatch.setattr(clock, "now", lambda: seven_years_ago)
    old = await sealed(server, world, len(await record_events(world, 3)))
    monkeypatch.undo()
    recent = await sealed(server, world, len(await record_events(world, 2)))

    assert await audit_jobs.prune_all(world.slug) == len(old)

    async with transaction(Actor.system(world.tenant_id)) as tx:
        left = await tx.conn.fetch(
            "SELECT id, action, detail FROM audit_events WHERE tenant_id = $1 ORDER BY at, id",
            world.tenant_id,
        )
        start = await tx.conn.fetchval(
            "SELECT min(position) FROM audit_chain WHERE tenant_id = $1", world.tenant_id
        )
    assert [r["id"] for r in left[:-1]] == recent[len(old) :]
    assert left[-1]["action"] == "audit.retention_removed"
    assert left[-1]["detail"] == {"count": len(old), "before_position": len(old) + 1}
    assert start == len(old) + 1
    assert (await verify_tenant(world.tenant_id, signing_key(server))).findings == []

    # The removal's own event is sealed like any other, and a second run removes nothing.
    await sealed(server, world, len(recent) - len(old) + 1)
    assert (await verify_tenant(world.tenant_id, signing_key(server))).findings == []
    assert await audit_jobs.prune_all(world.slug) == 0


async def test_nothing_recent_goes(server: RunningServer, world: World) -> None:
    events = await sealed(server, world, len(await record_events(world, 2)))
    assert await audit_jobs.prune_all(world.slug) == 0
    async with transaction(Actor.system(world.tenant_id)) as tx:
        count = await tx.conn.fetchval(
            "SELECT count(*) FROM audit_events WHERE tenant_id = $1", world.tenant_id
        )
    assert count == len(events)
