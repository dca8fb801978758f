"""SQL for messages, their revisions and reactions."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from careline.db.tx import Tx

MESSAGE_COLUMNS = (
    "id, tenant_id, conversation_id, seq, sender_id, client_msg_id, reply_to_id, body, "
    "key_version, revision, created_at, edited_at, redacted_at"
)


async def get_by_client_msg_id(
    tx: Tx, conversation_id: uuid.UUID, sender_id: uuid.UUID, client_msg_id: str
) -> Any:
    return await tx.conn.fetchrow(
        f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = $1 "  # noqa: S608
        "AND sender_id = $2 AND client_msg_id = $3",
        conversation_id,
        sender_id,
        client_msg_id,
    )


async def get(tx: Tx, message_id: uuid.UUID) -> Any:
    return await tx.conn.fetchrow(
        f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = $1",  # noqa: S608
        message_id,
    )


async def lock(tx: Tx, message_id: uuid.UUID) -> Any:
    return await tx.conn.fetchrow(
        f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = $1 FOR UPDATE",  # noqa: S608
        message_id,
    )


async def insert(
    tx: Tx,
    *,
    message_id: uuid.UUID,
    conversation_id: uuid.UUID,
    seq: int,
    ordinal: int,
    client_msg_id: str,
    reply_to_id: uuid.UUID | None,
    body: bytes,
    key_version: int,
) -> dt.datetime | None:
    """The new message's created_at; None if the sender used client_msg_id before here.
    `ordinal` is its position among the conversation's messages (the unread counts'
    read_messages are ordinals)."""
    created_at: dt.datetime | None = await tx.conn.fetchval(
        "INSERT INTO messages (id, tenant_id, conversation_id, seq, sender_id, client_msg_id, "
        "reply_to_id, body, key_version, ordinal) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
        "ON CONFLICT (conversation_id, sender_id, client_msg_id) DO NOTHING "
        "RETURNING created_at",
        message_id,
        tx.actor.tenant,
        conversation_id,
        seq,
        tx.actor.account,
        client_msg_id,
        reply_to_id,
        body,
        key_version,
        ordinal,
    )
    return created_at


async def insert_revision(tx: Tx, row: Any) -> None:
    """Keep the message's current text as a past revision before it is replaced."""
    await tx.conn.execute(
        "INSERT INTO message_revisions (message_id, revision, tenant_id, conversation_id, body, "
        "key_version, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        row["id"],
        row["revision"],
        row["tenant_id"],
        row["conversation_id"],
        row["body"],
        row["key_version"],
        row["edited_at"] or row["created_at"],
    )


async def update_body(
    tx: Tx, message_id: uuid.UUID, *, revision: int, body: bytes, key_version: int
) -> None:
    await tx.conn.execute(
        "UPDATE messages SET body = $2, key_version = $3, revision = $4, edited_at = now() "
        "WHERE id = $1",
        message_id,
        body,
        key_version,
        revision,
    )


async def mark_redacted(tx: Tx, message_id: uuid.UUID) -> None:
    await tx.conn.execute(
        "UPDATE messages SET redacted_at = now(), redacted_by = $2 WHERE id = $1",
        message_id,
        tx.actor.account,
    )


async def list_revisions(tx: Tx, message_id: uuid.UUID) -> list[Any]:
    return list(
        await tx.conn.fetch(
            "SELECT message_id, revision, tenant_id, body, key_version, created_at "
            "FROM message_revisions WHERE message_id = $1 ORDER BY revision",
            message_id,
        )
    )


# A page is one of three fixed statements, never `($2 IS NULL OR seq < $2)`: a generic
# plan (which a prepared statement may switch to after five runs) cannot turn that OR into
# an index condition, so the cursor would be a filter and an old page would walk the index
# from the newest message down. With the cursor as an Index Cond, and the read policy
# costed as one call (migration 0009), the ordered index scan on (conversation_id, seq)
# is the plan at any position: a page reads about its own rows.
# docs/performance.md, "Clinic scale: history pages".
_PAGE_NEWEST = (
    f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = $1 "  # noqa: S608
    "ORDER BY seq DESC LIMIT $2"
)
_PAGE_BEFORE = (
    f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = $1 "  # noqa: S608
    "AND seq < $2 ORDER BY seq DESC LIMIT $3"
)
_PAGE_AFTER = (
    f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = $1 "  # noqa: S608
    "AND seq > $2 ORDER BY seq LIMIT $3"
)


async def list_page(
    tx: Tx,
    conversation_id: uuid.UUID,
    *,
    before_seq: int | None,
    after_seq: int | None,
    limit: int,
) -> list[Any]:
    if after_seq is not None:
        return list(await tx.conn.fetch(_PAGE_AFTER, conversation_id, after_seq, limit))
    if before_seq is None:
        rows = await tx.conn.fetch(_PAGE_NEWEST, conversation_id, limit)
    else:
        rows = await tx.conn.fetch(_PAGE_BEFORE, conversation_id, before_seq, limit)
    return list(reversed(rows))


async def list_by_ids(tx: Tx, message_ids: list[uuid.UUID]) -> list[Any]:
    return list(
        await tx.conn.fetch(
            f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = ANY($1::uuid[])",  # noqa: S608
            message_ids,
        )
    )


# Batch look-ups by (conversation, seq) probe the index once per key through LATERAL.
# As a plain join, the generic plan PostgreSQL caches for a prepared statement could be
# a sequential scan of messages (chosen while the table was small, then kept), with the
# row-level security filter run on every row: a cost that grows with the table.


async def list_by_seqs(tx: Tx, pairs: list[tuple[uuid.UUID, int]]) -> list[Any]:
    return list(
        await tx.conn.fetch(
            f"SELECT {MESSAGE_COLUMNS} FROM unnest($1::uuid[], $2::bigint[]) AS k(cid, s) "  # noqa: S608
            f"CROSS JOIN LATERAL (SELECT {MESSAGE_COLUMNS} FROM messages m "
            # LIMIT keeps the planner from flattening this back into a join; (conversation,
            # seq) is unique, so it changes nothing else.
            "WHERE m.conversation_id = k.cid AND m.seq = k.s LIMIT 1) m",
            [p[0] for p in pairs],
            [p[1] for p in pairs],
        )
    )


async def list_reactions(tx: Tx, message_ids: list[uuid.UUID]) -> list[Any]:
    return list(
        await tx.conn.fetch(
            "SELECT message_id, emoji, account_id FROM reactions "
            "WHERE message_id = ANY($1::uuid[]) ORDER BY created_at, account_id",
            message_ids,
        )
    )


async def insert_reaction(
    tx: Tx, *, message_id: uuid.UUID, conversation_id: uuid.UUID, emoji: str
) -> bool:
    status = await tx.conn.execute(
        "INSERT INTO reactions (message_id, account_id, emoji, tenant_id, conversation_id) "
        "VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        message_id,
        tx.actor.account,
        emoji,
        tx.actor.tenant,
        conversation_id,
    )
    return bool(status == "INSERT 0 1")


async def delete_reaction(tx: Tx, *, message_id: uuid.UUID, emoji: str) -> bool:
    status = await tx.conn.execute(
        "DELETE FROM reactions WHERE message_id = $1 AND account_id = $2 AND emoji = $3",
        message_id,
        tx.actor.account,
        emoji,
    )
    return bool(status == "DELETE 1")
