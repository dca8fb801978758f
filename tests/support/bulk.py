"""Large organisations in a second: rows written as the schema owner with
generate_series, for tests of lists and their plans (never through thousands of API
calls). Names vary in case and repeat, so the member order's tie-break by id and
PostgreSQL's lower() are both exercised."""

from __future__ import annotations

import uuid
from typing import Any

from careline.db.pool import connect_owner
from tests.support.server import RunningServer


def owner_dsn(server: RunningServer) -> str:
    dsn: str = server.server.config.app.state.database.owner_dsn  # type: ignore[attr-defined]
    return dsn


async def owner(server: RunningServer) -> Any:
    return await connect_owner(owner_dsn(server))


async def add_people(conn: Any, tenant_id: uuid.UUID, *, role: str, count: int) -> list[uuid.UUID]:
    """`count` members of `role`, with accounts; every 7th has the same name as others
    (in another case), so names tie and only the id orders them."""
    rows = await conn.fetch(
        """WITH made AS (
             SELECT gen_random_uuid() AS id, i,
                    CASE WHEN i % 7 = 0 THEN (CASE WHEN i % 2 = 0 THEN 'Same Name' ELSE 'SAME name' END)
                         WHEN i % 3 = 0 THEN upper(md5(i::text)) ELSE 'p ' || md5(i::text) END AS name
             FROM generate_series(1, $3::int) i),
           a AS (INSERT INTO accounts (id, email, display_name, password_hash)
                 SELECT id, id::text || '@bulk.test', name, 'not a hash' FROM made RETURNING id)
         INSERT INTO memberships (tenant_id, account_id, role, display_name)
         SELECT $1, m.id, $2, m.name FROM made m JOIN a ON a.id = m.id
         RETURNING account_id""",
        tenant_id,
        role,
        count,
    )
    return [r["account_id"] for r in rows]


async def link_care(
    conn: Any, tenant_id: uuid.UUID, clients: list[uuid.UUID], staff: list[uuid.UUID]
) -> int:
    """Each client with staff[i % len(staff)] (the first of them primary) and every third
    client also with the next one: more rows than clients."""
    status: str = await conn.execute(
        """INSERT INTO care_relationships (tenant_id, client_id, staff_id, is_primary)
           SELECT $1::uuid, c.id, ($3::uuid[])[1 + (c.n % cardinality($3::uuid[]))], c.n % 2 = 0
             FROM unnest($2::uuid[]) WITH ORDINALITY AS c(id, n)
           UNION ALL
           SELECT $1::uuid, c.id, ($3::uuid[])[1 + ((c.n + 1) % cardinality($3::uuid[]))], false
             FROM unnest($2::uuid[]) WITH ORDINALITY AS c(id, n) WHERE c.n % 3 = 0""",
        tenant_id,
        clients,
        staff,
    )
    return int(status.rsplit(maxsplit=1)[-1])


async def link_guardians(
    conn: Any, tenant_id: uuid.UUID, guardians: list[uuid.UUID], clients: list[uuid.UUID]
) -> int:
    """Each guardian with clients[i], and every tenth also with clients[i + 1]."""
    status: str = await conn.execute(
        """INSERT INTO guardian_links (tenant_id, guardian_id, client_id)
           SELECT $1::uuid, g.id, ($3::uuid[])[1 + (g.n + k) % cardinality($3::uuid[])]
             FROM unnest($2::uuid[]) WITH ORDINALITY AS g(id, n),
                  generate_series(0, 1) k
            WHERE k = 0 OR g.n % 10 = 0""",
        tenant_id,
        guardians,
        clients,
    )
    return int(status.rsplit(maxsplit=1)[-1])


async def add_conversations(
    conn: Any, tenant_id: uuid.UUID, staff_id: uuid.UUID, clients: list[uuid.UUID]
) -> list[uuid.UUID]:
    """A care conversation of `staff_id` with each client (both participants), the
    activity of every three a second apart (ties: the id orders them)."""
    rows = await conn.fetch(
        """WITH c AS (
             INSERT INTO conversations (id, tenant_id, kind, client_id, staff_id, created_by,
                                        last_activity_at)
             SELECT gen_random_uuid(), $1, 'care', x.id, $2, $2,
                    timestamptz '2026-01-01 00:00+00' + (x.n / 3) * interval '1 s'
               FROM unnest($3::uuid[]) WITH ORDINALITY AS x(id, n)
             RETURNING id, tenant_id, client_id, staff_id),
           p AS (INSERT INTO participants (conversation_id, account_id, tenant_id, role)
                 SELECT id, client_id, tenant_id, 'client' FROM c
                 UNION ALL SELECT id, staff_id, tenant_id, 'staff' FROM c)
         SELECT id FROM c""",
        tenant_id,
        staff_id,
        clients,
    )
    return [r["id"] for r in rows]


async def add_quarantined(
    conn: Any, tenant_id: uuid.UUID, conversation_id: uuid.UUID, uploader: uuid.UUID, count: int
) -> None:
    """Quarantined files' rows (the name is not sealed: only the store reads these)."""
    await conn.execute(
        """INSERT INTO attachments (id, tenant_id, conversation_id, uploader_id, state, name,
             media_type, kind, size, sha256, chunk_bytes, key_version, scan_result, created_at)
           SELECT gen_random_uuid(), $1, $2, $3, 'quarantined', '\\x00', 'text/plain', 'text',
                  10, decode(repeat('00', 32), 'hex'), 65536, 1, 'Eicar-Test-Signature',
                  timestamptz '2026-01-01 00:00+00' + (i / 3) * interval '1 s'
             FROM generate_series(1, $4::int) i""",
        tenant_id,
        conversation_id,
        uploader,
        count,
    )


async def add_tenant(conn: Any) -> uuid.UUID:
    tenant_id = uuid.uuid4()
    await conn.execute(
        "INSERT INTO tenants (id, slug, name) VALUES ($1, $2, 'Elsewhere')",
        tenant_id,
        f"bulk-{tenant_id.hex[:12]}",
    )
    return tenant_id
