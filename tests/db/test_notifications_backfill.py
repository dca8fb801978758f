"""Migration 0012's backfill gives everyone who has unread messages an open notification
record that agrees with their unread count, and sends nothing for it."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx

from careline.db.migrations.sqlscript import SEPARATOR
from careline.db.pool import connect_owner
from tests.notifications.support import send
from tests.realtime.test_live import open_care
from tests.support.server import RunningServer
from tests.support.world import World

MIGRATION = (
    Path(__file__).resolve().parents[2] / "careline/db/migrations/versions/0012_notifications.sql"
)


def backfill_statements() -> list[str]:
    """From the first NO FORCE to the last FORCE again: the backfill, not the DDL."""
    statements = MIGRATION.read_text().split(SEPARATOR)
    first = next(i for i, s in enumerate(statements) if "NO FORCE" in s)
    last = max(i for i, s in enumerate(statements) if "participants FORCE ROW" in s)
    return statements[first : last + 1]


async def test_the_backfill_opens_a_record_per_unread_conversation_and_sends_nothing(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    conversation_id = await open_care(http, world)
    seqs = await send(http, world, "sam", conversation_id, 3)
    read = await http.post(
        f"/api/v1/conversations/{conversation_id}/receipt",
        json={"read_seq": seqs[0]},
        headers=world["lily"].auth,
    )
    assert read.status_code == 200, read.text
    dsn: str = server.server.config.app.state.database.owner_dsn  # type: ignore[attr-defined]
    conn = await connect_owner(dsn)
    try:
        async with conn.transaction():  # as before 0012: no records at all
            await conn.execute(
                "DELETE FROM notifications WHERE conversation_id = $1", uuid.UUID(conversation_id)
            )
        for _ in range(2):  # a second run adds nothing
            async with conn.transaction():
                for statement in backfill_statements():
                    await conn.execute(statement)
        rows = await conn.fetch(
            "SELECT account_id, count, first_seq, last_seq, priority, push_state, email_state"
            " FROM notifications WHERE conversation_id = $1 AND read_at IS NULL",
            uuid.UUID(conversation_id),
        )
    finally:
        await conn.close()
    by_person = {r["account_id"]: dict(r) for r in rows}
    lily = by_person.pop(world["lily"].account_id)
    assert (lily["count"], lily["first_seq"], lily["last_seq"]) == (2, seqs[0] + 1, seqs[2])
    assert (lily["priority"], lily["push_state"], lily["email_state"]) == ("high", "off", "off")
    assert world["sam"].account_id not in by_person  # he wrote them: nothing unread
