"""The audit's write path: entries a transaction records reach audit_events at COMMIT,
in one statement however many there are, and none when the transaction rolls back."""

from __future__ import annotations

import uuid

import pytest

from careline.audit import service as audit_service
from careline.db.tx import Actor, transaction
from careline.kit import client
from tests.support.world import World


async def _events(world: World) -> list[dict[str, object]]:
    async with transaction(Actor.system(world.tenant_id)) as tx:
        rows = await tx.conn.fetch(
            "SELECT * FROM audit_events WHERE tenant_id = $1 ORDER BY at, id", world.tenant_id
        )
    return [dict(row) for row in rows]


async def test_an_access_is_written_with_its_actor_ids_and_detail(world: World) -> None:
    admin = world["admin"]
    conversation_id = uuid.uuid4()
    async with transaction(admin.actor) as tx:
        await audit_service.record(
            tx,
            "conversation.history_read",
            conversation_id=conversation_id,
            detail={"after_seq": 3, "count": 20},
        )
    (event,) = await _events(world)
    assert event["actor_account_id"] == admin.account_id
    assert event["actor_role"] == "admin"
    assert event["action"] == "conversation.history_read"
    assert event["conversation_id"] == conversation_id
    assert event["detail"] == {"after_seq": 3, "count": 20}
    assert event["txid"] is not None


async def test_many_entries_are_one_statement(world: World) -> None:
    statements: list[str] = []
    async with transaction(world["admin"].actor) as tx:
        tx.conn.add_query_logger(lambda q: statements.append(q.query))
        for n in range(5):
            await audit_service.record(tx, "audit.read", detail={"count": n})
    inserts = [s for s in statements if "INSERT INTO audit_events" in s]
    assert len(inserts) == 1
    assert [e["detail"] for e in await _events(world)] == [{"count": n} for n in range(5)]


async def test_an_access_that_rolls_back_writes_nothing(world: World) -> None:
    with pytest.raises(RuntimeError):
        async with transaction(world["admin"].actor) as tx:
            await audit_service.record(tx, "audit.read", detail={"count": 1})
            raise RuntimeError("the access fails after recording")
    assert await _events(world) == []


async def test_source_and_user_agent_are_kept(world: World) -> None:
    scope = {
        "type": "http",
        "client": ("203.0.113.7", 5555),
        "headers": [(b"user-agent", b"careline-test/1")],
    }
    client.use_scope(scope)
    try:
        async with transaction(world["sam"].actor) as tx:
            await audit_service.record(tx, "attachment.downloaded", object_id=uuid.uuid4())
    finally:
        client.use_scope({"type": "http", "client": None, "headers": []})
    (event,) = await _events(world)
    assert str(event["source"]) == "203.0.113.7"
    assert event["user_agent"] == "careline-test/1"
    assert event["actor_role"] == "staff"
