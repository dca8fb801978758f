"""The audit domain's SQL."""

from __future__ import annotations

import uuid

import asyncpg

from careline.audit.records import Checkpoint, Entry, Link
from careline.db.tx import Tx

# One statement per transaction, however many entries it made.
_INSERT = """
INSERT INTO audit_events (id, tenant_id, at, actor_account_id, actor_role, session_id,
  action, conversation_id, object_id, subject_account_id, detail, reason_ct, key_version,
  source, user_agent)
SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[], $4::uuid[], $5::text[],
  $6::uuid[], $7::text[], $8::uuid[], $9::uuid[], $10::uuid[], $11::jsonb[], $12::bytea[],
  $13::int[], $14::inet[], $15::text[])
"""


async def insert_events(tx: Tx, entries: list[Entry]) -> None:
    if not entries:
        return
    await tx.conn.execute(
        _INSERT,
        [e.id for e in entries],
        [e.tenant_id for e in entries],
        [e.at for e in entries],
        [e.actor_account_id for e in entries],
        [e.actor_role for e in entries],
        [e.session_id for e in entries],
        [e.action for e in entries],
        [e.conversation_id for e in entries],
        [e.object_id for e in entries],
        [e.subject_account_id for e in entries],
        [e.detail for e in entries],
        [e.reason_ct for e in entries],
        [e.key_version for e in entries],
        [e.source for e in entries],
        [e.user_agent for e in entries],
    )


# --- the chain (sealer, verify, retention) ---


async def try_lock_sealer(tx: Tx, tenant_id: uuid.UUID) -> bool:
    """One sealer at a time per organisation, across nodes, for this transaction."""
    got: bool = await tx.conn.fetchval(
        "SELECT pg_try_advisory_xact_lock(hashtextextended('careline.audit-seal:' || $1, 0))",
        str(tenant_id),
    )
    return got


async def get_last_checkpoint(tx: Tx, tenant_id: uuid.UUID) -> Checkpoint | None:
    row = await tx.conn.fetchrow(
        "SELECT tenant_id, position, hash, horizon::text AS horizon, at, key_id, signature "
        "FROM audit_checkpoints WHERE tenant_id = $1 ORDER BY position DESC LIMIT 1",
        tenant_id,
    )
    return _checkpoint(row) if row else None


async def list_checkpoints(tx: Tx, tenant_id: uuid.UUID) -> list[Checkpoint]:
    rows = await tx.conn.fetch(
        "SELECT tenant_id, position, hash, horizon::text AS horizon, at, key_id, signature "
        "FROM audit_checkpoints WHERE tenant_id = $1 ORDER BY position",
        tenant_id,
    )
    return [_checkpoint(r) for r in rows]


def _checkpoint(row: asyncpg.Record) -> Checkpoint:
    return Checkpoint(
        tenant_id=row["tenant_id"],
        position=row["position"],
        hash=bytes(row["hash"]),
        horizon=int(row["horizon"]),
        at=row["at"],
        key_id=row["key_id"],
        signature=bytes(row["signature"]),
    )


# Events written since the last seal (txid at or past its horizon) by transactions that
# have all finished (below the xmin of this statement's snapshot), oldest first. The
# horizon comes from the same snapshot as the rows.
# The event columns (chain.COLUMNS) are spelled out in both queries below.
_UNSEALED = """
WITH h AS (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS x)
SELECT e.id, e.tenant_id, e.at, e.actor_account_id, e.actor_role, e.session_id,
  e.action, e.conversation_id, e.object_id, e.subject_account_id, e.detail, e.reason_ct,
  e.key_version, host(e.source) AS source, e.user_agent, e.txid::text AS txid, h.x::text AS horizon
FROM audit_events e, h
WHERE e.tenant_id = $1 AND e.txid >= $2::text::xid8 AND e.txid < h.x
  AND NOT EXISTS (SELECT 1 FROM audit_chain c WHERE c.event_id = e.id)
ORDER BY e.at, e.id
LIMIT $3
"""


async def list_unsealed(
    tx: Tx, tenant_id: uuid.UUID, *, since_horizon: int, limit: int
) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await tx.conn.fetch(
        _UNSEALED, tenant_id, str(since_horizon), limit
    )
    return rows


