"""SQL for notification records (this domain owns the notifications table; to tell a
conversation's participants in one statement on the send's hot path, it reads their
participants rows and the conversation's kind).

Writes to other people's records run as the system, inside the transaction that causes
them (the caller wraps them in `tx.as_system()`); reading and marking one's own runs as
the person, under row-level security.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from careline.db.tx import Tx

_COLUMNS = (
    "n.id, n.tenant_id, n.account_id, n.kind, n.conversation_id, n.object_id, n.count, "
    "n.first_seq, n.last_seq, n.priority, n.created_at, n.updated_at, n.read_at, "
    "n.push_state, n.push_due_at, n.push_round, n.email_state, n.email_due_at, n.email_round"
)

# An open record told again: its count grows and a push already sent (or suppressed)
# is due again in a new round, replacing what the device shows; a push still waiting
# keeps its time, and one the person turned off stays off for this stretch. E-mail is
# at most once per stretch: it keeps its state.
_TOLD_AGAIN = """
  count = n.count + 1,
  last_seq = greatest(n.last_seq, EXCLUDED.last_seq),
  updated_at = now(),
  priority = CASE WHEN EXCLUDED.priority = 'high' THEN 'high' ELSE n.priority END,
  push_due_at = CASE WHEN n.push_state IN ('due', 'off') THEN n.push_due_at
                     ELSE EXCLUDED.push_due_at END,
  push_round = CASE WHEN n.push_state IN ('due', 'off') THEN n.push_round
                    ELSE n.push_round + 1 END,
  push_state = CASE WHEN n.push_state = 'off' THEN 'off' ELSE 'due' END
"""

_SEEN = """
  read_at = now(),
  push_state = CASE WHEN n.push_state = 'due' THEN 'cancelled' ELSE n.push_state END,
  email_state = CASE WHEN n.email_state = 'due' THEN 'cancelled' ELSE n.email_state END
