"""SQL of break-glass: the frozen state of conversations and read-only access grants."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from careline.breakglass.records import Grant
from careline.db.tx import Tx

_GRANT = "id, tenant_id, conversation_id, account_id, granted_at, expires_at, ended_at"


def _grant(row: Any) -> Grant:
    return Grant(
        id=row["id"],
        tenant_id=row["tenant_id"],
        conversation_id=row["conversation_id"],
        account_id=row["account_id"],
        granted_at=row["granted_at"],
        expires_at=row["expires_at"],
        ended_at=row["ended_at"],
    )


async def list_conversations(
    tx: Tx, *, before: tuple[dt.datetime, uuid.UUID] | None, limit: int
) -> list[Any]:
    """The organisation's conversations, latest activity first (run as the system: an
    admin is not in most of them). Kind, counts and times only: never a title."""
    return list(
        await tx.conn.fetch(
            "SELECT c.id, c.kind, c.created_at, c.last_activity_at, c.frozen_at, "
            "(SELECT count(*) FROM participants p WHERE p.conversation_id = c.id) AS people, "
            "EXISTS (SELECT 1 FROM participants p WHERE p.conversation_id = c.id "
            "AND p.account_id = $2) AS mine "
            "FROM conversations c WHERE c.tenant_id = $1 "
            "AND ($3::timestamptz IS NULL OR (c.last_activity_at, c.id) < ($3, $4::uuid)) "
            "ORDER BY c.last_activity_at DESC, c.id DESC LIMIT $5",
            tx.actor.tenant,
            tx.actor.account,
            before[0] if before else None,
            before[1] if before else None,
            limit,
        )
    )


async def lock_conversation(tx: Tx, conversation_id: uuid.UUID) -> Any:
    return await tx.conn.fetchrow(
        "SELECT id, kind, frozen_at FROM conversations WHERE id = $1 AND tenant_id = $2 FOR UPDATE",
        conversation_id,
        tx.actor.tenant,
    )


async def set_frozen(
    tx: Tx, conversation_id: uuid.UUID, *, reason_ct: bytes | None, key_version: int | None
) -> None:
    """Freeze (with a reason) or unfreeze (None) the conversation."""
    await tx.conn.execute(
        "UPDATE conversations "
        "SET frozen_at = CASE WHEN $2::bytea IS NULL THEN NULL ELSE now() END, "
        "frozen_by = CASE WHEN $2::bytea IS NULL THEN NULL ELSE $4::uuid END, "
        "frozen_reason_ct = $2, frozen_key_version = $3 WHERE id = $1",
        conversation_id,
        reason_ct,
        key_version,
        tx.actor.account,
    )


async def list_frozen(tx: Tx, conversation_ids: list[uuid.UUID]) -> list[Any]:
    """The frozen ones among these conversations that the actor can read."""
    return list(
        await tx.conn.fetch(
            "SELECT id, tenant_id, frozen_at, frozen_by, frozen_reason_ct, frozen_key_version "
            "FROM conversations WHERE id = ANY($1::uuid[]) AND frozen_at IS NOT NULL",
            conversation_ids,
        )
    )


async def insert_grant(
    tx: Tx,
    *,
    grant_id: uuid.UUID,
    conversation_id: uuid.UUID,
    reason_ct: bytes,
    key_version: int,
    expires_at: dt.datetime,
) -> Grant:
    row = await tx.conn.fetchrow(
        f"INSERT INTO access_grants (id, tenant_id, conversation_id, account_id, reason_ct, "  # noqa: S608
        "key_version, granted_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, now(), $7) "
        f"RETURNING {_GRANT}",
        grant_id,
        tx.actor.tenant,
        conversation_id,
        tx.actor.account,
        reason_ct,
        key_version,
        expires_at,
    )
    return _grant(row)


async def get_open_grant(tx: Tx, conversation_id: uuid.UUID) -> Grant | None:
    """The actor's grant on the conversation that has not ended or expired."""
    row = await tx.conn.fetchrow(
        f"SELECT {_GRANT} FROM access_grants WHERE conversation_id = $1 "  # noqa: S608
        "AND account_id = $2 AND tenant_id = $3 AND ended_at IS NULL AND noted_at IS NULL "
        "AND expires_at > now()",
        conversation_id,
        tx.actor.account,
        tx.actor.tenant,
    )
    return _grant(row) if row else None


async def list_open_grants(tx: Tx, conversation_ids: list[uuid.UUID]) -> dict[uuid.UUID, Grant]:
    rows = await tx.conn.fetch(
        f"SELECT {_GRANT} FROM access_grants WHERE conversation_id = ANY($1::uuid[]) "  # noqa: S608
        "AND account_id = $2 AND tenant_id = $3 AND ended_at IS NULL AND noted_at IS NULL "
        "AND expires_at > now()",
        conversation_ids,
        tx.actor.account,
        tx.actor.tenant,
    )
    return {r["conversation_id"]: _grant(r) for r in rows}


async def end_grant(tx: Tx, grant_id: uuid.UUID) -> None:
    await tx.conn.execute(
        "UPDATE access_grants SET ended_at = now(), noted_at = now() WHERE id = $1", grant_id
    )


async def list_due(tx: Tx, *, now: dt.datetime, limit: int) -> list[Grant]:
    """Grants past their expiry at `now` whose expiry is not noted yet (system)."""
    rows = await tx.conn.fetch(
        f"SELECT {_GRANT} FROM access_grants WHERE ended_at IS NULL AND noted_at IS NULL "  # noqa: S608
        "AND expires_at <= $1 ORDER BY expires_at LIMIT $2",
        now,
        limit,
    )
    return [_grant(r) for r in rows]


async def claim(tx: Tx, grant_id: uuid.UUID) -> bool:
    """Note the grant's expiry; False when another node (or run) noted it first."""
    status = await tx.conn.execute(
        "UPDATE access_grants SET noted_at = now() WHERE id = $1 AND noted_at IS NULL "
        "AND ended_at IS NULL",
        grant_id,
    )
    return bool(status == "UPDATE 1")