async def list_tenants_to_seal(tx: Tx) -> list[uuid.UUID]:
    """Organisations with events the sealer has yet to chain."""
    rows = await tx.conn.fetch(
        """
        SELECT t.id FROM tenants t
        WHERE EXISTS (
          SELECT 1 FROM audit_events e
          WHERE e.tenant_id = t.id
            AND e.txid >= coalesce((SELECT c.horizon FROM audit_checkpoints c
                                    WHERE c.tenant_id = t.id
                                    ORDER BY c.position DESC LIMIT 1), '0'::xid8)
            AND e.txid < pg_snapshot_xmin(pg_current_snapshot())
            AND NOT EXISTS (SELECT 1 FROM audit_chain ch WHERE ch.event_id = e.id))
        """
    )
    return [r["id"] for r in rows]


async def insert_links(tx: Tx, tenant_id: uuid.UUID, links: list[Link]) -> None:
    await tx.conn.execute(
        "INSERT INTO audit_chain (tenant_id, position, event_id, prev_hash, hash) "
        "SELECT $1, * FROM unnest($2::bigint[], $3::uuid[], $4::bytea[], $5::bytea[])",
        tenant_id,
        [x.position for x in links],
        [x.event_id for x in links],
        [x.prev_hash for x in links],
        [x.hash for x in links],
    )


async def insert_checkpoint(tx: Tx, cp: Checkpoint) -> None:
    await tx.conn.execute(
        "INSERT INTO audit_checkpoints (tenant_id, position, hash, horizon, at, key_id, "
        "signature) VALUES ($1, $2, $3, $4::text::xid8, $5, $6, $7)",
        cp.tenant_id,
        cp.position,
        cp.hash,
        str(cp.horizon),
        cp.at,
        cp.key_id,
        cp.signature,
    )


async def list_chain(
    tx: Tx, tenant_id: uuid.UUID, *, after_position: int, limit: int
) -> list[asyncpg.Record]:
    """Chain entries after `after_position` with their events (NULL columns: removed)."""
    rows: list[asyncpg.Record] = await tx.conn.fetch(
        """
        SELECT c.position, c.event_id AS chained_id, c.prev_hash, c.hash,
          e.id, e.tenant_id, e.at, e.actor_account_id, e.actor_role, e.session_id,
          e.action, e.conversation_id, e.object_id, e.subject_account_id, e.detail, e.reason_ct,
          e.key_version, host(e.source) AS source, e.user_agent, e.txid::text AS txid
        FROM audit_chain c LEFT JOIN audit_events e ON e.id = c.event_id
        WHERE c.tenant_id = $1 AND c.position > $2
        ORDER BY c.position LIMIT $3
        """,
        tenant_id,
        after_position,
        limit,
    )
    return rows


async def get_chain_bounds(tx: Tx, tenant_id: uuid.UUID) -> tuple[int | None, int, int]:
    """The chain's first and last positions and the last signed one, read in one
    statement (one snapshot: the sealer writes an entry and its checkpoint together)."""
    row = await tx.conn.fetchrow(
        "SELECT (SELECT min(position) FROM audit_chain WHERE tenant_id = $1) AS start, "
        "(SELECT coalesce(max(position), 0) FROM audit_chain WHERE tenant_id = $1) AS tip, "
        "(SELECT coalesce(max(position), 0) FROM audit_checkpoints WHERE tenant_id = $1) "
        "AS signed",
        tenant_id,
    )
    assert row is not None
    return row["start"], row["tip"], row["signed"]


async def list_unchained_before(
    tx: Tx, tenant_id: uuid.UUID, *, horizon: int, limit: int
) -> list[asyncpg.Record]:
    """Events no seal took though their transaction was over before the last one:
    written behind the sealer's back."""
    rows: list[asyncpg.Record] = await tx.conn.fetch(
        """
        SELECT e.id, e.at FROM audit_events e
        WHERE e.tenant_id = $1 AND e.txid < $2::text::xid8
          AND NOT EXISTS (SELECT 1 FROM audit_chain c WHERE c.event_id = e.id)
        ORDER BY e.at, e.id LIMIT $3
        """,
        tenant_id,
        str(horizon),
        limit,
    )
    return rows


async def list_tenants(tx: Tx, slug: str | None) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await tx.conn.fetch(
        "SELECT id, slug FROM tenants WHERE $1::text IS NULL OR slug = $1 ORDER BY slug", slug
    )
    return rows


async def prune(tx: Tx, tenant_id: uuid.UUID, keep_days: int) -> tuple[int, int]:
    row = await tx.conn.fetchrow("SELECT * FROM cl_audit_prune($1, $2)", tenant_id, keep_days)
    assert row is not None
    return int(row["removed"]), int(row["anchor"])
