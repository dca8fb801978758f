"""The SQL of audit exports and their encrypted parts."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import asyncpg

from careline.db.tx import Tx

_COLUMNS = (
    "id, tenant_id, requested_by, format, filters, state, total, done, last_at, last_id, "
    "parts, bytes, created_at, finished_at, expires_at"
)


async def insert_export(tx: Tx, **values: Any) -> None:
    await tx.conn.execute(
        "INSERT INTO audit_exports (id, tenant_id, requested_by, format, filters, state, "
        "total, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, 'queued', $6, $7, $8)",
        values["id"],
        values["tenant_id"],
        values["requested_by"],
        values["format"],
        values["filters"],
        values["total"],
        values["created_at"],
        values["expires_at"],
    )


async def get_export(tx: Tx, export_id: uuid.UUID) -> asyncpg.Record | None:
    return await tx.conn.fetchrow(
        f"SELECT {_COLUMNS} FROM audit_exports WHERE id = $1",  # noqa: S608 - constant columns
        export_id,
    )


async def lock_export(tx: Tx, export_id: uuid.UUID) -> asyncpg.Record | None:
    return await tx.conn.fetchrow(
        f"SELECT {_COLUMNS} FROM audit_exports WHERE id = $1 FOR UPDATE",  # noqa: S608 - constant columns
        export_id,
    )


async def count_unfinished(tx: Tx, tenant_id: uuid.UUID) -> int:
    found: int = await tx.conn.fetchval(
        "SELECT count(*) FROM audit_exports WHERE tenant_id = $1 AND state <> 'done'", tenant_id
    )
    return found


async def insert_part(
    tx: Tx, *, export_id: uuid.UUID, tenant_id: uuid.UUID, n: int, ct: bytes, key_version: int
) -> None:
    await tx.conn.execute(
        "INSERT INTO audit_export_parts (export_id, n, tenant_id, ct, key_version) "
        "VALUES ($1, $2, $3, $4, $5)",
        export_id,
        n,
        tenant_id,
        ct,
        key_version,
    )


async def update_progress(
    tx: Tx,
    export_id: uuid.UUID,
    *,
    state: str,
    done: int,
    last: tuple[dt.datetime, uuid.UUID] | None,
    parts: int,
    added_bytes: int,
    finished_at: dt.datetime | None,
) -> None:
    await tx.conn.execute(
        "UPDATE audit_exports SET state = $2, done = $3, last_at = $4, last_id = $5, "
        "parts = $6, bytes = bytes + $7, finished_at = $8 WHERE id = $1",
        export_id,
        state,
        done,
        last[0] if last else None,
        last[1] if last else None,
        parts,
        added_bytes,
        finished_at,
    )


async def list_parts(tx: Tx, export_id: uuid.UUID) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await tx.conn.fetch(
        "SELECT n, ct, key_version FROM audit_export_parts WHERE export_id = $1 ORDER BY n",
        export_id,
    )
    return rows


async def delete_expired(tx: Tx, *, now: dt.datetime, limit: int) -> int:
    """Remove exports past their time (their parts go with them)."""
    rows = await tx.conn.fetch(
        "DELETE FROM audit_exports WHERE id IN (SELECT id FROM audit_exports "
        "WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2) RETURNING id",
        now,
        limit,
    )
    return len(rows)


async def list_unfinished(
    tx: Tx, *, older_than: dt.datetime, limit: int
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    rows = await tx.conn.fetch(
        "SELECT id, tenant_id FROM audit_exports WHERE state <> 'done' AND created_at < $1 "
        "ORDER BY created_at LIMIT $2",
        older_than,
        limit,
    )
    return [(r["id"], r["tenant_id"]) for r in rows]
