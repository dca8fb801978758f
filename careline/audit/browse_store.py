"""The SQL of the audit page: events by filters, newest first, and a client's
conversations (for "who has opened this client's record")."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg

from careline.db.tx import Tx


@dataclass(frozen=True, slots=True)
class Where:
    """Filters resolved to values: each `None` leaves its condition out."""

    tenant_id: uuid.UUID
    actor_id: uuid.UUID | None = None
    conversation_id: uuid.UUID | None = None
    actions: list[str] | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    # "Who has opened this client's record": events about the client, and accesses
    # (`record_actions`) to any of `record_conversations`.
    client_id: uuid.UUID | None = None
    record_conversations: list[uuid.UUID] | None = None
    record_actions: list[str] | None = None


_COLUMNS = (
    "id, at, actor_account_id, actor_role, action, conversation_id, object_id, "
    "subject_account_id, detail, reason_ct, key_version, host(source) AS source, user_agent"
)


def _sql(head: str, conditions: list[str], tail: str) -> str:
    # Only the fixed texts of this module are joined; every value is a parameter.
    return f"{head} {' AND '.join(conditions)} {tail}"


def _conditions(where: Where) -> tuple[list[str], list[Any]]:
    # Values are always parameters; only the fixed condition texts are joined.
    conditions = ["tenant_id = $1"]
    values: list[Any] = [where.tenant_id]

    def add(text: str, *args: Any) -> None:
        names = [f"${len(values) + i + 1}" for i in range(len(args))]
        conditions.append(text.format(*names))
        values.extend(args)

    if where.actor_id is not None:
        add("actor_account_id = {}", where.actor_id)
    if where.conversation_id is not None:
        add("conversation_id = {}", where.conversation_id)
    if where.actions is not None:
        add("action = ANY({}::text[])", where.actions)
    if where.since is not None:
        add("at >= {}", where.since)
    if where.until is not None:
        add("at < {}", where.until)
    if where.client_id is not None:
        add(
            "(subject_account_id = {} OR (conversation_id = ANY({}::uuid[]) "
            "AND action = ANY({}::text[])))",
            where.client_id,
            where.record_conversations or [],
            where.record_actions or [],
        )
    return conditions, values


async def list_events(
    tx: Tx, where: Where, *, before: tuple[dt.datetime, uuid.UUID] | None, limit: int
) -> list[asyncpg.Record]:
    conditions, values = _conditions(where)
    if before is not None:
        n = len(values)
        conditions.append(f"(at, id) < (${n + 1}, ${n + 2})")
        values.extend(before)
    values.append(limit)
    sql = _sql(
        f"SELECT {_COLUMNS} FROM audit_events WHERE",  # noqa: S608 - constant columns
        conditions,
        f"ORDER BY at DESC, id DESC LIMIT ${len(values)}",
    )
    rows: list[asyncpg.Record] = await tx.conn.fetch(sql, *values)
    return rows


async def count_events(tx: Tx, where: Where, *, cap: int) -> int:
    """How many events match, counted up to `cap + 1` (enough to refuse too many)."""
    conditions, values = _conditions(where)
    values.append(cap + 1)
    sql = _sql(
        "SELECT count(*) FROM (SELECT 1 FROM audit_events WHERE",
        conditions,
        f"LIMIT ${len(values)}) AS found",
    )
    found: int = await tx.conn.fetchval(sql, *values)
    return found


async def list_record_conversations(
    tx: Tx, tenant_id: uuid.UUID, client_id: uuid.UUID
) -> list[uuid.UUID]:
    """Conversations the client or one of their guardians takes part in, or that are the
    client's own (a care or support thread, whoever is in it now). As the system: an admin
    is not a participant of most of them."""
    rows = await tx.conn.fetch(
        """
        SELECT p.conversation_id AS id FROM participants p
         WHERE p.tenant_id = $1
           AND (p.account_id = $2 OR p.account_id IN (
                SELECT g.guardian_id FROM guardian_links g
                 WHERE g.tenant_id = $1 AND g.client_id = $2))
        UNION
        SELECT c.id FROM conversations c WHERE c.tenant_id = $1 AND c.client_id = $2
        """,
        tenant_id,
        client_id,
    )
    return [r["id"] for r in rows]
