"""SQL for notification preferences: a person's own choices in one organisation and the
organisation's defaults per audience (migration 0012)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from careline.db.tx import Tx

# Every choice column, in the order the writes below take them.
COLUMNS = ("push", "email", "digest", "quiet_hours", "quiet_start", "quiet_end", "time_zone")


async def get_member_choices(tx: Tx, tenant_id: uuid.UUID, account_id: uuid.UUID) -> Any:
    """The member's role, the organisation's time zone, their own columns and their
    audience's default columns (as d_<column>); None if not an enabled member."""
    return await tx.conn.fetchrow(
        """
        SELECT m.role, t.time_zone AS tenant_zone,
               p.push, p.email, p.digest, p.quiet_hours, p.quiet_start, p.quiet_end,
               p.time_zone,
               d.push AS d_push, d.email AS d_email, d.digest AS d_digest,
               d.quiet_hours AS d_quiet_hours, d.quiet_start AS d_quiet_start,
               d.quiet_end AS d_quiet_end, d.time_zone AS d_time_zone
        FROM memberships m
        JOIN tenants t ON t.id = m.tenant_id
        LEFT JOIN notification_preferences p
          ON p.tenant_id = m.tenant_id AND p.account_id = m.account_id
        LEFT JOIN notification_defaults d ON d.tenant_id = m.tenant_id
          AND d.audience = CASE WHEN m.role IN ('admin', 'staff') THEN 'staff' ELSE 'clients' END
        WHERE m.tenant_id = $1 AND m.account_id = $2 AND m.disabled_at IS NULL
        """,
        tenant_id,
        account_id,
    )


async def upsert_own(
    tx: Tx, tenant_id: uuid.UUID, account_id: uuid.UUID, values: dict[str, Any]
) -> None:
    """Write all of a person's choice columns (None: follow the organisation)."""
    await tx.conn.execute(
        """
        INSERT INTO notification_preferences
          (tenant_id, account_id, push, email, digest, quiet_hours, quiet_start, quiet_end,
           time_zone)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        ON CONFLICT (tenant_id, account_id) DO UPDATE SET
          push = EXCLUDED.push, email = EXCLUDED.email, digest = EXCLUDED.digest,
          quiet_hours = EXCLUDED.quiet_hours, quiet_start = EXCLUDED.quiet_start,
          quiet_end = EXCLUDED.quiet_end, time_zone = EXCLUDED.time_zone, updated_at = now()
        """,
        tenant_id,
        account_id,
        *(values[c] for c in COLUMNS),
    )


async def get_tenant_zone(tx: Tx, tenant_id: uuid.UUID) -> str | None:
    zone: str | None = await tx.conn.fetchval(
        "SELECT time_zone FROM tenants WHERE id = $1", tenant_id
    )
    return zone


async def list_defaults(tx: Tx, tenant_id: uuid.UUID) -> dict[str, Any]:
    """The organisation's default rows, by audience (an audience without one is absent)."""
    rows = await tx.conn.fetch(
        "SELECT audience, push, email, digest, quiet_hours, quiet_start, quiet_end, time_zone, "
        "updated_at FROM notification_defaults WHERE tenant_id = $1",
        tenant_id,
    )
    return {r["audience"]: r for r in rows}


async def upsert_defaults(
    tx: Tx, tenant_id: uuid.UUID, audience: str, values: dict[str, Any]
) -> dt.datetime:
    updated: dt.datetime = await tx.conn.fetchval(
        """
        INSERT INTO notification_defaults
          (tenant_id, audience, push, email, digest, quiet_hours, quiet_start, quiet_end,
           time_zone)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        ON CONFLICT (tenant_id, audience) DO UPDATE SET
          push = EXCLUDED.push, email = EXCLUDED.email, digest = EXCLUDED.digest,
          quiet_hours = EXCLUDED.quiet_hours, quiet_start = EXCLUDED.quiet_start,
          quiet_end = EXCLUDED.quiet_end, time_zone = EXCLUDED.time_zone, updated_at = now()
        RETURNING updated_at
        """,
        tenant_id,
        audience,
        *(values[c] for c in COLUMNS),
    )
    return updated
