"""Migration 0007's backfill gives every participant the unread count a fresh count(*)
gives: run on a conversation whose counters were lost (as before the migration)."""

from __future__ import annotations

from pathlib import Path

from careline.db.migrations.sqlscript import SEPARATOR
from careline.db.pool import connect_owner
from careline.db.tx import transaction
from careline.messages import service as message_service
from careline.messages.sending import send_message
from careline.receipts import service as receipt_service
from tests.receipts.unread_support import assert_exact, open_team
from tests.support.server import RunningServer
from tests.support.world import World

MIGRATION = (
    Path(__file__).resolve().parents[2] / "careline/db/migrations/versions/0007_unread_counters.sql"
)


def backfill_statements() -> list[str]:
    """The migration's statements from the first NO FORCE on: the backfill, not the DDL."""
    statements = MIGRATION.read_text().split(SEPARATOR)
    first = next(i for i, s in enumerate(statements) if "NO FORCE" in s)
    return statements[first:]


async def test_the_migration_backfill_counts_what_a_fresh_count_counts(
    server: RunningServer, world: World
) -> None:
    conversation_id = await open_team(world, "jo", "admin")
    sent = []
    for i, who in enumerate(["sam", "jo", "sam", "admin", "sam", "jo", "sam"]):
        message, _ = await send_message(
            world[who].actor, conversation_id, client_msg_id=f"b{i}", text=f"{i}"
        )
        sent.append(message)
    async with transaction(world["sam"].actor) as tx:
        await message_service.do_redact_message(tx, sent[4].id)
    async with transaction(world["jo"].actor) as tx:
        await receipt_service.do_update_receipt(tx, conversation_id, read_seq=sent[2].seq)
    people = [world["sam"], world["jo"], world["admin"]]
    await assert_exact(world, conversation_id, people)

    dsn: str = server.server.config.app.state.database.owner_dsn  # type: ignore[attr-defined]
    conn = await connect_owner(dsn)
    try:
        async with conn.transaction():  # as before 0007: no counters at all
            await conn.execute(
                "UPDATE messages SET ordinal = 0 WHERE conversation_id = $1", conversation_id
            )
            await conn.execute(
                "UPDATE conversations SET message_count = 0 WHERE id = $1", conversation_id
            )
            await conn.execute(
                "UPDATE participants SET read_messages = 0, own_after_read = 0, "
                "redacted_after_read = 0 WHERE conversation_id = $1",
                conversation_id,
            )
        async with conn.transaction():
            for statement in backfill_statements():
                await conn.execute(statement)
        ordinals = await conn.fetch(
            "SELECT ordinal FROM messages WHERE conversation_id = $1 ORDER BY seq",
            conversation_id,
        )
    finally:
        await conn.close()
    assert [r["ordinal"] for r in ordinals] == list(range(1, len(sent) + 1))
    await assert_exact(world, conversation_id, people)
