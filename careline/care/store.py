"""SQL for care relationships and guardian links."""

from __future__ import annotations

import uuid
from typing import Any

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


def _keyset(
    tenant_id: uuid.UUID,
    equal: list[tuple[str, uuid.UUID | None]],
    order: tuple[str, str],
    after: tuple[uuid.UUID, uuid.UUID] | None,
    limit: int | None,
) -> tuple[str, list[Any]]:
    """WHERE ... ORDER BY ... LIMIT for one shape of a list, and its arguments.

    Only the filters given and the cursor if any appear in the text: a generic plan
    cannot make an index condition of "$n IS NULL OR ...", and each shape gets its own
    statement (and plan). Every condition compares uuids, which are leakproof, so under
    RLS they become index conditions and a page reads about a page of the index.
    Without a limit (a list of one person's links, for careline's own checks) there is
    no LIMIT."""
    args: list[Any] = [tenant_id]
    where = "tenant_id = $1"
    for column, value in equal:
        if value is not None:
            args.append(value)
            where += f" AND {column} = ${len(args)}"
    if after is not None:
        args += after
        where += f" AND ({order[0]}, {order[1]}) > (${len(args) - 1}, ${len(args)})"
    text = f"WHERE {where} ORDER BY {order[0]}, {order[1]}"
    if limit is not None:
        args.append(limit)
        text += f" LIMIT ${len(args)}"
    return text, args


async def list_relationships(
    tx: Tx,
    tenant_id: uuid.UUID,
    *,
    client_id: uuid.UUID | None,
    staff_id: uuid.UUID | None,
    after: tuple[uuid.UUID, uuid.UUID] | None = None,
    limit: int | None = None,
) -> list[CareRelationship]:
    """By client, then staff member: the primary key (or care_relationships_staff_client
    for one staff member's clients) in order. The order is the row's key, which never
    changes, so a cursor is never overtaken by an edit (is_primary can change)."""
    where, args = _keyset(
        tenant_id,
        [("client_id", client_id), ("staff_id", staff_id)],
        ("client_id", "staff_id"),
        after,
        limit,
    )
    rows = await tx.conn.fetch(
        f"SELECT client_id, staff_id, is_primary FROM care_relationships {where}",  # noqa: S608 - constant fragments
        *args,
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
    tx: Tx,
    tenant_id: uuid.UUID,
    *,
    guardian_id: uuid.UUID | None,
    client_id: uuid.UUID | None,
    after: tuple[uuid.UUID, uuid.UUID] | None = None,
    limit: int | None = None,
) -> list[GuardianLink]:
    """By guardian, then client: the primary key (or guardian_links_client_guardian for
    one client's guardians) in order."""
    where, args = _keyset(
        tenant_id,
        [("guardian_id", guardian_id), ("client_id", client_id)],
        ("guardian_id", "client_id"),
        after,
        limit,
    )
    rows = await tx.conn.fetch(
        f"SELECT guardian_id, client_id FROM guardian_links {where}",  # noqa: S608 - constant fragments
        *args,
    )
    return [GuardianLink(r["guardian_id"], r["client_id"]) for r in rows]
