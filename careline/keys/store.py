"""SQL for tenant data keys."""

from __future__ import annotations

import uuid

from careline.db.tx import Tx


async def get_key(tx: Tx, tenant_id: uuid.UUID, version: int) -> tuple[str, bytes] | None:
    row = await tx.conn.fetchrow(
        "SELECT master_key_id, wrapped FROM tenant_keys WHERE tenant_id = $1 AND version = $2",
        tenant_id,
        version,
    )
    return (row["master_key_id"], bytes(row["wrapped"])) if row else None


async def get_current_version(tx: Tx, tenant_id: uuid.UUID) -> int | None:
    value: int | None = await tx.conn.fetchval(
        "SELECT max(version) FROM tenant_keys WHERE tenant_id = $1", tenant_id
    )
    return value


async def insert_key(
    tx: Tx, tenant_id: uuid.UUID, *, version: int, master_key_id: str, wrapped: bytes
) -> None:
    await tx.conn.execute(
        "INSERT INTO tenant_keys (tenant_id, version, master_key_id, wrapped) "
        "VALUES ($1, $2, $3, $4)",
        tenant_id,
        version,
        master_key_id,
        wrapped,
    )


async def list_tenant_ids(tx: Tx) -> list[uuid.UUID]:
    rows = await tx.conn.fetch("SELECT DISTINCT tenant_id FROM tenant_keys")
    return [r["tenant_id"] for r in rows]
