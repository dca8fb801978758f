"""SQL for care relationships and guardian links."""

from __future__ import annotations

import uuid

from careline.care.records import CareRelationship, GuardianLink
from careline.db.tx import Tx


async def upsert_relationship(
    tx: Tx, tenant_id: uuid.UUID, *, client_id: uuid.UUID, staff_id: uuid.UUID, primary: bool
) -> None:
    if primary:
        await tx.conn.execute(
            "UPDATE care_relationships SET is_primary = false "
            "WHERE tenant_id = $1 AND client_id = $2 AND is_primary AND staff_id <> $3",
            tenant_id,
            client_id,
            staff_id,
        )
    await tx.conn.execute(
        "INSERT INTO care_relationships (tenant_id, client_id, staff_id, is_primary) "
        "VALUES ($1, $2, $3, $4) ON CONFLICT (tenant_id, client_id, staff_id) "
        "DO UPDATE SET is_primary = EXCLUDED.is_primary",
        tenant_id,
        client_id,
        staff_id,
        primary,
    )


async def delete_relationship(
    tx: Tx, tenant_id: uuid.UUID, *, client_id: uuid.UUID, staff_id: uuid.UUID
) -> bool:
    status = await tx.conn.execute(
        "DELETE FROM care_relationships WHERE tenant_id = $1 AND client_id = $2 AND staff_id = $3",
        tenant_id,
        client_id,
        staff_id,
    )
    return bool(status == "DELETE 1")


async def list_relationships(
    tx: Tx, tenant_id: uuid.UUID, *, client_id: uuid.UUID | None, staff_id: uuid.UUID | None
) -> list[CareRelationship]:
    rows = await tx.conn.fetch(
        "SELECT client_id, staff_id, is_primary FROM care_relationships WHERE tenant_id = $1 "
        "AND ($2::uuid IS NULL OR client_id = $2) AND ($3::uuid IS NULL OR staff_id = $3) "
        "ORDER BY client_id, is_primary DESC, staff_id LIMIT 1000",
        tenant_id,
        client_id,
        staff_id,
    )
    return [CareRelationship(r["client_id"], r["staff_id"], r["is_primary"]) for r in rows]


async def insert_guardian_link(
    tx: Tx, tenant_id: uuid.UUID, *, guardian_id: uuid.UUID, client_id: uuid.UUID
) -> bool:
    status = await tx.conn.execute(
        "INSERT INTO guardian_links (tenant_id, guardian_id, client_id) VALUES ($1, $2, $3) "
        "ON CONFLICT DO NOTHING",
        tenant_id,
        guardian_id,
        client_id,
    )
    return bool(status == "INSERT 0 1")


async def delete_guardian_link(
    tx: Tx, tenant_id: uuid.UUID, *, guardian_id: uuid.UUID, client_id: uuid.UUID
) -> bool:
    status = await tx.conn.execute(
        "DELETE FROM guardian_links WHERE tenant_id = $1 AND guardian_id = $2 AND client_id = $3",
        tenant_id,
        guardian_id,
        client_id,
    )
    return bool(status == "DELETE 1")


async def list_guardian_links(
    tx: Tx, tenant_id: uuid.UUID, *, guardian_id: uuid.UUID | None, client_id: uuid.UUID | None
) -> list[GuardianLink]:
    rows = await tx.conn.fetch(
        "SELECT guardian_id, client_id FROM guardian_links WHERE tenant_id = $1 "
        "AND ($2::uuid IS NULL OR guardian_id = $2) AND ($3::uuid IS NULL OR client_id = $3) "
        "ORDER BY guardian_id, client_id LIMIT 1000",
        tenant_id,
        guardian_id,
        client_id,
    )
    return [GuardianLink(r["guardian_id"], r["client_id"]) for r in rows]