"""


async def tell_participants(
    tx: Tx,
    conversation_id: uuid.UUID,
    *,
    seq: int,
    replied_to: uuid.UUID | None,
    push_delay: float,
    email_delay: float,
) -> tuple[list[Any], list[Any]]:
    """A new message at `seq` from the actor: one statement (cl_tell_participants,
    migration 0012) that marks the actor's own open record of the conversation read
    (sending is reading) and tells every other participant who has not muted it (in
    team conversations, those who chose "only replies to me" only when `replied_to` is
    them). It runs as the actor: the function acts for them alone, in their own
    organisation, and only if they take part. Returns (told, seen) rows."""
    rows = await tx.conn.fetch(
        "SELECT * FROM cl_tell_participants($1, $2, $3, $4, $5)",
        conversation_id,
        seq,
        replied_to,
        push_delay,
        email_delay,
    )
    return [r for r in rows if r["told"]], [r for r in rows if not r["told"]]


async def tell(
    tx: Tx,
    *,
    kind: str,
    account_ids: list[uuid.UUID],
    object_id: uuid.UUID,
    conversation_id: uuid.UUID | None,
    seq: int | None,
    priority: str,
    push_delay: float,
    email_delay: float,
) -> list[Any]:
    """Tell these people (members of the actor's tenant) of one thing: a new record each,
    or one more on the record still open for it."""
    return list(
        await tx.conn.fetch(
            f"""
            INSERT INTO notifications AS n (id, tenant_id, account_id, kind, conversation_id,
              object_id, count, first_seq, last_seq, priority, push_due_at, email_due_at)
            SELECT gen_random_uuid(), m.tenant_id, m.account_id, $1, $3, $4, 1, $5, $5, $6,
              now() + make_interval(secs => $7), now() + make_interval(secs => $8)
            FROM memberships m
            WHERE m.tenant_id = $9 AND m.account_id = ANY($2::uuid[]) AND m.disabled_at IS NULL
            ON CONFLICT (account_id, tenant_id, kind, object_id) WHERE read_at IS NULL
            DO UPDATE SET {_TOLD_AGAIN}
            RETURNING {_COLUMNS}
            """,  # noqa: S608 - constant fragments
            kind,
            account_ids,
            conversation_id,
            object_id,
            seq,
            priority,
            push_delay,
            email_delay,
            tx.actor.tenant,
        )
    )


async def mark_conversation_read(tx: Tx, conversation_id: uuid.UUID, *, read_seq: int) -> list[Any]:
    """The actor read a conversation up to `read_seq`: their open message records of it
    that this covers are read, and what was still due outside the app is cancelled."""
    return list(
        await tx.conn.fetch(
            f"""
            UPDATE notifications n SET {_SEEN}
            WHERE n.account_id = $1 AND n.tenant_id = $2 AND n.object_id = $3
              AND n.read_at IS NULL AND n.kind = 'message' AND n.last_seq <= $4
            RETURNING {_COLUMNS}
            """,  # noqa: S608 - constant fragments
            tx.actor.account,
            tx.actor.tenant,
            conversation_id,
            read_seq,
        )
    )


# The notification centre: a person's own records, under row-level security -----------


async def list_recent(tx: Tx, *, before: tuple[Any, uuid.UUID] | None, limit: int) -> list[Any]:
    """The actor's records in the acting organisation, most recently told first, after
    the cursor `before` (updated_at, id). The order is the notifications_recent index's
    (updated_at DESC, id): a page is one index range."""
    if before is None:
        return list(
            await tx.conn.fetch(
                f"""
                SELECT {_COLUMNS} FROM notifications n
                WHERE n.account_id = $1 AND n.tenant_id = $2
                ORDER BY n.updated_at DESC, n.id
                LIMIT $3
                """,  # noqa: S608 - constant fragments
                tx.actor.account,
                tx.actor.tenant,
                limit,
            )
        )
    return list(
        await tx.conn.fetch(
            f"""
            SELECT {_COLUMNS} FROM notifications n
            WHERE n.account_id = $1 AND n.tenant_id = $2
              AND (n.updated_at < $3 OR (n.updated_at = $3 AND n.id > $4))
            ORDER BY n.updated_at DESC, n.id
            LIMIT $5
            """,  # noqa: S608 - constant fragments
            tx.actor.account,
            tx.actor.tenant,
            before[0],
            before[1],
            limit,
        )
    )


async def unread_summary(tx: Tx) -> tuple[int, int]:
    """(open records, messages they count) of the actor in the acting organisation."""
    row = await tx.conn.fetchrow(
        "SELECT count(*) AS records, coalesce(sum(count), 0) AS messages FROM notifications"
        " WHERE account_id = $1 AND tenant_id = $2 AND read_at IS NULL",
        tx.actor.account,
        tx.actor.tenant,
    )
    assert row is not None
    return int(row["records"]), int(row["messages"])


async def count_own(tx: Tx, ids: list[uuid.UUID]) -> int:
    """How many of `ids` are the actor's records in the acting organisation."""
    found = await tx.conn.fetchval(
        "SELECT count(*) FROM notifications"
        " WHERE id = ANY($1::uuid[]) AND account_id = $2 AND tenant_id = $3",
        ids,
        tx.actor.account,
        tx.actor.tenant,
    )
    return int(found or 0)


async def mark_read(tx: Tx, ids: list[uuid.UUID] | None) -> list[Any]:
    """The actor's open records among `ids` (None: all of them) become read; what was
    still due outside the app is cancelled. Returns the rows that changed."""
    if ids is None:
        return list(
            await tx.conn.fetch(
                f"""
                UPDATE notifications n SET {_SEEN}
                WHERE n.account_id = $1 AND n.tenant_id = $2 AND n.read_at IS NULL
                RETURNING {_COLUMNS}
                """,  # noqa: S608 - constant fragments
                tx.actor.account,
                tx.actor.tenant,
            )
        )
    return list(
        await tx.conn.fetch(
            f"""
            UPDATE notifications n SET {_SEEN}
            WHERE n.id = ANY($3::uuid[]) AND n.account_id = $1 AND n.tenant_id = $2
              AND n.read_at IS NULL
            RETURNING {_COLUMNS}
            """,  # noqa: S608 - constant fragments
            tx.actor.account,
            tx.actor.tenant,
            ids,
        )
    )


async def prune(tx: Tx, *, older_than: dt.datetime) -> tuple[int, int]:
    """Read records last changed before `older_than`, and older attempts, removed."""
    records = await tx.conn.fetchval(
        "WITH gone AS (DELETE FROM notifications WHERE read_at IS NOT NULL"
        " AND updated_at < $1 AND read_at < $1 RETURNING 1) SELECT count(*) FROM gone",
        older_than,
    )
    attempts = await tx.conn.fetchval(
        "WITH gone AS (DELETE FROM notification_attempts WHERE at < $1 RETURNING 1)"
        " SELECT count(*) FROM gone",
        older_than,
    )
    return int(records), int(attempts)
