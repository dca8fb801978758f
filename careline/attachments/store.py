"""SQL for attachments."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from careline.db.tx import Tx

COLUMNS = (
    "a.id, a.tenant_id, a.conversation_id, a.uploader_id, a.message_id, a.state, a.name, "
    "a.media_type, a.kind, a.size, a.width, a.height, a.chunk_bytes, a.key_version, "
    "a.variants, a.scan_result, a.created_at"
)


async def lock_tenant_files(tx: Tx) -> None:
    """Serialise quota checks of the acting tenant until the transaction ends."""
    await tx.conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended('careline.files:' || $1, 0))",
        str(tx.actor.tenant),
    )


async def get_tenant_bytes(tx: Tx) -> int:
    used: int = await tx.conn.fetchval("SELECT cl_tenant_file_bytes()")
    return used


async def get_my_bytes_today(tx: Tx) -> int:
    """What the acting person stored in the acting organisation in the last 24 hours."""
    used: int = await tx.conn.fetchval("SELECT cl_my_file_bytes_today()")
    return used


async def insert(
    tx: Tx,
    *,
    attachment_id: uuid.UUID,
    conversation_id: uuid.UUID,
    name: bytes,
    media_type: str,
    kind: str,
    size: int,
    sha256: bytes,
    width: int | None,
    height: int | None,
    chunk_bytes: int,
    key_version: int,
) -> Any:
    return await tx.conn.fetchrow(
        "INSERT INTO attachments AS a (id, tenant_id, conversation_id, uploader_id, name, "  # noqa: S608
        "media_type, kind, size, sha256, width, height, chunk_bytes, key_version) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) "
        f"RETURNING {COLUMNS}",
        attachment_id,
        tx.actor.tenant,
        conversation_id,
        tx.actor.account,
        name,
        media_type,
        kind,
        size,
        sha256,
        width,
        height,
        chunk_bytes,
        key_version,
    )


async def get(tx: Tx, attachment_id: uuid.UUID) -> Any:
    """The row (as far as RLS lets the actor see it) and whether its message was
    deleted (redacted)."""
    return await tx.conn.fetchrow(
        f"SELECT {COLUMNS}, m.redacted_at IS NOT NULL AS redacted FROM attachments a "  # noqa: S608
        "LEFT JOIN messages m ON m.id = a.message_id WHERE a.id = $1",
        attachment_id,
    )


async def lock(tx: Tx, attachment_id: uuid.UUID) -> Any:
    return await tx.conn.fetchrow(
        f"SELECT {COLUMNS} FROM attachments a WHERE a.id = $1 FOR UPDATE",  # noqa: S608
        attachment_id,
    )


async def list_for_messages(tx: Tx, message_ids: list[uuid.UUID]) -> list[Any]:
    return list(
        await tx.conn.fetch(
            f"SELECT {COLUMNS} FROM attachments a WHERE a.message_id = ANY($1::uuid[]) "  # noqa: S608
            "AND a.state = 'available' ORDER BY a.message_id, a.created_at, a.id",
            message_ids,
        )
    )


async def attach(
    tx: Tx, *, message_id: uuid.UUID, conversation_id: uuid.UUID, ids: list[uuid.UUID]
) -> list[Any]:
    """Attach the actor's own, available, not yet attached uploads of this conversation;
    the rows attached (others are left alone and missing from the result)."""
    return list(
        await tx.conn.fetch(
            "UPDATE attachments a SET message_id = $1 WHERE a.id = ANY($2::uuid[]) "  # noqa: S608
            "AND a.uploader_id = $3 AND a.conversation_id = $4 AND a.message_id IS NULL "
            f"AND a.state = 'available' RETURNING {COLUMNS}",
            message_id,
            ids,
            tx.actor.account,
            conversation_id,
        )
    )


async def mark_available(tx: Tx, attachment_id: uuid.UUID, *, variants: dict[str, Any]) -> None:
    await tx.conn.execute(
        "UPDATE attachments SET state = 'available', variants = $2, scanned_at = now(), "
        "scan_result = 'clean', scan_error = NULL, scan_attempts = scan_attempts + 1 "
        "WHERE id = $1",
        attachment_id,
        variants,
    )


async def mark_quarantined(tx: Tx, attachment_id: uuid.UUID, *, signature: str) -> None:
    await tx.conn.execute(
        "UPDATE attachments SET state = 'quarantined', scanned_at = now(), scan_result = $2, "
        "scan_error = NULL, scan_attempts = scan_attempts + 1 WHERE id = $1",
        attachment_id,
        signature,
    )


async def note_scan_failure(tx: Tx, attachment_id: uuid.UUID, *, reason: str) -> None:
    await tx.conn.execute(
        "UPDATE attachments SET scan_attempts = scan_attempts + 1, scan_error = $2 "
        "WHERE id = $1 AND state = 'pending'",
        attachment_id,
        reason,
    )


async def delete(tx: Tx, attachment_id: uuid.UUID) -> bool:
    status = await tx.conn.execute(
        "DELETE FROM attachments WHERE id = $1 AND message_id IS NULL", attachment_id
    )
    return bool(status == "DELETE 1")


async def list_pending(tx: Tx, *, older_than: dt.datetime, limit: int) -> list[Any]:
    return list(
        await tx.conn.fetch(
            "SELECT id, tenant_id FROM attachments WHERE state = 'pending' AND created_at < $1 "
            "ORDER BY created_at LIMIT $2",
            older_than,
            limit,
        )
    )


async def delete_unattached(tx: Tx, *, older_than: dt.datetime, limit: int) -> list[Any]:
    """Remove uploads never attached to a message (quarantined rows stay: they are the
    admins' record). Returns what was removed, so its bytes can go too."""
    return list(
        await tx.conn.fetch(
            "DELETE FROM attachments WHERE id IN (SELECT id FROM attachments "
            "WHERE message_id IS NULL AND state <> 'quarantined' AND created_at < $1 "
            "ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED) "
            "RETURNING id, tenant_id, variants",
            older_than,
            limit,
        )
    )


async def list_quarantined(
    tx: Tx, *, before: tuple[dt.datetime, uuid.UUID] | None, limit: int
) -> list[Any]:
    """Newest first, along attachments_quarantined. With and without a cursor are two
    statements: a generic plan cannot make an index condition of "$n IS NULL OR ...",
    and (created_at, id) compared with leakproof operators is one under RLS."""
    after = "AND (a.created_at, a.id) < ($3, $4::uuid) " if before else ""
    return list(
        await tx.conn.fetch(
            f"SELECT {COLUMNS} FROM attachments a WHERE a.state = 'quarantined' "  # noqa: S608
            f"AND a.tenant_id = $1 {after}ORDER BY a.created_at DESC, a.id DESC LIMIT $2",
            tx.actor.tenant,
            limit,
            *(before or ()),
        )
    )
